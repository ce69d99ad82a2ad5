"""Telling the people who hold an escalation that something changed without a new rule
firing. Pure.

Three occasions: a hold ended (seed 003: the message without the threats lifts it, and the
investigation may start now); the client wrote into the open case again without a rule of
its own firing ("any news?", "still broken": the case goes on, and whoever holds it reads
it before answering); and the answer promised to the client falls due while the escalation
is still open (seed 001: support keeps its promises, or tells the client a new date before
it passes). Everyone the escalation told (the rule's roles, a climb's, a
reassignment's) hears it once per address: the escalation's briefing with what changed
and why, on the team's clock and in the language each reads, at its current level.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from shared.contracts import IdentityVerified, SendNotification

from .client_fixed import StillOwed
from .condition_facts import (
    Fact,
    client_says_fixed_fact,
    follow_up_fact,
    hold_lifted_fact,
    promise_due_fact,
    spare_lifted_fact,
)
from .facts import excerpt, sparing_over
from .lifecycle import Escalation, ack_view, address_key
from .lifecycle_steps import current_briefing, notice_to
from .notifications import about_message
from .staff_language import StaffLanguages
from .team_calendar import describe_duration

_SPAN = TypeAdapter(timedelta)  # a stored hold's calm_for ("P30D")


def hold_lifted_notices(
    e: Escalation, verified: IdentityVerified, languages: StaffLanguages, now: datetime
) -> list[SendNotification]:
    """The hold is lifted by this message: a notice to each holder, about this message (its
    sender and subject, not the opening's). A hold that only spared the staff the client's
    advances named paused nothing: its end hands the client's cases back to the manager
    (`spare_lifted`), no investigation starts."""
    hold = e.hold or {}
    change, fact = "hold_lifted", hold_lifted_fact(verified.message_id)
    if hold.get("spares_only"):
        calm_for = describe_duration(_SPAN.validate_python(hold.get("calm_for") or 0))
        over = sparing_over(hold.get("while_signals") or [])
        change, fact = "spare_lifted", spare_lifted_fact(verified.message_id, calm_for, over)
    return notices_to_holders(
        e,
        change,
        fact,
        ("hold-lifted", verified.message_id),
        (verified.message_id, verified.correlation_id),
        languages,
        now,
        about_message(verified),
    )


def follow_up_notices(
    e: Escalation,
    verified: IdentityVerified,
    facts: Mapping[str, Any],
    languages: StaffLanguages,
    now: datetime,
    says_fixed: tuple[str, bool] | None = None,
    owed: StillOwed | None = None,
) -> list[SendNotification]:
    """The client wrote into the open case again: a notice to each holder, about this
    message (who wrote it, on which channel and subject, the fact pack with it among the
    recent messages), with the start of what it says; `says_fixed`: it says the problem
    is gone (client_fixed.py: its words, and whether a promise to the client stood), and
    the holders are asked to check and resolve the case; `owed`: what the promise still
    owes (client_fixed.still_owed: it stands), else it was dropped."""
    said = excerpt(verified.message.text)
    fact = follow_up_fact(said)
    if says_fixed is not None:
        fact = client_says_fixed_fact(said, e.id, says_fixed[1], owed)
    return notices_to_holders(
        e,
        # Still owed, the case is not to be closed yet: its notice says so from the subject.
        fact.kind
        if fact.kind == "client_says_fixed_owed"
        else ("client_says_fixed" if says_fixed else "follow_up"),
        fact,
        ("follow-up", verified.message_id),
        (verified.message_id, verified.correlation_id),
        languages,
        now,
        # The rule's conditions were the opening message's ("this message among them"):
        # not this one's.
        {**about_message(verified), "fact_pack": facts, "condition_items": []},
    )


def promise_due_notices(
    e: Escalation, languages: StaffLanguages, now: datetime, automatic: bool = True
) -> list[SendNotification]:
    """The promise to the client falls due: a notice to each holder, once per promise;
    `automatic`: whether Careline tells the client if it passes (missed_promises)."""
    promised = e.client_reply_by.isoformat() if e.client_reply_by else ""
    return notices_to_holders(
        e,
        "promise_due",
        promise_due_fact(automatic, e.id),
        ("promise-due", promised),
        None,  # the message that opened it
        languages,
        now,
    )


def notices_to_holders(
    e: Escalation,
    change: str,
    fact: Fact,
    occasion: tuple[object, ...],
    about: tuple[uuid.UUID, str] | None,
    languages: StaffLanguages,
    now: datetime,
    message_data: Mapping[str, Any] | None = None,
) -> list[SendNotification]:
    """A notice to each person the escalation told, once per address; `about`: the message
    (and correlation) it belongs to, when not the one that opened it, and `message_data`
    what the notice says of that message instead of the opening's (without it, the
    briefing's sender and subject are the opening message's: not said of another)."""
    if message_data is None and about is not None and about[0] != e.message_id:
        message_data = {"sender": None, "subject": ""}
    data = {
        **current_briefing(e, languages.team),
        **(message_data or {}),
        "level": e.level,
        "change": change,
        "change_items": [fact.item()],
        "ack_deadline": e.ack_deadline.isoformat(),
        **ack_view(e.taken_by, e.ack_deadline, now),
    }
    notes: list[SendNotification] = []
    seen: set[str] = set()
    for person in e.notified:
        if address_key(person.address) not in seen:
            seen.add(address_key(person.address))
            notes.append(
                notice_to(e, "manager_escalation", person, data, occasion, languages, now, about)
            )
    return notes
