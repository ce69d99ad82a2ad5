"""The services' pull fetch on a real nats-server: prompt, bounded, one request at a time."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig

from shared.nats_fetch import use_prompt_fetch
from tests.conftest import Servers

pytestmark = pytest.mark.integration

# Far longer than any fetch here should take: what is asserted is "did not wait for the
# batch to fill", not a speed.
TIMEOUT = 5.0


@pytest.fixture
async def consumer(servers: Servers) -> AsyncIterator[tuple[Any, Any, str]]:
    """A fresh stream with a durable pull consumer: (jetstream, subscription, subject)."""
    use_prompt_fetch()
    nc = await nats.connect(servers.nats_url)
    js = nc.jetstream()
    name = f"PROMPT_{uuid.uuid4().hex[:8]}"
    subject = f"prompt.{name}"
    await js.add_stream(name=name, subjects=[subject])
    sub = await js.pull_subscribe(subject, durable="worker", stream=name, config=ConsumerConfig())
    try:
        yield js, sub, subject
    finally:
        await js.delete_stream(name)
        await nc.close()


async def test_a_message_to_an_idle_consumer_comes_without_waiting_for_a_full_batch(
    consumer: tuple[Any, Any, str],
) -> None:
    js, sub, subject = consumer
    fetching = asyncio.create_task(sub.fetch(64, timeout=TIMEOUT))
    await asyncio.sleep(0.2)  # the consumer is waiting on its open request
    started = time.monotonic()
    await js.publish(subject, b"one")

    got = await fetching

    assert [m.data for m in got] == [b"one"]
    # nats-py's own fetch would have waited here for 63 more messages or the timeout.
    assert time.monotonic() - started < TIMEOUT / 2


async def test_what_waits_comes_in_batches_of_at_most_the_size_each_message_once(
    consumer: tuple[Any, Any, str],
) -> None:
    js, sub, subject = consumer
    sent = [f"m{i}".encode() for i in range(150)]
    await asyncio.gather(*(js.publish(subject, data) for data in sent))

    received: list[bytes] = []
    sizes = []
    while len(received) < len(sent):
        batch = await sub.fetch(64, timeout=TIMEOUT)
        sizes.append(len(batch))
        for msg in batch:
            received.append(msg.data)
            await msg.ack()

    assert sorted(received) == sorted(sent)
    assert max(sizes) <= 64
    with pytest.raises(NatsTimeoutError):  # and nothing more: no copies
        await sub.fetch(64, timeout=0.5)


async def test_an_idle_consumer_times_out_with_the_nats_error_and_keeps_one_request_open(
    consumer: tuple[Any, Any, str],
) -> None:
    js, sub, subject = consumer
    for _ in range(4):
        with pytest.raises(NatsTimeoutError):  # what FastStream's pull loop expects
            await sub.fetch(64, timeout=0.3)
    info = await sub.consumer_info()
    assert info.num_waiting <= 1  # expired requests were replaced, not piled up

    await js.publish(subject, b"later")
    got = await sub.fetch(64, timeout=TIMEOUT)
    assert [m.data for m in got] == [b"later"]


async def test_messages_delivered_while_the_handlers_work_are_taken_at_the_next_fetch(
    consumer: tuple[Any, Any, str],
) -> None:
    js, sub, subject = consumer
    await js.publish(subject, b"first")
    first = await sub.fetch(64, timeout=TIMEOUT)
    # The request is still open for 63 more: these arrive without another request.
    await asyncio.gather(*(js.publish(subject, f"n{i}".encode()) for i in range(5)))
    await asyncio.sleep(0.2)
    info = await sub.consumer_info()

    rest: list[bytes] = []
    while len(rest) < 5:
        rest += [m.data for m in await sub.fetch(64, timeout=TIMEOUT)]

    assert [m.data for m in first] == [b"first"]
    assert sorted(rest) == sorted(f"n{i}".encode() for i in range(5))
    assert info.num_ack_pending == 6  # all delivered by the one request


async def test_a_stalled_handler_does_not_leave_two_requests_open(
    consumer: tuple[Any, Any, str],
) -> None:
    js, sub, subject = consumer
    await js.publish(subject, b"first")
    for msg in await sub.fetch(4, timeout=0.5):
        await msg.ack()
    await asyncio.sleep(1.0)  # a slow batch: the request expires meanwhile (its 408 waits)

    received = []
    for i in range(8):  # light load: a message now and then
        await js.publish(subject, f"m{i}".encode())
        for msg in await sub.fetch(4, timeout=0.5):
            received.append(msg.data)
            await msg.ack()
    info = await sub.consumer_info()

    assert sorted(received) == sorted(f"m{i}".encode() for i in range(8))
    assert info.num_waiting <= 1
