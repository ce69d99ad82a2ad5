"""Intake's tables (schema `intake`) and the store that writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import MessageNormalized
from shared.group_commit import insert_later
from shared.outbox import processed_table

metadata = MetaData(schema="intake")
messages = Table(
    "messages",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("channel", String, nullable=False),
    Column("external_id", String, nullable=False),
    Column("thread_id", String, nullable=False),
    Column("language", String, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("normalized", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
processed = processed_table(metadata)


class SqlMessageStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event: MessageNormalized, payload: dict[str, Any] | None = None) -> None:
        """Keep the message (`payload`: its JSON form, if the caller has it already); at the
        end of the session's batch, if it runs one."""
        await insert_later(
            self.session,
            _ADD,
            {
                "message_id": event.message_id,
                "channel": event.channel,
                "external_id": event.external_id,
                "thread_id": event.thread_id,
                "language": event.language,
                "received_at": event.received_at,
                "normalized": payload or event.model_dump(mode="json"),
            },
        )


# One statement object for every message: SQLAlchemy compiles and keys it once.
_ADD = insert(messages).on_conflict_do_nothing()
