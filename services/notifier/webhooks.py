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
        "data": without_client_addresses(cmd.data),
    }


def without_client_addresses(data: dict[str, Any]) -> dict[str, Any]:
    """A staff notice's data for a generic receiver (a ticket system, a bot: stored and
    indexed there, beyond our retention), without the client's raw address in
    `client_contacts_sent.to`: each mail keeps its ids, role, kind(s), severity, zone and
    channel kind, which is what a manager or an integration needs to follow it (the ids find
    the row here); the address itself is the CRM's to show. The notifier keeps the address
    in its own request (it weighs the client's rate limit by it); the other formats send
    rendered text only, which never shows it."""
    sent = data.get("client_contacts_sent")
    if not isinstance(sent, dict) or not sent.get("to"):
        return data
    to = [
        {k: v for k, v in entry.items() if k != "recipient"} if isinstance(entry, dict) else entry
        for entry in sent["to"]
    ]
    return {**data, "client_contacts_sent": {**sent, "to": to}}


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
