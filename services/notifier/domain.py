"""What to send and whether it may be sent. Pure functions over the SendNotification command.

Each kind has, per language, `{kind}.{lang}.txt.j2` (first line: the subject; then the plain
text) and `{kind}.{lang}.html.j2` (the HTML part, autoescaped). A missing translation falls
back to English with a visible note, never to an empty message.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_location
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from shared.case_ref import case_ref_said
from shared.contracts import SendNotification
from shared.staff_names import staff_names

from .figures import percent
from .reasons import named, reason_said

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"
LANGUAGES = ("ru", "uk", "en")

# What staff notices may go without: the client-language playbook, the hold, the fact pack,
# the answer held for a confirmation, the client contacts a hold withheld.
_STAFF_EXTRAS: dict[str, Any] = {
    "playbook_client": None,
    "client_language": None,
    "hold": None,
    "fact_pack": None,
    "stand_in_for": None,
    # Whom a hold spares that the reader is told in place of, and in which case (the
    # escalator's passed_over.py); requests of before: nobody.
    "passed_over": [],
    "answer_held": None,
    "client_contacts_withheld": None,
    "client_reply_by": None,
    "client_promised": None,  # what it promised (escalator: promised_what); before, unsaid
    "team_timezone": None,  # the team's clock for its times; requests of before: UTC
    "subject_holds": None,  # holds on the client's other escalations
    "unwarned": None,  # the escalation whose rule warns, when no conduct notice could go
    "client_contacts_sent": None,  # what the message wrote to the client automatically
}
# What a legal notice adds: the client's own words, the sender, when, the tier.
_LEGAL_EXTRAS: dict[str, Any] = {
    "message_text": "",
    "message_text_left_out": 0,  # characters of a huge message not quoted (QUOTED_CHARS)
    "received_at": None,
    "sender": {},
    "customer_tier": None,
}
# What a staff notice's reason is said from (the `why` of its templates).
WHY = ("reason", "rule", "signals", "condition_items", "change_items")
# Template variables a kind may go without (older requests, identities without a loop).
OPTIONAL_DATA: dict[str, dict[str, Any]] = {
    "manager_escalation": _STAFF_EXTRAS,
    "identity_confirmation": {
        "sender_address": None,
        "files_under": None,
        "confirmation_code": None,
        "confirmation_url": None,
        "confirmation_expires_at": None,
        "sender_by_email": True,  # requests from before it was sent: email senders
        # What the sender asked that impostors ask (payment_details): said plainly.
        "asks": [],
    },
    # The promised answer: requests from before it was sent promised the ack deadline.
    # `in_digest`: rendered as a section of a client digest (no greeting, no signature).
    "service_failure_notice": {
        "account_manager": None,
        "reply_by": None,
        "problems": [],
        "in_digest": False,
    },
    # An outage report's acknowledgement: the client's words of it, the promised answer.
    "outage_report_ack": {
        "account_manager": None,
        "reply_by": None,
        "problems": [],
        "in_digest": False,
        "sender_address": None,
        "sender_by_email": True,
    },
    "billing_dispute_ack": {
        "in_digest": False,
        "account_manager": None,
        "sender_address": None,
        "references": [],
        "invoices": [],  # requests of before: the references said as documents
        "reply_by": None,
    },
    # A demand's acknowledgement (a free service, compensation): what it is about (None:
    # "your request"), the client's words of it (none to a registered owner of a sender
    # not confirmed), the promised answer.
    "request_ack": {
        "in_digest": False,
        "account_manager": None,
        "sender_address": None,
        "sender_by_email": True,
        "asked_for": None,
        "claims": [],
        "reply_by": None,
    },
    "legal_notice": {**_STAFF_EXTRAS, **_LEGAL_EXTRAS},
    "conduct_notice": {"subject": "", "paused": False, "escalation_id": None},
    # A threat naming a staff member, told to them (the escalator's threatened.py).
    "staff_threatened": {
        "customer": None,
        "subject": "",
        "by": "name",
        "signals": [],
        "words": [],
        "holders": [],
        "received_at": None,
        "team_timezone": None,
    },
    "stranger_explanation": {"subject": ""},
    # A panicking client's acknowledgement: within how many minutes a specialist calls
    # (None: "shortly"), and whether the sender is one we could not match to a client.
    "panic_ack": {
        "subject": "",
        "escalation_id": None,
        "within_minutes": None,
        "unknown_sender": False,
    },
    # A new date after a missed promise: who has the case now is said when it climbed.
    "promise_delay_notice": {"account_manager": None, "senior": False, "about": "failure"},
    "re_escalation": {
        **_STAFF_EXTRAS,
        "previous_roles": [],
        "overdue_since": None,
        "promise_missed": None,  # climbed because the promise to the client passed
        "client_told": False,  # and Careline told the client so, with a new date
    },
    # A digest has the legal extras when one of the person's roles is legal.
    "staff_digest": {**_STAFF_EXTRAS, **_LEGAL_EXTRAS, "subject": None},
    # What one message wrote, its sections the answers of each escalation (`parts`).
    "client_digest": {"subject": "", "sender_address": None, "channel": "email", "parts": []},
    "confirmation_receipt": {"subject": "", "sender_address": None, "sender_by_email": True},
    # A staff alert about who is speaking: the code when said, the reader standing in for
    # the account manager (none on file); `occasion` "revoked": staff took the address
    # back, told to the holders of the cases it touched (the escalator's revocation.py).
    # A client mail a staff notice said was written did not reach the client (undelivered.py).
    "client_mail_undelivered": {"customer": None, "escalations": [], "team_timezone": None},
    "identity_alert": {
        "confirmation_code": None,
        "stand_in_for": None,
        "passed_over": [],
        "subject": "",
        "answered_by": None,
        "occasion": "disowned",
        "registered": [],
        "cases": [],
    },
}


class DisclosureRefused(Exception):
    """Account content addressed to an unverified recipient: never sent."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: str
    fallback_from: str | None  # the language asked for, when its template was missing
    html: str | None = None


def check_disclosure(cmd: SendNotification) -> None:
    if cmd.content_class == "account" and not cmd.recipient_verified:
        raise DisclosureRefused(
            f"notification {cmd.notification_id}: account content to an unverified address"
        )


def _moment(value: object) -> datetime | str:
    """An ISO timestamp of a notice's data; what is not one, as it is ("" for none)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)


def _zone(name: object) -> ZoneInfo | None:
    """The zone of that name, None for one this machine does not know (or no name)."""
    return _named_zone(name) if isinstance(name, str) and name else None


@lru_cache(maxsize=64)
def _named_zone(name: str) -> ZoneInfo | None:
    # Looked up once: a miss searches the zone path and the tzdata package every time.
    with suppress(ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(name)
    return None


@pass_context
def _when(context: Context, value: object, zone: str | None = None) -> str:
    """An ISO timestamp as staff read it: 2025-03-14 10:30 UTC; on the team's clock when
    the notice says which (`team_timezone`: 2025-03-14 13:30 MSK), on its reader's own when
    the CRM gives one (`reader_timezone`: 2025-03-14 10:30 GMT for London), or on `zone`'s,
    else as stored (UTC). Clients read theirs in words (`client_when`)."""
    zone = zone or context.get("reader_timezone") or context.get("team_timezone")
    moment = _moment(value)
    if isinstance(moment, str):
        return moment
    known = _zone(zone)
    if known is not None and moment.tzinfo is not None:
        # A zone this machine does not know: the stored time, with its own name.
        moment = moment.astimezone(known)
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "UTC")


@pass_context
def _client_when(context: Context, value: object) -> str:
    """An ISO timestamp as a client reads it, on his clock and in his language, with the
    month named and the zone's city (Babel's CLDR data): "7 декабря 2026 г., 05:37 (Москва)",
    "7 грудня 2026 р., 04:37 (Київ)", "December 6, 2026, 9:37 PM (New York)". Without a
    zone of his on file, UTC."""
    moment = _moment(value)
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    locale = context.get("notice_language") or FALLBACK_LANGUAGE
    zone = _zone(context.get("recipient_timezone"))
    if zone is None or zone.key in ("UTC", "Etc/UTC"):
        local, named = moment.astimezone(UTC), "UTC"
    else:
        # The zone's city, as in an event listing ("15:13 (Киев)"): CLDR's generic zone
        # names are uneven ("Москва" but "Восточная Европа", "British Time").
        city = get_timezone_location(zone, locale=locale, return_city=True)
        local, named = moment.astimezone(zone), city
    said = f"{format_date(local, 'long', locale=locale)}, "
    said += f"{format_time(local, 'short', locale=locale)} ({named})"
    # CLDR's narrow no-break spaces ("2025 г.", "3:13 PM") are not in every mail font.
    return said.replace("\u202f", " ").replace("\u00a0", " ")


# The denials a registered contact made: said without the contact when the verifier did
# not know who replied (the phrase would miss its name, and the English detail be shown).
_DENIED_BY_CONTACT = frozenset({"denied_before", "denied_recently"})


def evidence_phrase_key(kind: str, values: dict[str, str]) -> str:
    """The phrase an evidence item is said with (_staff_labels.j2 EVIDENCE): its kind, and
    the variant its values ask for (a check that failed; a verified or unverified phone; a
    denial whose contact is not known)."""
    if kind in _DENIED_BY_CONTACT and not (values.get("contact_id") or values.get("contact_name")):
        return f"{kind}_anonymous"
    key = kind + ("_failed" if values.get("failed") else "")
    return key + (f"_{values['state']}" if values.get("state") else "")


def _evidence_said(item: object, phrases: dict[str, str], words: dict[str, str]) -> str:
    """An identity evidence item in the notice's language: its kind's phrase (variant by
    `failed` and `state`) filled with its values, a channel's or a document's id by its
    word, the contact and the customer (`%(contact)s`, `%(customer)s`) by the CRM's name
    the verifier gave, else by id; its own detail when it is a plain string (a request of
    before), has no phrase, or lacks a value the phrase names."""
    if not isinstance(item, dict):
        return str(item)
    values = dict(item.get("values") or {})
    for name in ("channel", "document"):
        if name in values:
            values[name] = words.get(values[name], values[name])
    for name in ("contact", "customer"):
        # Items of before carry ids only; a name the CRM lacks is not given either.
        said = values.get(f"{name}_name") or values.get(f"{name}_id")
        if said:
            values[name] = said
    phrase = phrases.get(evidence_phrase_key(str(item.get("kind", "")), values))
    detail = str(item.get("detail", ""))
    if not phrase:
        return detail
    try:
        return phrase % values
    except (KeyError, TypeError, ValueError):
        return detail


def _channel_said(channel: object, words: dict[str, str]) -> str:
    """A client's channel on file as staff read it: "телефон +7 912 …", "email a@b.ru"."""
    if not isinstance(channel, dict):
        return str(channel)
    kind = str(channel.get("kind", ""))
    return f"{words.get(kind, kind)} {channel.get('address', '')}".strip()


@pass_context
def _within_minutes(context: Context, minutes: object) -> str:
    """ "within N minutes" in the notice's language, the noun as the number wants it after
    «в течение» / «протягом» (the genitive: «1 минуты», «21 минуты», «10 минут»)."""
    n = int(str(minutes))
    language = context.get("notice_language") or FALLBACK_LANGUAGE
    one = n % 10 == 1 and n % 100 != 11
    if language == "ru":
        return f"в течение {n} {'минуты' if one else 'минут'}"
    if language == "uk":
        return f"протягом {n} {'хвилини' if one else 'хвилин'}"
    return f"within {n} {'minute' if n == 1 else 'minutes'}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # Templates ship with the code: no look at their files' times on every render.
        auto_reload=False,
    )
    env.filters["when"] = _when
    env.filters["client_when"] = _client_when
    env.filters["named"] = named
    env.filters["evidence_said"] = _evidence_said
    env.filters["percent"] = percent
    env.filters["channel_said"] = _channel_said
    env.filters["reason_said"] = reason_said
    env.filters["case_ref"] = case_ref_said
    env.filters["within_minutes"] = _within_minutes
    env.globals["STAFF_NAMES"] = staff_names()  # roles and kinds, as the escalator says them
    return env


def compile_templates() -> int:
    """Compile every template now, as a notifier starts; how many there are.

    Jinja compiles a template on its first render: 20-120 ms each (the staff labels and
    parts most), about half a second of CPU for all. Left to the first notice of each kind,
    that lands on whichever notice comes first, in the middle of a busy pass (and on the
    benchmark's measured window: up to 8 % of the notifier's samples)."""
    env = _environment()
    names = env.list_templates(extensions=["j2"])
    for name in names:
        env.get_template(name)
    return len(names)


def template_language(kind: str, language: str) -> str:
    """The language whose templates will be used: the asked one, or the fallback."""
    if f"{kind}.{language}.txt.j2" in _template_names(TEMPLATES):
        return language
    return FALLBACK_LANGUAGE


@lru_cache(maxsize=4)
def _template_names(folder: Path) -> frozenset[str]:
    return frozenset(path.name for path in folder.iterdir())


def render(cmd: SendNotification) -> Rendered:
    data = cmd.data
    if cmd.parts:  # a client digest: its sections are the parts
        data = {**data, "parts": [part.model_dump(mode="json") for part in cmd.parts]}
    return render_kind(cmd.kind, cmd.language, data, cmd.recipient_timezone)


def render_kind(
    kind: str, language: str, data: dict[str, Any], recipient_timezone: str | None = None
) -> Rendered:
    """`recipient_timezone`: a client's own zone; the times of a client's mail are written
    on his clock (`when(recipient_timezone)`), staff notices on the team's (`team_timezone`
    in their data; UTC for requests of before)."""
    env = _environment()
    chosen = template_language(kind, language)
    fallback_from = None if chosen == language else language
    context = {
        **OPTIONAL_DATA.get(kind, {}),
        **data,
        "fallback_from": fallback_from,
        "recipient_timezone": recipient_timezone,
        "notice_language": chosen,  # a client's dates are written in it (client_when)
    }
    if "reason" in context:  # a staff notice: why, said from its parts (reasons.py)
        context["why"] = {key: context.get(key) for key in WHY}
    if context.get("identity_evidence_items"):
        # The items say it in the notice's language; requests of before have details only.
        context["identity_evidence"] = context["identity_evidence_items"]
    if "parts" in context:
        context["sections"] = [
            _section(part, language, recipient_timezone) for part in context["parts"]
        ]
    name = f"{kind}.{chosen}.txt.j2"
    text = env.get_template(name).render(**context)
    subject, _, body = text.partition("\n")
    if fallback_from:
        body = f"{fallback_note(fallback_from)}\n\n{body}"
    html = None
    if f"{kind}.{chosen}.html.j2" in _template_names(TEMPLATES):
        html = env.get_template(f"{kind}.{chosen}.html.j2").render(**context)
    return Rendered(subject.strip(), body.strip() + "\n", name, fallback_from, html)


def _section(part: dict[str, Any], language: str, recipient_timezone: str | None) -> dict[str, Any]:
    """A client digest's section: the part's own notice without greeting or signature, its
    subject the section's title."""
    data = {**part["data"], "in_digest": True}
    rendered = render_kind(part["kind"], language, data, recipient_timezone)
    # Rendered by the autoescaping environment already: safe to put in the digest's HTML.
    html = Markup(rendered.html.strip()) if rendered.html else Markup("")
    return {"title": rendered.subject, "text": rendered.body.strip(), "html": html}


def fallback_note(language: str) -> str:
    return f"[translation to '{language}' missing; English version]"


def notification_message_id(cmd: SendNotification, domain: str = "careline.local") -> str:
    """Stable per notification, so a re-send after a crash can be recognised as the same mail."""
    return f"<{cmd.notification_id}@{domain}>"


def idempotency_key_of(cmd: SendNotification, domain: str = "careline.local") -> str:
    """What the receiver drops a re-send by: the Message-ID of a mail, else the id."""
    if cmd.channel == "email":
        return notification_message_id(cmd, domain)
    return str(cmd.notification_id)
