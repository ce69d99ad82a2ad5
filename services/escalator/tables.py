"""Escalator's tables (schema `escalator`): escalations, their timeline, processed messages.

Several modules share them (the store of escalations in adapters, the lifecycle and
history stores, the CLI's listing; the service and the app use `processed`), so they live
apart from any one store. The timeline is written in one way only, `add_timeline_entry`,
which is here with its table: every entry is idempotent by its id and waits for the end of
a batch if the transaction runs one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.group_commit import insert_later
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
    # The policy (migration 0006): the fact pack staff see, the hold, the roles the rule adds
    # at later levels, the rule's own minutes to acknowledge, the last reopening.
    Column("facts", JSONB, nullable=False),
    Column("hold", JSONB),
    Column("planned", JSONB, nullable=False),
    Column("ack_minutes", Float),
    Column("reopened_at", DateTime(timezone=True)),
    Column("reopen_count", Integer, nullable=False),
    # When the client is promised an answer (migration 0013; null for older escalations).
    Column("client_reply_by", DateTime(timezone=True)),
    # When its holders were reminded that the promise falls due (migration 0014).
    Column("promise_reminded_at", DateTime(timezone=True)),
    # Where and how the promise was made, and how many dates passed unkept (migration 0015).
    Column("promise_to", JSONB),
    Column("promises_missed", Integer, nullable=False, server_default="0"),
    # 0016: the subject of the message that opened it (a reply in its thread follows it up)
    Column("subject", Text),
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
# 0023_escalator_revoked: each customer's address staff took back, the latest revoke
# (revoked_sender.py: a message verified before it and handled after it is disowned).
revoked_addresses = Table(
    "revoked_addresses",
    metadata,
    Column("customer_id", String, primary_key=True),
    Column("address", String, primary_key=True),  # policy_rules.address_key
    Column("confirmation_id", UUID(as_uuid=True), nullable=False),
    Column("revoked_by", String, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
processed = processed_table(metadata)
TZ = DateTime(timezone=True)


async def add_timeline_entry(
    session: AsyncSession,
    escalation_id: uuid.UUID,
    entry_id: uuid.UUID,
    entry: str,
    detail: dict[str, Any],
    actor: dict[str, Any] | None,
    at: datetime,
) -> None:
    """A timeline entry; `entry_id` (the timeline's message id) makes it happen once.

    Inserted at the end of the transaction's `deferring_inserts` block, if it runs one."""
    row = {
        "escalation_id": escalation_id,
        "message_id": entry_id,
        "entry": entry,
        "detail": detail,
        "actor": actor,
        "at": at,
    }
    await insert_later(session, ADD_TIMELINE_ENTRY, row)


ADD_TIMELINE_ENTRY = insert(timeline).on_conflict_do_nothing()
# The timeline entries at which the escalation's holders were told of it (with a follow-up
# whose detail says `told`): SqlEscalationStore.last_told.
TOLD_ENTRIES = ("opened", "reopened", "notified", "identity_unclear")


def tells_holders(row: dict[str, Any]) -> bool:
    """Whether a timeline row is one at which the escalation's holders were told of it."""
    entry = row["entry"]
    return entry in TOLD_ENTRIES or (entry == "followed_up" and bool(row["detail"].get("told")))
