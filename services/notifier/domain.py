"""What to send and whether it may be sent. Pure functions over the SendNotification command."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.contracts import SendNotification

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"


class DisclosureRefused(Exception):
    """Account content addressed to an unverified recipient: never sent."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: str
    fallback_from: str | None  # the language asked for, when its template was missing


def check_disclosure(cmd: SendNotification) -> None:
    if cmd.content_class == "account" and not cmd.recipient_verified:
        raise DisclosureRefused(
            f"notification {cmd.notification_id}: account content to an unverified address"
        )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(cmd: SendNotification) -> Rendered:
    env = _environment()
    wanted = f"{cmd.kind}.{cmd.language}.txt.j2"
    name, fallback_from = wanted, None
    if not (TEMPLATES / wanted).exists():
        name, fallback_from = f"{cmd.kind}.{FALLBACK_LANGUAGE}.txt.j2", cmd.language
    text = env.get_template(name).render(**cmd.data)
    subject, _, body = text.partition("\n")
    if fallback_from:
        body = f"[translation to '{fallback_from}' missing; English version]\n\n{body}"
    return Rendered(subject.strip(), body.strip() + "\n", name, fallback_from)


def notification_message_id(cmd: SendNotification, domain: str = "careline.local") -> str:
    """Stable per notification, so a re-send after a crash can be recognised as the same mail."""
    return f"<{cmd.notification_id}@{domain}>"


def build_email(cmd: SendNotification, rendered: Rendered, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = cmd.recipient
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = notification_message_id(cmd)
    if cmd.reply_to_external_id:
        msg["In-Reply-To"] = f"<{cmd.reply_to_external_id}>"
        msg["References"] = f"<{cmd.reply_to_external_id}>"
    msg["X-Careline-Kind"] = cmd.kind
    msg["X-Careline-Notification-Id"] = str(cmd.notification_id)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.body)
    return msg
