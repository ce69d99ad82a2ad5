"""An idle pull consumer's fetch times out with the error FastStream's pull loop expects."""

from __future__ import annotations

from typing import Any

import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.client import JetStreamContext

from shared.nats_fetch import fetch_times_out_as_nats_timeout


async def test_a_plain_timeout_of_fetch_is_raised_as_the_nats_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def plain(self: Any, batch: int = 1, timeout: float | None = 5) -> list[Any]:
        raise TimeoutError  # what nats-py 2.16 raises when the deadline passes early

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", plain)
    fetch_times_out_as_nats_timeout()
    fetch_times_out_as_nats_timeout()  # applying it twice wraps once

    with pytest.raises(NatsTimeoutError) as raised:
        await JetStreamContext.PullSubscription.fetch(object(), 10, timeout=0.1)  # type: ignore[arg-type]
    assert isinstance(raised.value.__cause__, TimeoutError)
    assert JetStreamContext.PullSubscription.fetch.__wrapped__ is plain  # type: ignore[attr-defined]


async def test_the_nats_timeout_and_messages_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = iter([["a message"], NatsTimeoutError()])

    async def fetch(self: Any, batch: int = 1, timeout: float | None = 5) -> list[Any]:
        result = next(calls)
        if isinstance(result, BaseException):
            raise result
        return result

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", fetch)
    fetch_times_out_as_nats_timeout()

    assert await JetStreamContext.PullSubscription.fetch(object(), 1) == ["a message"]  # type: ignore[arg-type]
    with pytest.raises(NatsTimeoutError) as raised:
        await JetStreamContext.PullSubscription.fetch(object(), 1)  # type: ignore[arg-type]
    assert raised.value.__cause__ is None
