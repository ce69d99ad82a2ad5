"""The prompt fetch's bookkeeping: one open pull request, statuses, timeouts (no server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.client import JetStreamContext
from nats.js.errors import APIError

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
        return msg


class FakeNats:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def publish(self, subject: str, payload: bytes, reply: str) -> None:
        self.requests.append(json.loads(payload))


class FakePull:
    def __init__(self) -> None:
        self._sub = FakeSub()
        self._nc = FakeNats()
        self._nms = "$JS.API.CONSUMER.MSG.NEXT.S.C"
        self._deliver = "_INBOX.x"


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


async def test_heartbeats_are_skipped_and_an_expired_request_is_a_nats_timeout() -> None:
    pull = FakePull()
    pull._sub.deliver(b"", status="100")
    pull._sub.deliver(b"", status="408")
    with pytest.raises(NatsTimeoutError):
        await prompt_fetch(pull, 10, timeout=1.0)
    pull._sub.deliver(b"after")
    assert [m.data for m in await prompt_fetch(pull, 10, timeout=1.0)] == [b"after"]
    assert len(pull._nc.requests) == 2  # the expired one was replaced


async def test_nothing_within_the_timeout_is_a_nats_timeout() -> None:
    pull = FakePull()
    with pytest.raises(NatsTimeoutError):
        await prompt_fetch(pull, 10, timeout=0.05)


async def test_an_unknown_status_is_an_api_error() -> None:
    pull = FakePull()
    pull._sub.deliver(b"", status="503")
    with pytest.raises(APIError):
        await prompt_fetch(pull, 10, timeout=1.0)
