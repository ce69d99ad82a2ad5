"""The sender's passes do not sleep through a wake that came while they were looking."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier.scheduling import RetryPolicy
from services.notifier.sender import SENDER_PASSES, OutboxSender, SendPolicy

pytestmark = pytest.mark.unit

POLL = 60.0  # far longer than the test may take: a pass that waits for it has missed a wake


async def nothing(*args: Any) -> None:
    return None


async def test_a_notification_accepted_while_a_pass_looks_is_looked_for_again_at_once() -> None:
    policy = SendPolicy(retry=RetryPolicy(3, 1.0, 10.0), poll_seconds=POLL)
    sender = OutboxSender(None, {}, nothing, lambda: datetime.now(UTC), policy)  # type: ignore[arg-type]
    stop = asyncio.Event()
    looks: Counter[int] = Counter()

    async def run_once() -> int:
        task = asyncio.current_task()
        assert task is not None
        looks[id(task)] += 1
        if looks[id(task)] == 1:
            # Accepted and committed while this look's query ran: the look found nothing.
            sender.wake()
        elif len(looks) == SENDER_PASSES and all(n >= 2 for n in looks.values()):
            stop.set()
        return 0

    sender.run_once = run_once  # type: ignore[method-assign]
    sender.publish_pending = nothing  # type: ignore[method-assign]

    await asyncio.wait_for(sender.run(stop), timeout=10)

    assert all(n >= 2 for n in looks.values())
