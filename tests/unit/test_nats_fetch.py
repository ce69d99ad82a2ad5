"""The prompt fetch's bookkeeping: one open pull request, statuses, timeouts (no server)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.client import JetStreamContext
from nats.js.errors import APIError

from shared import nats_fetch
from shared.nats_fetch import prompt_fetch, use_prompt_fetch


class FakeSub:
    """Just what prompt_fetch touches of a nats-py Subscription."""

    def __init__(self) -> None:
        self._pending_queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._pending_size = 0

    def deliver(self, data: bytes = b"x", status: str | None = None) -> None:
        headers = {"Status": status} if status else None
        self._pending_queue.put_nowait(Msg(None, subject="s", data=data, headers=headers))  # type: ignore[arg-type]
        self._pending_size += len(data)

    async def next_msg(self, timeout: float) -> Msg:
        msg = await asyncio.wait_for(self._pending_queue.get(), timeout)
        self._pending_size -= len(msg.data)
        self._pending_queue.task_done()
        return msg


class FakeNats:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.down = False

    async def publish(self, subject: str, payload: bytes, reply: str) -> None:
        if self.down:
            raise ConnectionError("gone")
        self.requests.append(json.loads(payload))


class FakePull:
    def __init__(self) -> None:
        self._sub = FakeSub()
        self._nc = FakeNats()
        self._nms = "$JS.API.CONSUMER.MSG.NEXT.S.C"
        self._deliver = "_INBOX.x"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.monotonic as nats_fetch sees it: now[0] plus the real time since the test began
    (so the waits inside asyncio still pass)."""
    offset = [0.0]
    real = time.monotonic
    monkeypatch.setattr(nats_fetch.time, "monotonic", lambda: real() + offset[0])
    return offset


async def test_installing_it_twice_installs_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        JetStreamContext.PullSubscription, "fetch", JetStreamContext.PullSubscription.fetch
    )
    use_prompt_fetch()
    use_prompt_fetch()
    assert JetStreamContext.PullSubscription.fetch is prompt_fetch


async def test_one_request_serves_fetches_until_its_batch_is_delivered() -> None:
    pull = FakePull()
    pull._sub.deliver(b"a")
    pull._sub.deliver(b"b")

    first = await prompt_fetch(pull, 3, timeout=1.0)
    pull._sub.deliver(b"c")
    second = await prompt_fetch(pull, 3, timeout=1.0)  # the same request, one still owed
    third_task = asyncio.create_task(prompt_fetch(pull, 3, timeout=1.0))
    await asyncio.sleep(0)
    pull._sub.deliver(b"d")
    third = await third_task

    assert [m.data for m in first] == [b"a", b"b"]
    assert [m.data for m in second] == [b"c"]
    assert [m.data for m in third] == [b"d"]
    assert pull._nc.requests == [{"batch": 3, "expires": 1_000_000_000}] * 2
    assert pull._sub._pending_size == 0


async def test_a_fetch_takes_no_more_than_its_batch_from_the_queue() -> None:
    pull = FakePull()
    for i in range(5):
        pull._sub.deliver(f"m{i}".encode())
    assert len(await prompt_fetch(pull, 2, timeout=1.0)) == 2
    assert pull._sub._pending_queue.qsize() == 3


async def test_what_an_expired_request_left_is_taken_before_a_new_request_is_sent(
    clock: list[float],
) -> None:
    pull = FakePull()
    pull._sub.deliver(b"a")
    await prompt_fetch(pull, 4, timeout=1.0)
    clock[0] += 2.0  # the request is gone by the client's clock...
    pull._sub.deliver(b"b")  # ...and this came for it before it went

    late = await prompt_fetch(pull, 4, timeout=1.0)
    assert [m.data for m in late] == [b"b"]
    assert len(pull._nc.requests) == 1


async def test_a_late_expiry_status_of_an_older_request_does_not_end_the_new_one(
    clock: list[float],
) -> None:
    pull = FakePull()
    pull._sub.deliver(b"a")
    await prompt_fetch(pull, 4, timeout=1.0)
    clock[0] += 2.0  # the first request is gone; the next fetch sends another
    waiting = asyncio.create_task(prompt_fetch(pull, 4, timeout=1.0))
    await asyncio.sleep(0)
    pull._sub.deliver(b"", status="408")  # the first request's, late (a stalled client)
    pull._sub.deliver(b"b")
    got = await waiting
    pull._sub.deliver(b"c")  # the second request still owes three: no third request
    after = await prompt_fetch(pull, 4, timeout=1.0)

    assert [m.data for m in got] == [b"b"]
    assert [m.data for m in after] == [b"c"]
    assert len(pull._nc.requests) == 2


async def test_an_expiry_status_ends_the_request_and_a_new_one_follows_at_once(
    clock: list[float],
) -> None:
    pull = FakePull()
    waiting = asyncio.create_task(prompt_fetch(pull, 10, timeout=1.0))
    await asyncio.sleep(0)
    clock[0] += 1.0  # the server expires the request and says so
    pull._sub.deliver(b"", status="100")  # an idle heartbeat on the way is skipped
    pull._sub.deliver(b"", status="408")
    with pytest.raises(NatsTimeoutError):  # what FastStream's pull loop expects
        await waiting

    again = asyncio.create_task(prompt_fetch(pull, 10, timeout=1.0))
    await asyncio.sleep(0)
    assert len(pull._nc.requests) == 2  # sent at once, without waiting out a margin
    pull._sub.deliver(b"after")
    assert [m.data for m in await again] == [b"after"]


async def test_a_refused_request_is_not_sent_again_at_once() -> None:
    pull = FakePull()
    pull._sub.deliver(b"", status="409")  # e.g. too many waiting requests
    started = time.monotonic()
    fetches = 0
    while time.monotonic() - started < 0.5:
        fetches += 1
        with pytest.raises(NatsTimeoutError):
            await prompt_fetch(pull, 10, timeout=0.2)
        if fetches == 1:
            pull._sub.deliver(b"", status="409")  # the next request is refused too

    # Each refused request is waited out (its expiry), not sent again in a loop.
    assert len(pull._nc.requests) <= 3
    assert fetches <= 6


async def test_a_fetch_keeps_its_own_timeout_while_an_older_request_is_open() -> None:
    pull = FakePull()
    with pytest.raises(NatsTimeoutError):
        await prompt_fetch(pull, 10, timeout=0.05)  # leaves nothing open past its expiry
    opened = asyncio.create_task(prompt_fetch(pull, 10, timeout=30.0))
    await asyncio.sleep(0.01)
    opened.cancel()  # its request (30 s) stays open on the server
    started = time.monotonic()
    with pytest.raises(NatsTimeoutError):
        await prompt_fetch(pull, 10, timeout=0.1)
    assert time.monotonic() - started < 5


async def test_a_request_that_could_not_be_sent_is_not_waited_for() -> None:
    pull = FakePull()
    pull._nc.down = True
    with pytest.raises(ConnectionError):
        await prompt_fetch(pull, 10, timeout=30.0)
    pull._nc.down = False
    pull._sub.deliver(b"x")
    started = time.monotonic()
    assert [m.data for m in await prompt_fetch(pull, 10, timeout=30.0)] == [b"x"]
    assert time.monotonic() - started < 5
    assert len(pull._nc.requests) == 1


async def test_nothing_within_the_timeout_is_a_nats_timeout() -> None:
    pull = FakePull()
    with pytest.raises(NatsTimeoutError):
        await prompt_fetch(pull, 10, timeout=0.05)


async def test_an_unknown_status_is_an_api_error() -> None:
    pull = FakePull()
    pull._sub.deliver(b"", status="503")
    with pytest.raises(APIError):
        await prompt_fetch(pull, 10, timeout=1.0)
