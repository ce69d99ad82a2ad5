"""The email a notification becomes: multipart text + HTML, UTF-8 headers, threading. Pure.

Everything in it derives from the notification and its creation time, so a re-send after a
crash is the same message: same Message-ID, same Date, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from shared.contracts import SendNotification

from .domain import Rendered, notification_message_id
from .scheduling import is_client

# Proactive, informational client mail a client may opt out of. Confirmation requests,
# explanations and billing answers are transactional: they carry no unsubscribe link.
UNSUBSCRIBABLE = frozenset({"service_failure_notice"})


@dataclass(frozen=True)
class Unsubscribe:
    mailto: str | None = None
    url: str | None = None  # one-click (RFC 8058) when set


def _angle(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def unsubscribe_headers(cmd: SendNotification, where: Unsubscribe) -> dict[str, str]:
    if cmd.kind not in UNSUBSCRIBABLE or not is_client(cmd.recipient_role):
        return {}
    targets = []
    if where.url:
        sep = "&" if "?" in where.url else "?"
        targets.append(f"<{where.url}{sep}n={cmd.notification_id}>")
    if where.mailto:
        targets.append(f"<mailto:{where.mailto}?subject=unsubscribe%20{cmd.notification_id}>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if where.url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def build_email(
    cmd: SendNotification,
    rendered: Rendered,
    mail_from: str,
    *,
    created_at: datetime,
    message_id_domain: str = "careline.local",
    unsubscribe: Unsubscribe = Unsubscribe(),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = cmd.recipient
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(created_at.astimezone(UTC), usegmt=True)
    msg["Message-ID"] = notification_message_id(cmd, message_id_domain)
    if cmd.reply_to_external_id:
        # A reply to the client's own message threads with it in their mail client.
        msg["In-Reply-To"] = _angle(cmd.reply_to_external_id)
        msg["References"] = _angle(cmd.reply_to_external_id)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Careline-Kind"] = cmd.kind
    msg["X-Careline-Notification-Id"] = str(cmd.notification_id)
    for name, value in unsubscribe_headers(cmd, unsubscribe).items():
        msg[name] = value
    msg.set_content(rendered.body, charset="utf-8")
    if rendered.html:
        msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
        # A fixed boundary keeps a re-send byte-identical to the first send.
        msg.set_boundary(f"=_careline_{cmd.notification_id.hex}")
    # After the content: setting content clears every Content-* header.
    msg["Content-Language"] = cmd.language if cmd.language != "unknown" else "en"
    return msg
