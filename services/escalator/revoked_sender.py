"""A message the verifier passed before a revoke that the escalator handles after it. Pure.

Seed 000, taken back: the verifier and the escalator consume apart, and the escalator may
lag. A message from the confirmed address the verifier passed as the client's verified
channel just before `careline crm revoke` still says so when the escalator gets to it after
the revoke (revocations.py), and no case of it was there for the revoke to take back: it would
open or join a case as the client, and a promise to the client would wait at the address,
where the notifier now refuses account content (services/notifier/revoked.py), so nobody
would hear of the delay.

The escalator keeps the revokes it handled (`RevokedAddress`, one per customer and address:
the latest). A verified message of that address whose identity was decided (the verifier's
`occurred_at`, as `notifications.decided_on`) at or before the revoke is handled as the
revoke left it: its sender disowned by staff (`as_disowned`), before anything reads its
identity (the policy, the fact pack, placement, the promise, the notices). A message decided
after the revoke is not touched: whatever verified the address said so since.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import Evidence, IdentityVerified

from .policy_rules import address_key
from .revocation import CONFIDENCE_REVOKED, EVIDENCE_REVOKED

# What the verifier said of the sender's channel on the word taken back: not said again.
STALE_EVIDENCE = frozenset({"verified_channel", "confirmed_by_contact"})


@dataclass(frozen=True)
class RevokedAddress:
    """The latest revoke of a customer's address the escalator handled."""

    customer_id: str
    address: str  # address_key
    confirmation_id: uuid.UUID
    by: str
    at: datetime


def sender_keys(verified: IdentityVerified) -> list[tuple[str, str]]:
    """(customer, address key) a revoke of which may concern this message: a verified one of
    a customer, by each of the sender's addresses; none for any other (a probable sender's
    revoke reaches its cases through their confirmation; a suspicious one is said so)."""
    identity, sender = verified.identity, verified.message.sender
    if identity.status != "verified" or identity.customer is None:
        return []
    found = (sender.email, sender.phone, sender.handle)
    return [(identity.customer.id, address_key(a)) for a in found if a and a.strip()]


def revoked_since_decided(
    verified: IdentityVerified, revoked: Mapping[tuple[str, str], RevokedAddress]
) -> RevokedAddress | None:
    """The revoke of the sender's address made at or after the message's identity was decided
    (`revoked`: those on file, by customer and address key), if any."""
    for key in sender_keys(verified):
        found = revoked.get(key)
        if found is not None and found.at >= verified.occurred_at:
            return found
    return None


def as_disowned(verified: IdentityVerified, revoke: RevokedAddress) -> IdentityVerified:
    """The message as the revoke left its sender (as `revocation.as_revoked` leaves an open
    case's): suspicious, disowned by staff, who and when first among the evidence; what the
    verifier said of the address on the confirmation's word left out; the address no longer
    among the client's channels, so a promise is made at the registered contact and the fact
    pack lists that one; nothing of the account disclosed to the sender."""
    identity = verified.identity
    customer = identity.customer
    detail = (
        f"staff ({revoke.by}) took back the confirmation of this address on {revoke.at:%Y-%m-%d}"
    )
    values = {"by": revoke.by, "revoked_at": f"{revoke.at:%Y-%m-%d}"}
    if customer is not None:
        values |= {"customer_id": customer.id, "customer_name": customer.name}
    said = Evidence(
        kind=EVIDENCE_REVOKED,
        detail=detail,
        weight=round(CONFIDENCE_REVOKED - identity.confidence, 4),
        source="crm.revocations",
        customer_id=revoke.customer_id,
        values=values,
    )
    kept = [e for e in identity.evidence if e.kind not in STALE_EVIDENCE]
    channels = [c for c in identity.authorized_channels if address_key(c.address) != revoke.address]
    disowned = identity.model_copy(
        update={
            "status": "suspicious",
            "confidence": CONFIDENCE_REVOKED,
            "disclosure": "none",
            "authorized_channels": channels,
            "evidence": [said, *kept],
        }
    )
    return verified.model_copy(update={"identity": disowned})
