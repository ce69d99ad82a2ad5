"""Signed acknowledge links: the token's pure parts. No I/O.

A staff notification carries a link that acknowledges the escalation in one click. The
token names the escalation, the role and the address it was notified at, the language that
person reads (the notice's: its pages speak it), the link's own id (the row in
`escalator.ack_links` that makes it single-use) and an expiry; it is signed
with an HMAC under a secret only the escalator holds, so nobody can mint or alter one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

_PURPOSE = b"escalation-ack-link"


class LinkRejected(Exception):
    """A link that is not ours or was altered (`forged`), has `expired`, was never issued
    (`unknown`), or was already `used`."""

    def __init__(self, reason: str, kind: str = "forged", signed: AckClaims | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        # What an expired link of ours said: which escalation, and its reader's language.
        self.signed = signed

    @property
    def escalation_id(self) -> uuid.UUID | None:
        return self.signed.escalation_id if self.signed else None


@dataclass(frozen=True)
class AckClaims:
    link_id: uuid.UUID
    escalation_id: uuid.UUID
    role: str
    address: str
    expires_at: datetime
    # The reader's language as the notice carrying the link was written in (the policy's
    # word or the CRM's); None in links issued before it was carried.
    language: str | None = None


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + b"\x00" + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_ack_token(secret: bytes, claims: AckClaims) -> str:
    body = {
        "l": str(claims.link_id),
        "e": str(claims.escalation_id),
        "r": claims.role,
        "a": claims.address,
        "x": int(claims.expires_at.timestamp()),
    }
    if claims.language:
        body["g"] = claims.language
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_ack_token(secret: bytes, token: str, now: datetime) -> AckClaims:
    """The claims of a link we signed that has not expired; LinkRejected otherwise."""
    try:
        body, signature = token.strip().split(".")
        payload, mac = _unb64(body), _unb64(signature)
    except (ValueError, binascii.Error) as exc:
        raise LinkRejected("this is not an acknowledge link") from exc
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise LinkRejected("the link's signature does not match: it was altered or not ours")
    try:
        data = json.loads(payload)
        claims = AckClaims(
            link_id=uuid.UUID(data["l"]),
            escalation_id=uuid.UUID(data["e"]),
            role=str(data["r"]),
            address=str(data["a"]),
            expires_at=datetime.fromtimestamp(int(data["x"]), UTC),
            language=str(data["g"]) if data.get("g") else None,
        )
    except (ValueError, KeyError, TypeError) as exc:  # signed by us, so only a bug gets here
        raise LinkRejected("the link's contents are unreadable") from exc
    if now >= claims.expires_at:
        raise LinkRejected("the link has expired", kind="expired", signed=claims)
    return claims


def whole_seconds(moment: datetime) -> datetime:
    """The token carries the expiry in seconds: the stored row must agree with it."""
    return moment.replace(microsecond=0)
