"""The sender's passes do not sleep through a wake, one wake costs one look, only a full
batch makes a pass look again at once, and a pass that fails hides nothing from the next."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier import adapters
from services.notifier.scheduling import RetryPolicy
from services.notifier.sender import SENDER_PASSES, OutboxSender, SendPolicy

pytestmark = pytest.mark.unit

POLL = 60.0  # far longer than the test may take: a pass that waits for it has missed a wake


async def nothing(*args: Any) -> None:
    return None


async def none_pending() -> int:
    return 0


def sender_with(run_once: Any) -> OutboxSender:
    policy = SendPolicy(retry=RetryPolicy(3, 1.0, 10.0), poll_seconds=POLL)
    sender = OutboxSender(None, {}, nothing, lambda: datetime.now(UTC), policy)  # type: ignore[arg-type]
    sender.run_once = run_once  # type: ignore[method-assign]
    sender.publish_pending = none_pending  # type: ignore[method-assign]
    return sender


async def test_a_notification_accepted_while_every_pass_looks_is_found_at_once() -> None:
    stop = asyncio.Event()
    due: list[str] = []
    sent: list[str] = []
    looks: Counter[int] = Counter()

    async def run_once() -> int:
        task = asyncio.current_task()
        assert task is not None
        looks[id(task)] += 1
        found, due[:] = list(due), []  # what the query saw, before the commit below
        if looks[id(task)] == 1:
            # Accepted and committed while this look's query ran: the look did not see it.
            due.append(f"accepted during look of pass {len(looks)}")
            sender.wake()
        await asyncio.sleep(0)
        sent.extend(found)
        if len(sent) == SENDER_PASSES:
            stop.set()
        return len(found)

    sender = sender_with(run_once)
    await asyncio.wait_for(sender.run(stop), timeout=10)

    assert sorted(sent) == [f"accepted during look of pass {i + 1}" for i in range(SENDER_PASSES)]


async def looks_after(wakes: int) -> int:
    """How many looks the passes make: one each at the start, then those `wakes` wakes
    (given together, while both passes wait) cause."""
    stop = asyncio.Event()
    looks: list[str] = []
    first_looks_done = asyncio.Event()

    async def run_once() -> int:
        looks.append("look")
        if len(looks) == SENDER_PASSES:
            first_looks_done.set()
        return 0

    sender = sender_with(run_once)
    running = asyncio.create_task(sender.run(stop))
    await first_looks_done.wait()
    for _ in range(3):
        await asyncio.sleep(0)  # both passes are waiting now

    for _ in range(wakes):
        sender.wake()  # before any woken pass has run
    for _ in range(10):
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    return len(looks)


async def test_one_wake_while_the_passes_wait_makes_one_of_them_look() -> None:
    assert await looks_after(1) == SENDER_PASSES + 1


async def test_two_wakes_while_the_passes_wait_make_both_look() -> None:
    """A burst accepted together: the second wake goes to the pass the first did not rouse."""
    assert await looks_after(2) == 2 * SENDER_PASSES


async def looks_of_one_pass(found: list[int]) -> list[int]:
    """What a pass's looks found, given what each finds (then nothing), until it waits."""
    stop = asyncio.Event()
    seen: list[int] = []
    finds = iter(found)

    async def run_once() -> int:
        if asyncio.current_task() is not first_pass:
            await stop.wait()  # the other pass stays out of the way
            return 0
        seen.append(next(finds, 0))
        return seen[-1]

    sender = sender_with(run_once)
    first_pass = asyncio.create_task(sender._passes(stop, 0))
    other_pass = asyncio.create_task(sender._passes(stop, 1))
    for _ in range(20):
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(asyncio.gather(first_pass, other_pass), timeout=10)
    return seen


async def test_a_pass_that_found_less_than_a_batch_waits_for_a_wake() -> None:
    """Everything due was in that look; what is accepted later wakes a pass. Looking again
    at once found nothing nearly always: an empty transaction per notification."""
    assert await looks_of_one_pass([3]) == [3]


async def test_a_pass_that_found_a_full_batch_looks_again_at_once() -> None:
    batch = SendPolicy(retry=RetryPolicy(3, 1.0, 10.0)).batch_size
    assert await looks_of_one_pass([batch, batch, 5]) == [batch, batch, 5]


async def test_a_failing_look_for_unpublished_results_never_costs_a_send() -> None:
    """The broker refuses the backlog: the woken pass still looks for what is due."""
    stop = asyncio.Event()
    looks: list[str] = []

    async def run_once() -> int:
        looks.append("look")
        stop.set()
        return 0

    async def broker_away() -> int:
        raise RuntimeError("no responders")

    sender = sender_with(run_once)
    sender.publish_pending = broker_away  # type: ignore[method-assign]
    await asyncio.wait_for(sender.run(stop), timeout=10)

    assert looks


async def test_a_backlog_of_unpublished_results_is_published_in_one_go() -> None:
    stop = asyncio.Event()
    backlog = [20, 20, 20, 7]  # batches of the policy's size, then the rest
    published: list[int] = []

    async def run_once() -> int:
        return 0

    async def publish_pending() -> int:
        published.append(backlog.pop(0) if backlog else 0)
        if not backlog:
            stop.set()
        return published[-1]

    sender = sender_with(run_once)
    sender.publish_pending = publish_pending  # type: ignore[method-assign]
    await asyncio.wait_for(sender.run(stop), timeout=10)

    assert published == [20, 20, 20, 7]


class _Connection:
    """A connection whose transaction commits, or fails as it ends (the database went away
    then)."""

    def __init__(self, commit_fails: bool) -> None:
        self.commit_fails = commit_fails

    async def __aenter__(self) -> _Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None and self.commit_fails:
            raise ConnectionResetError("connection lost at commit")

    def begin(self) -> _Connection:
        return self


class _Database:
    def __init__(self, commit_fails: bool = False) -> None:
        self.engine = self
        self.commit_fails = commit_fails

    def connect(self) -> _Connection:
        return _Connection(self.commit_fails)


def sender_finding(
    found: list[uuid.UUID], monkeypatch: pytest.MonkeyPatch, commit_fails: bool = False
) -> OutboxSender:
    """A sender whose look finds `found` and that can claim none of it."""

    async def due(*args: Any, **kwargs: Any) -> list[uuid.UUID]:
        return found

    async def claimed_none(conn: Any, ids: list[uuid.UUID]) -> list[Any]:
        return []

    monkeypatch.setattr(adapters, "due", due)
    policy = SendPolicy(retry=RetryPolicy(3, 1.0, 10.0), poll_seconds=POLL)
    database = _Database(commit_fails)
    sender = OutboxSender(database, {}, nothing, lambda: datetime.now(UTC), policy)  # type: ignore[arg-type]
    sender._send = claimed_none  # type: ignore[method-assign]
    return sender


async def test_a_pass_whose_commit_fails_leaves_nothing_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids stay in flight (hidden from the other pass) only while their pass runs: a pass
    that fails at its commit must not hide them from every later look."""
    sender = sender_finding([uuid.uuid4(), uuid.uuid4()], monkeypatch, commit_fails=True)

    with pytest.raises(ConnectionResetError):
        await sender.run_once()

    assert sender._in_flight == set()


async def test_a_full_batch_another_replica_is_sending_does_not_make_the_pass_spin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows another replica claimed still look due until it finishes: a pass that found a
    full batch and could claim none of it waits for a wake or the poll, not looks again."""
    batch = SendPolicy(retry=RetryPolicy(3, 1.0, 10.0)).batch_size
    sender = sender_finding([uuid.uuid4() for _ in range(batch)], monkeypatch)

    assert await sender.run_once() == 0
