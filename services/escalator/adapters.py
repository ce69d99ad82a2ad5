"""Escalator's tables (schema `escalator`) and the store of escalations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import derived_id
from shared.outbox import processed_table

metadata = MetaData(schema="escalator")
escalations = Table(
    "escalations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subject_key", String, nullable=False),
    Column("customer_id", String),
    Column("kind", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("status", String, nullable=False),
    Column("rule", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("identity_status", String, nullable=False),
    Column("roles", JSONB, nullable=False),
    Column("signals", JSONB, nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("ack_deadline", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The lifecycle (migration 0004): who was told at which level, when the next climb is
    # due, the briefing a re-escalation repeats, who acknowledged and resolved it.
    Column("message_id", UUID(as_uuid=True)),
    Column("correlation_id", String),
    Column("notified", JSONB, nullable=False),
    Column("briefing", JSONB, nullable=False),
    Column("climb_due_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", JSONB),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", JSONB),
    Column("resolution_note", Text),
)
timeline = Table(
    "escalation_timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("escalation_id", UUID(as_uuid=True), ForeignKey("escalator.escalations.id")),
    Column("message_id", UUID(as_uuid=True), nullable=False),
    Column("entry", String, nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", JSONB),
)
processed = processed_table(metadata)


@dataclass(frozen=True)
class NewEscalation:
    id: uuid.UUID
    subject_key: str
    customer_id: str | None
    kind: str
    severity: str
    rule: str
    reason: str
    identity_status: str
    roles: list[str]
    signals: list[dict[str, Any]]
    ack_deadline: datetime
    correlation_id: str


@dataclass(frozen=True)
class Placed:
    """Where a message's escalation went: opened, or merged (raising severity or not)."""

    id: uuid.UUID
    opened: bool
    severity: str
    raised_from: str | None = None


def more_severe(a: str, b: str) -> bool:
    """Whether severity `a` is more severe than `b` (P1 is the most severe)."""
    return a < b


async def add_timeline_entry(
    session: AsyncSession,
    escalation_id: uuid.UUID,
    entry_id: uuid.UUID,
    entry: str,
    detail: dict[str, Any],
    actor: dict[str, Any] | None,
    at: datetime,
) -> None:
    """A timeline entry; `entry_id` (the timeline's message id) makes it happen once."""
    await session.execute(
        insert(timeline)
        .values(
            escalation_id=escalation_id,
            message_id=entry_id,
            entry=entry,
            detail=detail,
            actor=actor,
            at=at,
        )
        .on_conflict_do_nothing()
    )


class SqlEscalationStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_or_merge(
        self, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        """Merge into the open escalation of the same kind if any (raising its severity when
        the new rule is more severe), else open one."""
        await self.session.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtextextended(f"escalation:{new.subject_key}:{new.kind}", 0)
                )
            )
        )
        existing = (
            await self.session.execute(
                select(
                    escalations.c.id,
                    escalations.c.severity,
                    escalations.c.climb_due_at,
                    escalations.c.ack_deadline,
                    escalations.c.acknowledged_at,
                ).where(
                    escalations.c.subject_key == new.subject_key,
                    escalations.c.kind == new.kind,
                    escalations.c.status == "open",
                )
            )
        ).first()
        if existing is not None:
            placed = Placed(existing.id, False, existing.severity)
            values: dict[str, Any] = {}
            if more_severe(new.severity, existing.severity):
                placed = Placed(existing.id, False, new.severity, existing.severity)
                values["severity"] = new.severity
                # Nobody has it yet: the graver severity's shorter deadline applies now.
                if existing.acknowledged_at is None and existing.climb_due_at is not None:
                    values["climb_due_at"] = min(existing.climb_due_at, new.ack_deadline)
                    values["ack_deadline"] = min(existing.ack_deadline, new.ack_deadline)
            await self.session.execute(
                update(escalations)
                .where(escalations.c.id == existing.id)
                .values(
                    message_count=escalations.c.message_count + 1,
                    signals=escalations.c.signals.op("||")(new.signals),
                    updated_at=at,
                    **values,
                )
            )
            entry = "merged"
        else:
            await self.session.execute(
                insert(escalations).values(
                    id=new.id,
                    subject_key=new.subject_key,
                    customer_id=new.customer_id,
                    kind=new.kind,
                    severity=new.severity,
                    status="open",
                    rule=new.rule,
                    reason=new.reason,
                    level=1,
                    identity_status=new.identity_status,
                    roles=new.roles,
                    signals=new.signals,
                    message_count=1,
                    ack_deadline=new.ack_deadline,
                    opened_at=at,
                    updated_at=at,
                    message_id=message_id,
                    correlation_id=new.correlation_id,
                    notified=[],
                    briefing={},
                    climb_due_at=new.ack_deadline,
                )
            )
            entry, placed = "opened", Placed(new.id, True, new.severity)
        await self._note(
            placed.id,
            message_id,
            entry,
            {"rule": new.rule, "reason": new.reason, "signals": new.signals},
            at,
        )
        if placed.raised_from is not None:
            raised = {"from": placed.raised_from, "to": placed.severity, "rule": new.rule}
            entry_id = derived_id("severity-raised", placed.id, message_id)
            await self._note(placed.id, entry_id, "severity_raised", raised, at)
        return placed

    async def _note(
        self,
        escalation_id: uuid.UUID,
        entry_id: uuid.UUID,
        entry: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> None:
        await add_timeline_entry(self.session, escalation_id, entry_id, entry, detail, None, at)

    async def record_notified(
        self, escalation_id: uuid.UUID, notified: list[dict[str, Any]], briefing: dict[str, Any]
    ) -> None:
        """Who the opening told (they may act on it) and what a re-escalation repeats."""
        await self.session.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(notified=notified, briefing=briefing)
        )


async def list_escalations(session: AsyncSession, limit: int = 50) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(escalations).order_by(escalations.c.opened_at.desc()).limit(limit)
    )
    return [dict(r) for r in rows.mappings()]
