"""Before the answer promised to a client falls due, the sweeper reminds whoever holds the
open escalation, once per promise, across sweeps (seed 001: support keeps its promises)."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

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

pytestmark = pytest.mark.integration


async def test_the_holders_are_reminded_of_the_promise_once(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    # Reminding a week ahead: the promise is due for its reminder at once.
    week = 7 * 24 * 60
    policy = policy_file(tmp_path, client_reply_remind_minutes=week)
    settings = escalator_settings(env, ESCALATOR_POLICY=str(policy))
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        failure = json.loads(legal_threat("Вы обещали починить экспорт к пятнице и не сделали."))
        await publish_verified(nc, json.dumps(failure).encode())
        (opened,) = await bus.wait("escalation.opened")
        assert opened["client_reply_by"] is not None

        def reminders() -> list[dict[str, object]]:
            return [
                r
                for r in bus.of("notify.request")
                if r["data"].get("change") == "promise_due"
                and r["escalation_id"] == opened["escalation_id"]
            ]

        for _ in range(100):
            if reminders():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # several more sweeps (every 0.1 s): none reminds again
        told = reminders()

    # Everyone the escalation told (its rule's roles here), each once.
    assert sorted(str(r["recipient_role"]) for r in told) == sorted(opened["roles"])
    assert {str(r["data"]["client_reply_by"]) for r in told} == {
        opened["client_reply_by"].replace("Z", "+00:00")
    }
    (row,) = await rows(
        env,
        "SELECT promise_reminded_at FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert row["promise_reminded_at"] is not None
    entries = await rows(
        env,
        "SELECT entry, detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id AND entry = 'promise_due'",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert [e["detail"]["told"] for e in entries] == [sorted(opened["roles"])]
