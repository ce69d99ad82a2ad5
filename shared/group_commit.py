"""Group commit: the use cases of messages handled at the same time share one transaction.

A consumer handles many messages at once (CARELINE_CONSUMER_WORKERS). Each handler still
runs its own use case for its own message, but instead of opening a transaction of its
own it hands the use case to `GroupCommit.once(key, work)`. Whatever arrives while a
transaction is running waits for the next one, so under load one transaction, one lock
statement, one idempotency lookup and one insert of processed rows serve a whole batch,
and an idle service still commits a lone message at once (no waiting to fill a batch).

The guarantees of a transaction per message stay:
- each input's outputs are stored with its effects (shared.outbox), in the same commit;
  `once` returns only after that commit, so the handler publishes and acks after it;
- an input already processed (redelivery, a replica, a duplicate in the same batch) gets
  its stored outputs back and nothing runs again;
- a use case that fails rolls the batch back; the failing input then runs alone (its own
  error, so bad input is dead-lettered alone with its reason) and the others commit
  without it. A failure that names no input (the commit itself, the database away)
  runs every input alone, each with its own outcome.

A service may also work on the batch as a whole (`GroupCommit.open_batch`): before the use
cases run it is handed the hints of the inputs that will run (their messages), so it can
look up in one query per kind what each would look up alone, and take the locks they need
in a fixed order; after they ran, before the commit, the `Batch` it returned writes in bulk
what the use cases deferred. A use case finds its batch with `batch_of(session, kind)`.
Both steps are part of the transaction: when one fails, the inputs run alone as above.

The inputs of a batch arrived together, so no order among them was promised; they run in
arrival order unless the service says which go first (`GroupCommit.run_order`, a sort key of
an input's hint; the sort is stable): the notifier decides its client requests before the
staff notices that say what became of them.

Each use case runs in the OpenTelemetry context of its own message, so its database spans
join that message's trace; the batch's shared statements record no spans.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import Executable, Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.outbox import Outgoing, lock_keys, outputs_of_keys, record_many
from shared.settings import CarelineSettings

Work = Callable[[AsyncSession], Awaitable[list[Outgoing]]]


class Batch(Protocol):
    """What a service keeps for one batch transaction (see `GroupCommit.open_batch`)."""

    async def end(self, session: AsyncSession) -> None:
        """After every use case of the batch ran, before the commit: the deferred writes."""
        ...


OpenBatch = Callable[[AsyncSession, list[Any]], Awaitable[Batch]]
_BATCH = "careline.batch"
B = TypeVar("B")


def batch_of(session: AsyncSession, kind: type[B]) -> B | None:
    """The batch of this kind the session's transaction runs, if any."""
    found = session.info.get(_BATCH)
    return found if isinstance(found, kind) else None


class DeferredInserts:
    """A batch whose use cases only add rows: collected per statement, inserted at its end.

    For rows nothing in the batch reads back; one statement per statement and set of
    columns instead of one per row (`insert_later`)."""

    def __init__(self) -> None:
        self.rows: dict[Executable, list[dict[str, Any]]] = {}

    @classmethod
    async def open(cls, session: AsyncSession, hints: list[Any]) -> DeferredInserts:
        return cls()

    async def end(self, session: AsyncSession) -> None:
        for statement, rows in self.rows.items():
            await execute_many(session, statement, rows)


@asynccontextmanager
async def deferring_inserts(session: AsyncSession) -> AsyncIterator[None]:
    """Within the block, `insert_later` rows wait and are inserted together at its end."""
    batch = DeferredInserts()
    session.info[_BATCH] = batch
    try:
        yield
        await batch.end(session)
    finally:
        session.info.pop(_BATCH, None)


async def insert_later(session: AsyncSession, statement: Executable, row: dict[str, Any]) -> None:
    """Insert `row` at the end of the session's batch (`DeferredInserts`), or now."""
    batch = batch_of(session, DeferredInserts)
    if batch is None:
        await session.execute(statement, [row])
    else:
        batch.rows.setdefault(statement, []).append(row)


async def execute_many(
    session: AsyncSession, statement: Executable, rows: list[dict[str, Any]]
) -> None:
    """`statement` for every row, one execution per set of columns the rows have."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for same in by_columns.values():
        await session.execute(statement, same)


@dataclass
class _Input:
    key: str
    work: Work
    trace_context: otel_context.Context
    hint: Any = None
    done: asyncio.Future[list[Outgoing]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def succeed(self, outputs: list[Outgoing]) -> None:
        if not self.done.done():
            self.done.set_result(outputs)

    def fail(self, exc: BaseException) -> None:
        if self.done.done():
            return
        if isinstance(exc, asyncio.CancelledError):
            self.done.cancel()
        else:
            self.done.set_exception(exc)


class _InputFailed(Exception):
    def __init__(self, failed: _Input) -> None:
        super().__init__(failed.key)
        self.input = failed


class GroupCommit:
    """Exactly-once use cases of one service, committed together while they arrive together.

    `namespace` prefixes the advisory-lock keys (`<namespace>:<key>`), `processed` is the
    service's processed_messages table. `max_batch` bounds one transaction; `concurrency`
    transactions may run at once (on separate connections). `open_batch`, when a service
    sets it, is called with the session and the hints of the inputs about to run, in the
    order they will run: `run_order`'s, when a service sets it, else arrival's.
    """

    def __init__(
        self,
        db: Database,
        processed: Table,
        namespace: str,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 100,
        concurrency: int = 1,
    ) -> None:
        self.db = db
        self.processed = processed
        self.namespace = namespace
        self.clock = clock
        self.max_batch = max_batch
        self.concurrency = concurrency
        self.open_batch: OpenBatch | None = None
        self.run_order: Callable[[Any], int] | None = None
        self._waiting: deque[_Input] = deque()
        self._committers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def once(self, key: str, work: Work, hint: Any = None) -> list[Outgoing]:
        """Run `work` for input `key` unless it ran before; its outputs, after the commit.

        `hint` is what `open_batch` is told of the input (e.g. its message)."""
        item = _Input(key, work, otel_context.get_current(), hint)
        self._waiting.append(item)
        if self._committers < self.concurrency:
            self._committers += 1
            # A fresh context: the committer serves many messages, it is part of no trace.
            task = asyncio.get_running_loop().create_task(
                self._commit_waiting(), context=contextvars.Context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await item.done

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch: list[_Input] = []
                while self._waiting and len(batch) < self.max_batch:
                    item = self._waiting.popleft()
                    if not item.done.done():  # its handler gave up (shutdown): skip it
                        batch.append(item)
                if batch:
                    await self._commit(batch)
        finally:
            self._committers -= 1

    async def _commit(self, batch: list[_Input]) -> None:
        try:
            results = await self._transaction(batch)
        except _InputFailed as failed:
            if len(batch) == 1:
                batch[0].fail(failed.__cause__ or failed)
                return
            await self._commit([failed.input])  # alone: its own outcome and reason
            await self._commit([i for i in batch if i is not failed.input])
            return
        except Exception as exc:
            if len(batch) == 1:
                batch[0].fail(exc)
                return
            for item in batch:
                await self._commit([item])
            return
        except BaseException as exc:  # cancelled: nothing committed, handlers must not wait
            for item in batch:
                item.fail(exc)
            raise
        for item, outputs in zip(batch, results, strict=True):
            item.succeed(outputs)

    async def _transaction(self, batch: list[_Input]) -> list[list[Outgoing]]:
        keys = sorted({item.key for item in batch})
        async with self.db.transaction() as session:
            with suppress_instrumentation():
                await lock_keys(session, [f"{self.namespace}:{k}" for k in keys])
                known = await outputs_of_keys(session, self.processed, keys)
            in_order = batch if self.run_order is None else self._ordered(batch)
            opened = None
            if self.open_batch is not None:
                hints = {i.key: i.hint for i in in_order if i.key not in known}
                if hints:
                    with suppress_instrumentation():
                        opened = await self.open_batch(session, list(hints.values()))
                    session.info[_BATCH] = opened
            fresh: dict[str, list[Outgoing]] = {}
            for item in in_order:
                if item.key not in known:
                    known[item.key] = fresh[item.key] = await self._run(session, item)
            results = [known[item.key] for item in batch]  # each input's own, as it came
            if fresh:
                with suppress_instrumentation():
                    if opened is not None:
                        await opened.end(session)
                    await record_many(session, self.processed, fresh, self.clock())
        return results

    def _ordered(self, batch: list[_Input]) -> list[_Input]:
        order = self.run_order
        assert order is not None
        return sorted(batch, key=lambda item: order(item.hint))

    async def _run(self, session: AsyncSession, item: _Input) -> list[Outgoing]:
        token = otel_context.attach(item.trace_context)
        try:
            return await item.work(session)
        except Exception as exc:
            raise _InputFailed(item) from exc
        finally:
            otel_context.detach(token)


def group_commit(
    db: Database,
    processed: Table,
    namespace: str,
    clock: Callable[[], datetime],
    settings: CarelineSettings,
) -> GroupCommit:
    """A service's GroupCommit sized by CARELINE_BATCH_SIZE and CARELINE_BATCH_CONCURRENCY."""
    return GroupCommit(
        db,
        processed,
        namespace,
        clock,
        max_batch=settings.batch_size,
        concurrency=settings.batch_concurrency,
    )
