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

Each use case runs in the OpenTelemetry context of its own message, so its database spans
join that message's trace; the batch's shared statements record no spans.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.outbox import Outgoing, lock_keys, outputs_of_keys, record_many
from shared.settings import CarelineSettings

Work = Callable[[AsyncSession], Awaitable[list[Outgoing]]]


@dataclass
class _Input:
    key: str
    work: Work
    trace_context: otel_context.Context
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
    transactions may run at once (on separate connections).
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
        self._waiting: deque[_Input] = deque()
        self._committers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def once(self, key: str, work: Work) -> list[Outgoing]:
        """Run `work` for input `key` unless it ran before; its outputs, after the commit."""
        item = _Input(key, work, otel_context.get_current())
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
        results: list[list[Outgoing]] = []
        async with self.db.transaction() as session:
            with suppress_instrumentation():
                await lock_keys(session, [f"{self.namespace}:{k}" for k in keys])
                known = await outputs_of_keys(session, self.processed, keys)
            fresh: dict[str, list[Outgoing]] = {}
            for item in batch:
                if item.key not in known:
                    known[item.key] = fresh[item.key] = await self._run(session, item)
                results.append(known[item.key])
            if fresh:
                with suppress_instrumentation():
                    await record_many(session, self.processed, fresh, self.clock())
        return results

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
