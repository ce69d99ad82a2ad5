"""A client mail that a staff notice said was written, and that did not reach the client. Pure.

The staff notice of a message says what it wrote to the client automatically (the
escalator's `client_contacts_sent`; client_waits.py says when a mail waits). The notice is
accepted before the client's mail, which may then be refused (no verified address, a
revoked one, a template that cannot render), withdrawn (a confirmation denied or expired,
staff taking the address back) or fail for good (the client's server refused it, every
retry used). A manager who read "written to the client" would wait for a client who heard
nothing; so each staff notice's reader is told, once per mail, in the language they read,
why in words, the case reference, and to contact the client themselves. A mail sent after
all (a digest's part that went alone) tells nobody.

Why, as a code (`WHY`), is stored on the row where it ends (`reason_code`, migration 0025),
set by whatever ended it (why.py); its words are the staff labels'. The free-text reason
beside it (`last_error`, `withdrawn_reason`; ids only, published on `notify.failed`) is for
ops and never shown to staff: an SMTP reply may quote the client's address. A row that
ended before the code was stored is read from its reason's words (`why_of_words`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from shared.contracts import SendNotification, derived_id

from .scheduling import is_client

FOLLOW_UP_KIND = "client_mail_undelivered"
# A client row in one of these never goes (adapters.FINAL less `sent`).
UNDELIVERED = frozenset({"failed", "refused", "withdrawn"})
# Why, as a code: the words are LABELS[lang].undelivered in templates/_staff_labels.j2.
UNVERIFIED = "unverified"  # account content to an address nobody verified
REVOKED = "revoked"  # staff took the address back
DENIED = "denied"  # the registered contact said the request was not theirs
EXPIRED = "expired"  # nobody confirmed the address in time
OTHER_CHANNEL = "other_channel"  # the confirmation verified another address
CANNOT_RENDER = "cannot_render"  # no template renders it
NO_CHANNEL = "no_channel"  # no such channel or endpoint (or one a hold cannot wait on)
REFUSED_BY_SERVER = "refused_by_server"  # the client's server refused it for good
RETRIES_EXHAUSTED = "retries_exhausted"  # every retry used
FAILED = "failed"  # none of the above
WHY = (
    UNVERIFIED,
    REVOKED,
    DENIED,
    EXPIRED,
    OTHER_CHANNEL,
    CANNOT_RENDER,
    NO_CHANNEL,
    REFUSED_BY_SERVER,
    RETRIES_EXHAUSTED,
    FAILED,
)
# Rows ended before 0025 carry no code: read on their reasons' own words, first match wins
# (revoked before "confirmation"). Never extended: new reasons come with their code.
_WHY_BY_WORDS: tuple[tuple[str, str], ...] = (
    ("unverified address", UNVERIFIED),
    ("staff took back confirmation", REVOKED),
    ("was not theirs", DENIED),
    ("nobody confirmed", EXPIRED),
    ("verified another channel", OTHER_CHANNEL),
    ("cannot render", CANNOT_RENDER),
    ("no such webhook", NO_CHANNEL),
    ("no webhook endpoint", NO_CHANNEL),
    ("channel is configured", NO_CHANNEL),
    ("only an email answer", NO_CHANNEL),
    ("smtp refused", REFUSED_BY_SERVER),
    ("webhook refused", REFUSED_BY_SERVER),
    ("gave up after", RETRIES_EXHAUSTED),
)


def why_undelivered(code: str | None, reason: str | None) -> str:
    """Why a mail did not go: the code its row carries; a row of before the code (or with
    one this notifier does not know) from its reason's words."""
    return code if code in WHY else why_of_words(reason)


def why_of_words(reason: str | None) -> str:
    """The code of a reason written before codes were stored; "failed" when unknown."""
    text = (reason or "").lower()
    return next((code for words, code in _WHY_BY_WORDS if words in text), FAILED)


def is_undelivered_client_mail(cmd: SendNotification, status: str) -> bool:
    return status in UNDELIVERED and is_client(cmd.recipient_role)


def mail_ids(cmd: SendNotification) -> frozenset[uuid.UUID]:
    return frozenset({cmd.notification_id, *(p.notification_id for p in cmd.parts)})


def told_of(staff: SendNotification, mail: uuid.UUID) -> tuple[str, ...] | None:
    """The ids (in the escalator's order, the mail's own first) of the entry of `staff`'s
    `client_contacts_sent.to` that names the client mail `mail`; None when none does."""
    sent = staff.data.get("client_contacts_sent")
    for entry in sent.get("to") or [] if isinstance(sent, dict) else []:
        ids = tuple(str(i) for i in entry.get("ids") or [])
        if str(mail) in ids:
            return ids
    return None


def follow_ups(
    mail: SendNotification,
    why: str,
    told: Sequence[SendNotification],
    going: Collection[uuid.UUID],
    now: datetime,
    thread_of: Callable[[SendNotification], str | None] = lambda _: None,
) -> list[SendNotification]:
    """What each reader of a staff notice in `told` that said `mail` was written is told now
    that it ended undelivered (`why`, a code of WHY): one per mail and reader (its id
    derives from both, so a second notice to the same person, or the same failure handled
    again, adds nothing). None when another id of the mail is in `going` (sent, or still to go).
    `thread_of`: the staff notice's Message-ID, so the follow-up answers in its thread."""
    made: dict[uuid.UUID, SendNotification] = {}
    for staff in told:
        ids = told_of(staff, mail.notification_id)
        if ids is None or any(str(i) in ids for i in going):
            continue
        follow_up = _follow_up(staff, mail, why, ids[0], now, thread_of(staff))
        made.setdefault(follow_up.notification_id, follow_up)
    return list(made.values())


def _follow_up(
    staff: SendNotification,
    mail: SendNotification,
    why: str,
    mail_key: str,
    now: datetime,
    thread: str | None,
) -> SendNotification:
    parts = (FOLLOW_UP_KIND, mail_key, staff.channel, staff.recipient.strip().lower())
    escalations = [mail.escalation_id, *(p.escalation_id for p in mail.parts)]
    data: dict[str, Any] = {
        "kinds": list(dict.fromkeys(p.kind for p in mail.parts)) or [mail.kind],
        "why": why,
        "escalations": [str(e) for e in dict.fromkeys(escalations) if e is not None],
        "customer": staff.data.get("customer"),
        # Ids only: whoever follows it finds the rows; the client's address stays out.
        "client_notification_id": str(mail.notification_id),
    }
    return staff.model_copy(
        update={
            "event_id": derived_id("notify-request", *parts),
            "notification_id": derived_id("notification", *parts),
            "occurred_at": now,
            "kind": FOLLOW_UP_KIND,
            "escalation_id": mail.escalation_id,
            "data": data,
            "reply_to_external_id": thread,
            "held_for_confirmation": None,
            "parts": [],
        }
    )
