"""The subject's history in the escalator's own schema: read before deciding, written after.

Two bounded queries (the subjects' recent messages, their recent and open escalations),
both on indexes by subject, answer for one subject or for all the subjects of a batch at
once; one insert records what a message was (or what a batch's messages were). The
subject is locked for the transaction first, so two messages of one client decided at once
still see each other in order (the second waits for the first to commit); a batch locks
all its subjects at once, in sorted order, so two batches never wait for each other in a
circle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.outbox import lock_keys

from .history import History, Hold, Mark, PastEscalation, SeenMessage
from .tables import TZ, escalations, metadata

subject_messages = Table(
    "subject_messages",
    metadata,
    Column("subject_key", String, primary_key=True),
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", String),
    Column("at", TZ, nullable=False),
    Column("channel", String, nullable=False),
    Column("language", String, nullable=False),
    Column("sender", Text),  # migration 0018; messages of before have none
    Column("excerpt", Text, nullable=False),
    Column("signals", JSONB, nullable=False),
    Column("guessed", JSONB),  # migration 0026; messages of before: NULL, none known
    Column("markers", JSONB, nullable=False),
    Column("marks", JSONB, nullable=False),
    Column("escalations", JSONB, nullable=False),
    Column("recorded_at", TZ, nullable=False),
)


def written_from(subject_key: str, sender: str) -> Select[Any]:
    """The ids of the escalations a message of the subject from `sender` (an address,
    phone or handle, any case) was placed in: its cases, e.g. once it wrote as the client's
    confirmed address. The subject is the primary key's prefix."""
    m = subject_messages.c
    touched = func.jsonb_array_elements(m.escalations, type_=JSONB)["id"].astext
    return select(cast(touched, UUID(as_uuid=True))).where(
        m.subject_key == subject_key, func.lower(m.sender) == sender.strip().casefold()
    )


# Bounds on what one decision reads; windows longer than these see the most recent rows.
MESSAGES_LIMIT = 200
ESCALATIONS_LIMIT = 50


def _subject_lock(subject_key: str) -> str:
    return f"subject:{subject_key}"


async def lock_subject(session: AsyncSession, subject_key: str) -> None:
    await lock_subjects(session, [subject_key])


async def lock_subjects(session: AsyncSession, subject_keys: Sequence[str]) -> None:
    """Every subject's lock in one statement, in sorted order (no deadlock between batches)."""
    await lock_keys(session, [_subject_lock(k) for k in subject_keys])


def _newest(
    table: Table, columns: Sequence[Any], order: Any, limit: int, *conditions: Any
) -> Select[Any]:
    """Rows of the subjects `:keys` matching `conditions`, the newest `limit` per subject."""
    rank = func.row_number().over(partition_by=table.c.subject_key, order_by=order.desc())
    ranked = (
        select(*columns, rank.label("rank"))
        .where(table.c.subject_key == any_(bindparam("keys", type_=ARRAY(String))), *conditions)
        .subquery()
    )
    return (
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.subject_key, ranked.c.rank)
    )


@cache
def _messages() -> Select[Any]:
    since = bindparam("since", type_=TZ)
    m = subject_messages.c
    columns = (
        m.subject_key,
        m.message_id,
        m.at,
        m.channel,
        m.sender,
        m.excerpt,
        m.signals,
        m.guessed,
        m.markers,
        m.marks,
    )
    return _newest(subject_messages, columns, m.at, MESSAGES_LIMIT, m.at >= since)


@cache
def _escalations() -> Select[Any]:
    since = bindparam("since", type_=TZ)
    e = escalations.c
    recent = or_(e.status == "open", e.opened_at >= since, e.resolved_at >= since)
    # What a PastEscalation keeps: not the fact pack, briefing and the rest of the row.
    columns = (
        e.subject_key,
        e.id,
        e.kind,
        e.severity,
        e.status,
        e.rule,
        e.opened_at,
        e.resolved_at,
        e.resolution_note,
        e.message_count,
        e.ack_deadline,
        e.hold,
        # What its first message was about: a reply in that thread goes on with it.
        e.subject,
    )
    return _newest(escalations, columns, e.opened_at, ESCALATIONS_LIMIT, recent)


async def load_messages(
    session: AsyncSession, subject_keys: Sequence[str], since: datetime
) -> dict[str, list[SeenMessage]]:
    """Each subject's recent messages, newest first."""
    found: dict[str, list[SeenMessage]] = {k: [] for k in subject_keys}
    rows = await session.execute(_messages(), {"keys": list(subject_keys), "since": since})
    for row in rows:
        found[row.subject_key].append(_seen(row))
    return found


async def load_escalations(
    session: AsyncSession, subject_keys: Sequence[str], since: datetime
) -> dict[str, list[PastEscalation]]:
    """Each subject's open escalations and those opened or resolved since, newest first."""
    found: dict[str, list[PastEscalation]] = {k: [] for k in subject_keys}
    rows = await session.execute(_escalations(), {"keys": list(subject_keys), "since": since})
    for row in rows:
        found[row.subject_key].append(_past(row))
    return found


async def load_history(session: AsyncSession, subject_key: str, since: datetime) -> History:
    messages = await load_messages(session, [subject_key], since)
    found = await load_escalations(session, [subject_key], since)
    return History(messages=messages[subject_key], escalations=found[subject_key])


def _seen(row: Any) -> SeenMessage:
    return SeenMessage(
        message_id=str(row.message_id),
        at=row.at,
        channel=row.channel,
        sender=row.sender or "",
        excerpt=row.excerpt,
        signals=row.signals,
        guessed=row.guessed or [],
        markers=row.markers,
        marks=[Mark.model_validate(m) for m in row.marks],
    )


def _past(row: Any) -> PastEscalation:
    return PastEscalation(
        id=str(row.id),
        kind=row.kind,
        severity=row.severity,
        status=row.status,
        rule=row.rule,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        resolution_note=row.resolution_note,
        message_count=row.message_count,
        ack_deadline=row.ack_deadline,
        hold=Hold.model_validate(row.hold) if row.hold else None,
        subject=row.subject,
    )


def seen_row(
    subject_key: str,
    customer_id: str | None,
    seen: SeenMessage,
    language: str,
    opened: list[dict[str, Any]],
    at: datetime,
) -> dict[str, Any]:
    """The row of `subject_messages`: what a message was and what the policy did about it."""
    return {
        "subject_key": subject_key,
        "message_id": uuid.UUID(seen.message_id),
        "customer_id": customer_id,
        "at": seen.at,
        "channel": seen.channel,
        "sender": seen.sender,
        "language": language,
        "excerpt": seen.excerpt,
        "signals": seen.signals,
        "guessed": seen.guessed,
        "markers": seen.markers,
        "marks": [m.model_dump() for m in seen.marks],
        "escalations": opened,
        "recorded_at": at,
    }


async def record_seen(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Messages' rows in one statement (a redelivered message adds nothing)."""
    await session.execute(insert(subject_messages).on_conflict_do_nothing(), rows)


async def mark_warned(
    session: AsyncSession, subject_key: str, escalation_id: uuid.UUID, mark: Mark
) -> tuple[uuid.UUID, bool] | None:
    """Mark the escalation's latest message as the one the client was warned about (by
    staff, in person: seed 002), so later threats count as after a warning: (its id,
    whether the mark is new); None when no message of it is on file (pruned).

    Only the message row is locked, never the subject: a staff command holds the
    escalation's row, and taking the subject's lock after it could deadlock with a message
    that holds the subject's and waits for the row. A message decided meanwhile does not
    see the warning yet, as it would not had it come a moment earlier."""
    m = subject_messages.c
    touched = func.jsonb_build_array(func.jsonb_build_object("id", str(escalation_id)))
    latest = (
        await session.execute(
            select(m.message_id, m.marks)
            .where(m.subject_key == subject_key, m.escalations.op("@>")(touched))
            .order_by(m.at.desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    if latest is None:
        return None
    said = mark.model_dump()
    if said in latest.marks:
        return latest.message_id, False
    await session.execute(
        update(subject_messages)
        .where(m.subject_key == subject_key, m.message_id == latest.message_id)
        .values(marks=m.marks.op("||")(literal([said], JSONB)))
    )
    return latest.message_id, True
