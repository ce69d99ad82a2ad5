"""A reopened escalation climbs again, and its climbs are told: their timeline entries,
events and notices are its own, not taken for the first opening's (the same level again)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    policy_file,
    publish_verified,
    start,
)
from tests.integration.test_escalation_history import _resolve

pytestmark = pytest.mark.integration


async def test_a_reopened_escalation_climbs_and_tells_again(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    # About a second to acknowledge: nobody does, so each opening climbs at once.
    minutes = {s: 0.02 for s in ("P1", "P2", "P3", "P4")}
    policy = policy_file(tmp_path, ack_deadlines_minutes=minutes)

    def climbs_to_2() -> list[dict[str, Any]]:
        return [
            n
            for n in bus.of("notify.request")
            if n["kind"] == "re_escalation" and n["data"]["level"] == 2
        ]

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Я подам на вас в суд."))
        (opened,) = [e for e in await bus.wait("escalation.opened") if e["kind"] == "legal"]
        await bus.wait("escalation.escalated")
        await _resolve(env, opened["escalation_id"], "claim withdrawn after a call")
        first = {n["notification_id"] for n in climbs_to_2()}
        await publish_verified(nc, legal_threat("Нет, я всё-таки подам в суд."))
        (reopened,) = await bus.wait("escalation.reopened")
        assert reopened["escalation_id"] == opened["escalation_id"]
        # Its climb to level 2 again: a new event (the first's id would be dropped by the
        # stream's duplicate window) and new notices (the notifier takes an id once).
        again = [e for e in await bus.wait("escalation.escalated", 2) if e["level"] == 2]
        await until_notices(bus, lambda: len(climbs_to_2()) > len(first))

    assert len({e["event_id"] for e in again}) == len(again) == 2
    second = {n["notification_id"] for n in climbs_to_2()} - first
    assert first and second
    entries = await rows(
        env,
        "SELECT detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id AND entry = 'escalated' ORDER BY id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert [e["detail"]["level"] for e in entries].count(2) == 2


async def until_notices(bus: Bus, condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the notices did not come"
        await asyncio.sleep(0.05)
