"""Group commit on real PostgreSQL and NATS: batches, a bad input in a batch, a failed commit.

Messages handled together share one transaction (shared.group_commit); these tests prove
it keeps the guarantees of a transaction per message: a bad input fails alone with its
reason, a failed commit is redelivered and yields each outcome once, and a batch seen
again (redelivery, duplicates within one batch) doubles nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import adapters as intake_tables
from services.intake.service import IntakeService, normalized_event
from shared.contracts import InboundMessage, MessageNormalized
from shared.db import Database
from shared.errors import PermanentError, RetryableError
from shared.group_commit import DeferredInserts, GroupCommit
from shared.outbox import Outgoing
from tests.conftest import Servers
from tests.integration.conftest import count, drained

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def chat(text: str, external_id: str) -> dict[str, object]:
    return {
        "channel": "chat",
        "external_id": external_id,
        "sender": {"handle": "@lebedev_smm"},
        "text": text,
    }


class Commits:
    """Counts the transactions an engine commits."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "commit", self._committed)

    def _committed(self, conn: object) -> None:
        self.count += 1


async def test_one_bad_input_in_a_batch_fails_alone_and_the_rest_commit_together(
    db: Database, servers: Servers
) -> None:
    commits = Commits(db)
    group = GroupCommit(db, intake_tables.processed, "test", lambda: NOW)
    inbound = [
        InboundMessage.model_validate(chat(f"Сообщение {i}", f"batch-{i}")) for i in range(10)
    ]

    def work(message: InboundMessage):  # type: ignore[no-untyped-def]
        async def store(session: AsyncSession) -> list[Outgoing]:
            if message.external_id == "batch-3":
                raise PermanentError("no sender for batch-3")
            event_ = normalized_event(message, NOW)
            await intake_tables.SqlMessageStore(session).add(event_)
            return [Outgoing.of("message.normalized", event_)]

        return store

    results = await asyncio.gather(
        *(group.once(m.external_id or "", work(m)) for m in inbound), return_exceptions=True
    )

    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], PermanentError)
    assert str(failed[0]) == "no sender for batch-3"  # its own reason, for its dead letter
    assert all(isinstance(r, list) and len(r) == 1 for r in results if r is not failed[0])
    # One transaction for the nine (after the batch and the bad input alone rolled back),
    # not a transaction per message.
    assert commits.count == 1
    assert await count(servers, "SELECT count(*) FROM intake.messages") == 9
    assert await count(servers, "SELECT count(*) FROM intake.processed_messages") == 9


async def test_a_failed_commit_runs_each_input_alone_and_each_outcome_happens_once(
    db: Database, servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = FlakyCommits(fail_first=1)
    failing.install(monkeypatch)
    group = GroupCommit(db, intake_tables.processed, "test", lambda: NOW)
    events = [
        normalized_event(InboundMessage.model_validate(chat("Привіт", f"c-{i}")), NOW)
        for i in range(5)
    ]

    def work(event_: MessageNormalized):  # type: ignore[no-untyped-def]
        async def store(session: AsyncSession) -> list[Outgoing]:
            await intake_tables.SqlMessageStore(session).add(event_)
            return [Outgoing.of("message.normalized", event_)]

        return store

    results = await asyncio.gather(*(group.once(str(e.message_id), work(e)) for e in events))

    assert failing.failed == 1  # the shared commit failed, then each input committed alone
    assert [r[0].event_id for r in results] == [str(e.event_id) for e in events]
    assert await count(servers, "SELECT count(*) FROM intake.messages") == 5
    # Asked again (a redelivery), every input gets its stored outputs and nothing runs.
    again = await asyncio.gather(*(group.once(str(e.message_id), work(e)) for e in events))
    assert again == results
    assert await count(servers, "SELECT count(*) FROM intake.processed_messages") == 5


async def test_a_batch_works_on_its_fresh_inputs_together_and_a_bad_one_fails_alone(
    db: Database, servers: Servers
) -> None:
    """With `open_batch` (rows inserted at the batch's end, as intake and the notifier do),
    the batch is told only of the inputs that will run, a bad input still fails alone with
    its reason, and a batch seen again inserts nothing twice."""
    commits = Commits(db)
    opened: list[list[str]] = []

    async def open_batch(session: AsyncSession, hints: list[object]) -> DeferredInserts:
        opened.append([str(h) for h in hints])
        return await DeferredInserts.open(session, hints)

    group = GroupCommit(db, intake_tables.processed, "test", lambda: NOW)
    group.open_batch = open_batch
    events = [
        normalized_event(InboundMessage.model_validate(chat(f"Пакет {i}", f"b-{i}")), NOW)
        for i in range(8)
    ]
    bad = events[5].message_id

    def work(event_: MessageNormalized):  # type: ignore[no-untyped-def]
        async def store(session: AsyncSession) -> list[Outgoing]:
            await intake_tables.SqlMessageStore(session).add(event_)
            if event_.message_id == bad:
                raise PermanentError("this one is bad")
            return [Outgoing.of("message.normalized", event_)]

        return store

    def run_all():  # type: ignore[no-untyped-def]
        return asyncio.gather(
            *(group.once(str(e.message_id), work(e), e.external_id) for e in events),
            return_exceptions=True,
        )

    results = await run_all()

    failed = [r for r in results if isinstance(r, BaseException)]
    assert [str(f) for f in failed] == ["this one is bad"]
    assert opened[0] == [e.external_id for e in events]  # the whole batch, once
    assert [e.external_id for e in events if str(e.external_id) in opened[1]] == ["b-5"]
    assert commits.count == 1  # the seven together, after the batch and the bad one alone
    assert await count(servers, "SELECT count(*) FROM intake.messages") == 7

    opened.clear()
    again = await run_all()

    assert again[:5] == results[:5] and again[6:] == results[6:]
    # Only the input that never committed runs again: in the batch, then alone.
    assert opened == [["b-5"], ["b-5"]]
    assert await count(servers, "SELECT count(*) FROM intake.messages") == 7
    assert await count(servers, "SELECT count(*) FROM intake.processed_messages") == 7


async def test_a_batch_whose_commit_fails_is_redelivered_and_yields_each_outcome_once(
    running, bus, servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every commit that carries a message for the first or second time fails (the batch
    and then each message alone): every handler fails, JetStream redelivers, and the
    redelivered batch commits. Each message is normalized and published exactly once."""
    failing = FlakyCommits(fail_until_runs=3)
    failing.install(monkeypatch)
    nc, recorder = bus
    js = nc.jetstream()
    for i in range(12):
        await js.publish("inbound.chat", json.dumps(chat(f"Повідомлення {i}", f"r-{i}")).encode())
    await running.start("intake")

    normalized = await recorder.wait_for("message.normalized", 12, timeout=30)
    await drained(nc)
    assert failing.failed >= 2  # the shared commit and the inputs alone, at the first delivery
    assert min(failing.seen.values()) >= 3  # each message ran three times: twice rolled back
    assert len({n["event_id"] for n in normalized}) == 12
    assert len(normalized) == 12  # nothing published twice: publishing follows the commit
    assert await count(servers, "SELECT count(*) FROM intake.messages") == 12
    assert await count(servers, "SELECT count(*) FROM intake.processed_messages") == 12
    assert recorder.of("dlq.") == []
    assert (await stream_count(nc, "CARELINE_MESSAGES")) == 12


async def test_a_batch_seen_again_doubles_nothing(running, bus, servers: Servers) -> None:
    """Duplicates inside one batch and the whole batch again (as after a lost ack)."""
    nc, recorder = bus
    js = nc.jetstream()
    await running.start("intake")
    payloads = [json.dumps(chat(f"Дубль {i}", f"d-{i}")).encode() for i in range(8)]
    # No Nats-Msg-Id: JetStream keeps every copy, so intake's own idempotency is what counts.
    await asyncio.gather(*(js.publish("inbound.chat", p) for p in payloads + payloads))
    await recorder.wait_for("message.normalized", 8, timeout=30)
    await drained(nc)
    await asyncio.gather(*(js.publish("inbound.chat", p) for p in payloads))
    await drained(nc)

    assert await count(servers, "SELECT count(*) FROM intake.messages") == 8
    assert await count(servers, "SELECT count(*) FROM intake.processed_messages") == 8
    # Re-published copies carry the same event ids, which JetStream drops.
    assert len({n["event_id"] for n in recorder.of("message.normalized")}) == 8
    assert (await stream_count(nc, "CARELINE_MESSAGES")) == 8


# --- helpers ---------------------------------------------------------------------------

# The inputs run in the transaction at hand (the committer task's own context).
_in_transaction: ContextVar[list[str]] = ContextVar("in_transaction")


@dataclass
class FlakyCommits:
    """Database.transaction whose commit fails: the first `fail_first` commits, or every
    commit carrying an intake input that ran fewer than `fail_until_runs` times."""

    fail_first: int = 0
    fail_until_runs: int = 0
    failed: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original_transaction = Database.transaction
        original_store = IntakeService._store
        flaky = self

        @asynccontextmanager
        async def transaction(db: Database) -> AsyncIterator[AsyncSession]:
            keys: list[str] = []
            token = _in_transaction.set(keys)
            try:
                async with original_transaction(db) as session:
                    yield session
                    if flaky._fails(keys):
                        flaky.failed += 1
                        raise RetryableError("commit failed (test)")  # rolls it all back
            finally:
                _in_transaction.reset(token)

        async def store(
            service: IntakeService, session: AsyncSession, event_: MessageNormalized
        ) -> list[Outgoing]:
            key = str(event_.message_id)
            flaky.seen[key] = flaky.seen.get(key, 0) + 1
            _in_transaction.get([]).append(key)
            return await original_store(service, session, event_)

        monkeypatch.setattr(Database, "transaction", transaction)
        monkeypatch.setattr(IntakeService, "_store", store)

    def _fails(self, keys: list[str]) -> bool:
        if self.failed < self.fail_first:
            return True
        return any(self.seen[k] < self.fail_until_runs for k in keys)


async def stream_count(nc: NATS, stream: str) -> int:
    return int((await nc.jetstream().stream_info(stream)).state.messages)


async def test_a_batch_runs_its_inputs_in_the_services_order_and_answers_each_its_own(
    db: Database,
) -> None:
    group = GroupCommit(db, intake_tables.processed, "test", lambda: NOW)
    group.run_order = lambda hint: 0 if hint.startswith("client") else 1
    ran: list[str] = []
    opened: list[list[str]] = []

    async def open_batch(session: AsyncSession, hints: list[str]) -> DeferredInserts:
        opened.append(hints)
        return DeferredInserts()

    group.open_batch = open_batch

    def work(key: str):  # type: ignore[no-untyped-def]
        async def run(session: AsyncSession) -> list[Outgoing]:
            ran.append(key)
            return [Outgoing("ran", key, {"key": key})]

        return run

    keys = ["staff-1", "client-1", "staff-2", "client-2"]
    results = await asyncio.gather(*(group.once(k, work(k), k) for k in keys))

    # One batch: the clients first, each group in the order it came (a stable sort).
    assert ran == ["client-1", "client-2", "staff-1", "staff-2"]
    assert opened == [ran]
    assert [r[0].payload["key"] for r in results] == keys  # each input its own outputs
