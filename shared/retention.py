"""Data retention: working data past its horizon is deleted by the service that owns it.

Each service names what it may prune (`Prunable`: a table of its own schema, the column
whose time decides, how long rows are kept, and why); audit and business records
(escalations, their timelines, notifications, identity decisions) are never deleted. Where
the operator sets a content horizon (CARELINE_CONTENT_DAYS), the personal content those
records carry (what the client wrote, the fact pack, the rendered notice) is cut out of
them once they are that old (`content_of`): the record of what was decided stays.
`Pruner` deletes in small batches, each its own short transaction, so a pass never holds
many locks for long nor stalls the consumers writing beside it; several replicas pruning
at once take different rows (FOR UPDATE SKIP LOCKED) and never wait for each other. It
logs counts only. See docs/retention.md for every table and its horizon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from shared.background import every
from shared.db import Database
from shared.subjects import STREAM_DLQ, StreamSpec

log = logging.getLogger(__name__)

# Beyond the longest a message can still be delivered, so a clock a little off between a
# replica and PostgreSQL, or a pass that runs late, never drops a key still needed.
KEY_MARGIN = timedelta(days=1)


def key_horizon(retention: timedelta, consumed: Iterable[StreamSpec]) -> timedelta:
    """How long a service keeps its idempotency keys: `retention`, but never less than the
    longest a message of the streams it consumes can still reach it, plus `KEY_MARGIN`.

    A message stays in its stream until its max age and may come again until then (a
    lost ack, a consumer reset to replay the stream); a dead letter may be replayed until
    the DLQ's max age, and one can be dead-lettered after it was processed (its outputs
    committed, the publish failing every attempt). A key kept that long makes all of
    those find the stored outputs instead of running the use case again.
    """
    longest = max(timedelta(seconds=s.max_age_seconds) for s in (*consumed, STREAM_DLQ))
    return max(retention, longest + KEY_MARGIN)


@dataclass(frozen=True)
class Prunable:
    """Rows of one table that may go once `age` is older than `horizon`."""

    table: str  # schema-qualified; code constants only, never input
    age: str  # the column whose time decides
    horizon: timedelta
    why: str
    only: str = ""  # a further SQL condition, e.g. "status = 'expired'"
    # Instead of deleting the rows: the SET clause that cuts their content out (the rows
    # stay). `only` must then exclude rows already cut, or a pass would never end.
    redact: str = ""

    @property
    def action(self) -> str:
        return "redacted" if self.redact else "removed"


def content_of(
    table: str,
    age: str,
    horizon: timedelta,
    why: str,
    column: str,
    keep: Sequence[str],
    *,
    only: str = "",
    also: str = "",
) -> Prunable:
    """The content of records kept for good: once `age` is past `horizon`, the JSONB
    `column` keeps only the `keep` keys (ids, kinds, times) and a mark, `redacted: true`;
    `also` sets further columns in the same statement (e.g. a free-text reason).

    Marked rows are skipped, so a pass touches each row once."""
    kept = ", ".join(f"'{key}', {column}->'{key}'" for key in keep)
    cut = f"{column} = jsonb_build_object({kept}, 'redacted', true)"
    done = f"({column}->>'redacted') IS NULL"
    return Prunable(
        table,
        age,
        horizon,
        why,
        only=f"{done} AND ({only})" if only else done,
        redact=f"{cut}, {also}" if also else cut,
    )


def content_horizon(content: timedelta, *floors: timedelta) -> timedelta:
    """The content horizon asked for, but never shorter than what still needs the content:
    the idempotency keys (their stored outputs repeat it anyway until then), a window the
    policy may reopen or read a record in."""
    return max(content, *floors)


def processed_keys(schema: str, retention: timedelta, consumed: Sequence[StreamSpec]) -> Prunable:
    """A service's idempotency keys (`<schema>.processed_messages`, shared.outbox)."""
    return Prunable(
        f"{schema}.processed_messages",
        "processed_at",
        key_horizon(retention, consumed),
        "idempotency keys: outlive redelivery, stream replay and dead-letter replay",
    )


@dataclass(frozen=True)
class Pruned:
    prunable: Prunable
    before: datetime
    rows: int  # deleted (or redacted), or that a dry run would touch


class Pruner:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        prunables: Sequence[Prunable],
        batch: int = 1000,
    ) -> None:
        self.db = db
        self.clock = clock
        self.prunables = prunables
        self.batch = batch

    async def prune(self, dry_run: bool = False, stop: asyncio.Event | None = None) -> list[Pruned]:
        """One pass over every table: delete (or, dry, count) the rows past the horizon."""
        now = self.clock()
        done = []
        for prunable in self.prunables:
            before = now - prunable.horizon
            if dry_run:
                rows = await self._count(prunable, before)
            else:
                rows = await self._prune(prunable, before, stop)
                if rows:
                    log.info(
                        "%s %d rows of %s (%s before %s)",
                        prunable.action,
                        rows,
                        prunable.table,
                        prunable.age,
                        before.isoformat(timespec="seconds"),
                    )
            done.append(Pruned(prunable, before, rows))
        return done

    async def _prune(self, prunable: Prunable, before: datetime, stop: asyncio.Event | None) -> int:
        change = (
            f"UPDATE {prunable.table} SET {prunable.redact}"
            if prunable.redact
            else f"DELETE FROM {prunable.table}"
        )
        statement = text(
            # Materialized, so the LIMIT and the row locks are settled before the change
            # (a subquery joined to the DELETE may be run again per row and take more);
            # `ctid = ANY(ARRAY(...))` is a TID scan: no scan of the rest of the table.
            f"WITH old AS MATERIALIZED (SELECT ctid FROM {prunable.table} "
            f"WHERE {_where(prunable)} LIMIT :batch FOR UPDATE SKIP LOCKED) "
            f"{change} WHERE ctid = ANY(ARRAY(SELECT ctid FROM old))"
        )
        total = 0
        while stop is None or not stop.is_set():
            async with self.db.transaction() as session:
                # Queue behind no DDL (a migration's lock) and make nobody queue behind us.
                await session.execute(text("SET LOCAL lock_timeout = '2s'"))
                result = await session.execute(statement, {"before": before, "batch": self.batch})
            deleted = int(result.rowcount)  # type: ignore[attr-defined]
            total += deleted
            if deleted < self.batch:
                break
        return total

    async def _count(self, prunable: Prunable, before: datetime) -> int:
        query = text(f"SELECT count(*) FROM {prunable.table} WHERE {_where(prunable)}")
        async with self.db.transaction() as session:
            return int(await session.scalar(query, {"before": before}) or 0)

    async def run(self, stop: asyncio.Event, every_seconds: float, first_after: float) -> None:
        """Prune every `every_seconds` until `stop`, the first pass `first_after` a start
        (a starting replica has messages waiting; a pass can wait that long)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), first_after)
        await every(every_seconds, stop, lambda: self.prune(stop=stop), "retention prune")


def _where(prunable: Prunable) -> str:
    where = f"{prunable.age} < :before"
    return f"{where} AND ({prunable.only})" if prunable.only else where
