"""Webhook payloads (generic, Slack, Mattermost, Telegram sendMessage) and their signature. Pure.

Signature (Stripe-style): header `X-Careline-Signature: t=<unix seconds>,v1=<hex>` where hex is
HMAC-SHA256(secret, f"{t}." + body). A receiver recomputes it, rejects a timestamp outside its
tolerance (a replay of an old request), and drops a repeated `Idempotency-Key` (a re-send
after a crash carries the same key).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
from datetime import datetime
from typing import Any

from shared.case_ref import case_ref
from shared.contracts import SendNotification

from .domain import Rendered

SIGNATURE_HEADER = "X-Careline-Signature"
TIMESTAMP_HEADER = "X-Careline-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300
TELEGRAM_LIMIT = 4096
SLACK_SECTION_LIMIT = 3000


class SignatureError(ValueError):
    """The request is not signed by us, or it is too old (or too new) to be accepted."""


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats only these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(
    fmt: str, cmd: SendNotification, rendered: Rendered, chat_id: str | None = None
) -> dict[str, Any]:
    """The JSON body for a webhook of format `fmt`."""
    subject, text = rendered.subject, rendered.body.strip()
    if fmt == "slack":
        body = _slack_escape(text)
        return {
            "text": f"*{_slack_escape(subject)}*\n{body}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": body[:SLACK_SECTION_LIMIT]},
                },
            ],
        }
    if fmt == "mattermost":
        return {
            "text": f"#### {subject}\n{text}",
            "username": "Careline",
            "props": {"careline_notification_id": str(cmd.notification_id)},
        }
    if fmt == "telegram":
        if not chat_id:
            raise ValueError("a telegram webhook needs a chat_id")
        message = f"<b>{html.escape(subject)}</b>\n{html.escape(text)}"
        if len(message) > TELEGRAM_LIMIT:
            message = message[: TELEGRAM_LIMIT - 1] + "…"
        return {
            "chat_id": chat_id,
            "text": message,
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
    return {
        "notification_id": str(cmd.notification_id),
        "message_id": str(cmd.message_id),
        "escalation_id": str(cmd.escalation_id) if cmd.escalation_id else None,
        # What the people behind the receiver read and type (a ticket's title, a search).
        "case_ref": case_ref(cmd.escalation_id) if cmd.escalation_id else None,
        "kind": cmd.kind,
        "severity": cmd.severity,
        "language": cmd.language,
        "recipient_role": cmd.recipient_role,
        "subject": subject,
        "text": text,
        # `subject` and `text` are the notice as its readers read it (the email and the chat
        # formats carry the same): a ticket's title and body, read by the same people, and
        # the contacts on file there are what they reach the client by. `data` is for the
        # receiver's machinery (see _FOR_RECEIVERS).
        "data": for_receivers(cmd.data),
    }


# What a generic receiver gets of a notice's data. A ticket system or a bot maps these
# fields into its own records, indexes and reports, kept beyond our retention and copied
# onwards; so only what routes a ticket, says how urgent it is and by when, why it fired,
# and links it back here by id. An allow-list: a field the escalator adds stays here until
# someone decides a receiver needs it.
_FOR_RECEIVERS = frozenset(
    {
        # Ids to look the rest up here (the CRM's customer, the case, a confirmation, a mail).
        "escalation_id",
        "customer_id",
        "confirmation_id",
        "client_notification_id",
        "escalations",  # a digest's escalations (each kept as this list says) or their ids
        # What it is and who has it.
        "kind",
        "kinds",
        "rule",
        "severity",
        "level",
        "change",
        "roles",
        "previous_roles",
        "holders",
        "channel",
        "client_language",
        "customer_tier",
        "identity_status",
        "identity_confidence",
        "why",  # a client mail undelivered: the code staff read in words
        # By when, and what stands meanwhile.
        "ack_deadline",
        "overdue_since",
        "received_at",
        "hold",
        "answer_held",  # confirmation id, expiry, kinds: no address
        # Why: the rule's reason and conditions, and the signals with the client's words that
        # fired them. The words stay: they are what the ticket is about, what its people
        # triage and search by, and a few words, not the message.
        "reason",
        "conditions",
        "condition_items",
        "signals",
        "words",
        "playbook",
        "playbook_client",
        # What was written to the client automatically: kinds and ids (addresses below).
        "client_contacts_sent",
    }
)
# Left out, among others: the fact pack (the client's registered contacts, the account
# manager's address, contracts, recent messages of other cases), the sender (address, phone,
# handle), the whole message and its subject, the identity evidence (contact names,
# addresses), the customer's name (a sole trader's is a person's), an identity alert's
# addresses and what the contact said, a digest's acknowledge links (each works once) and
# confirmation codes. The people behind the receiver read the notice itself in `text`.
_ADDRESS_KEYS = frozenset({"recipient", "address", "email", "phone", "handle"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@\w{3,}")
_PHONE = re.compile(
    r"(?<![\w:+.-])(?:\+\d[\d\s().-]{7,}\d"
    r"|(?:\d{1,3}[\s.-]?)?\(?\d{3,4}\)?[\s.-]?\d{2,3}[\s.-]?\d{2}[\s.-]?\d{2})(?![\w:])"
)


def for_receivers(data: dict[str, Any]) -> dict[str, Any]:
    """A notice's data for a generic receiver: the fields of `_FOR_RECEIVERS`, without a
    contact's address anywhere in them. `client_contacts_sent.to` keeps each mail's ids,
    role, kind(s), severity, zone and channel kind (what an integration needs to follow it;
    the ids find the row here) without `recipient`, which the notifier keeps in its own
    request (its rate-limit foresight weighs the client's mail by it). Free text (the reason,
    the conditions, the client's words) is masked, not parsed: the escalator writes a
    confirmed sender's address into a condition, and a client may write theirs into a
    sentence that fired a signal."""
    kept = {k: v for k, v in data.items() if k in _FOR_RECEIVERS}
    digest = kept.get("escalations")
    if isinstance(digest, list):
        kept["escalations"] = [for_receivers(e) if isinstance(e, dict) else e for e in digest]
    return _without_addresses(kept)


def _without_addresses(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_addresses(v) for k, v in value.items() if k not in _ADDRESS_KEYS}
    if isinstance(value, list):
        return [_without_addresses(v) for v in value]
    if isinstance(value, str):
        return masked(value)
    return value


def masked(text: str) -> str:
    """`text` with email addresses, handles and phone numbers replaced by what they are."""
    text = _EMAIL.sub("[email]", text)
    text = _HANDLE.sub("[handle]", text)
    return _PHONE.sub("[phone]", text)


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def signed_headers(
    secret: str | None, body: bytes, now: datetime, idempotency_key: str
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        IDEMPOTENCY_HEADER: idempotency_key,
        TIMESTAMP_HEADER: str(timestamp),
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body, timestamp)
    return headers


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check a signature header; return its timestamp. Raise SignatureError if it fails."""
    if not header:
        raise SignatureError("no signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError("malformed signature header") from exc
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance: a replay or a wrong clock")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature mismatch")
    return timestamp
