"""What a handler produced for one incoming message, kept in the service's own schema.

A use case stores its outgoing events in the same transaction as its effects. After the
commit the handler publishes them with their event ids as Nats-Msg-Id; if it dies before
the ack, the redelivery finds the stored outputs and publishes exactly the same events
again (which JetStream de-duplicates), so nothing is lost and nothing is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Outgoing:
    subject: str
    event_id: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, subject: str, event: BaseModel) -> Outgoing:
        payload = event.model_dump(mode="json")
        return cls(subject=subject, event_id=str(payload["event_id"]), payload=payload)


def processed_table(metadata: MetaData) -> Table:
    return Table(
        "processed_messages",
        metadata,
        Column("key", String, primary_key=True, comment="Idempotency key of the input"),
        Column("outputs", JSONB, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


async def outputs_of(session: AsyncSession, table: Table, key: str) -> list[Outgoing] | None:
    """The outputs stored for `key`, or None if the input was never processed."""
    row = await session.scalar(select(table.c.outputs).where(table.c.key == key))
    return None if row is None else _outgoing(row)


async def outputs_of_keys(
    session: AsyncSession, table: Table, keys: list[str]
) -> dict[str, list[Outgoing]]:
    """The stored outputs of those of `keys` that were processed, in one query."""
    rows = await session.execute(_outputs_of_keys(table), {"keys": keys})
    return {key: _outgoing(outputs) for key, outputs in rows}


async def record_outputs(
    session: AsyncSession, table: Table, key: str, outputs: list[Outgoing], at: datetime
) -> None:
    await record_many(session, table, {key: outputs}, at)


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialize concurrent deliveries of one input (replicas, redelivery after ack_wait)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def record_many(
    session: AsyncSession, table: Table, outputs: dict[str, list[Outgoing]], at: datetime
) -> None:
    """`record_outputs` for many inputs in one statement."""
    rows = [
        {"key": key, "outputs": _stored(outs), "processed_at": at} for key, outs in outputs.items()
    ]
    await session.execute(_record(table), rows)


def _stored(outputs: list[Outgoing]) -> list[dict[str, Any]]:
    """Outputs as a processed_messages row keeps them (`_outgoing` reads them back)."""
    return [{"subject": o.subject, "event_id": o.event_id, "payload": o.payload} for o in outputs]


def _outgoing(stored: list[dict[str, Any]]) -> list[Outgoing]:
    return [Outgoing(o["subject"], o["event_id"], o["payload"]) for o in stored]


# Sorted, so two transactions that share keys take them in the same order (no deadlock).
_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
)


async def lock_keys(session: AsyncSession, keys: list[str]) -> None:
    """`lock_key` for many inputs in one statement, in a fixed order."""
    await session.execute(_LOCK_KEYS, {"keys": sorted(set(keys))})


# Built once per table: a statement object used again skips SQLAlchemy's cache-key walk, and
# an array parameter keeps one compiled form whatever the number of keys.
@cache
def _outputs_of_keys(table: Table) -> Select[tuple[str, Any]]:
    keys = bindparam("keys", type_=ARRAY(String))
    return select(table.c.key, table.c.outputs).where(table.c.key == any_(keys))


@cache
def _record(table: Table) -> Insert:
    return insert(table).on_conflict_do_nothing()
