"""The subject's history in the escalator's own schema: read before deciding, written after.

Two bounded queries per message (the subject's recent messages, its recent and open
escalations), both on indexes by subject; one insert records what this message was. The
subject is locked for the transaction first, so two messages of one client decided at once
still see each other in order (the second waits for the first to commit).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, Table, Text, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import escalations, metadata
from .history import History, Hold, Mark, PastEscalation, SeenMessage

TZ = DateTime(timezone=True)
subject_messages = Table(
    "subject_messages",
    metadata,
    Column("subject_key", String, primary_key=True),
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", String),
    Column("at", TZ, nullable=False),
    Column("channel", String, nullable=False),
    Column("language", String, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("signals", JSONB, nullable=False),
    Column("markers", JSONB, nullable=False),
    Column("marks", JSONB, nullable=False),
    Column("escalations", JSONB, nullable=False),
    Column("recorded_at", TZ, nullable=False),
)
# Bounds on what one decision reads; windows longer than these see the most recent rows.
MESSAGES_LIMIT = 200
ESCALATIONS_LIMIT = 50


async def lock_subject(session: AsyncSession, subject_key: str) -> None:
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"subject:{subject_key}", 0)))
    )


async def load_history(session: AsyncSession, subject_key: str, since: datetime) -> History:
    messages = await session.execute(
        select(subject_messages)
        .where(subject_messages.c.subject_key == subject_key, subject_messages.c.at >= since)
        .order_by(subject_messages.c.at.desc())
        .limit(MESSAGES_LIMIT)
    )
    found = await session.execute(
        select(escalations)
        .where(
            escalations.c.subject_key == subject_key,
            or_(
                escalations.c.status == "open",
                escalations.c.opened_at >= since,
                escalations.c.resolved_at >= since,
            ),
        )
        .order_by(escalations.c.opened_at.desc())
        .limit(ESCALATIONS_LIMIT)
    )
    return History(
        messages=[_seen(row) for row in messages],
        escalations=[_past(row) for row in found],
    )


def _seen(row: Any) -> SeenMessage:
    return SeenMessage(
        message_id=str(row.message_id),
        at=row.at,
        channel=row.channel,
        excerpt=row.excerpt,
        signals=row.signals,
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
    )


async def record_seen(
    session: AsyncSession,
    subject_key: str,
    customer_id: str | None,
    seen: SeenMessage,
    language: str,
    opened: list[dict[str, Any]],
    at: datetime,
) -> None:
    """What this message was and what the policy did about it (a redelivery adds nothing)."""
    await session.execute(
        insert(subject_messages)
        .values(
            subject_key=subject_key,
            message_id=uuid.UUID(seen.message_id),
            customer_id=customer_id,
            at=seen.at,
            channel=seen.channel,
            language=language,
            excerpt=seen.excerpt,
            signals=seen.signals,
            markers=seen.markers,
            marks=[m.model_dump() for m in seen.marks],
            escalations=opened,
            recorded_at=at,
        )
        .on_conflict_do_nothing()
    )
