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
import yaml

from services.escalator.policy import POLICY_PATH
from tests.integration.conftest import Env
from tests.integration.test_escalation_lifecycle import (
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    rows,
    start,
    watch,
)

pytestmark = pytest.mark.integration
__all__ = ["watch"]  # the fixture, shared with the lifecycle tests


def policy_reminding_at_once(tmp_path: Path) -> Path:
    """The shipped policy, reminding a week ahead: every promise is due for its reminder."""
    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    data["client_reply_remind_minutes"] = 7 * 24 * 60
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def test_the_holders_are_reminded_of_the_promise_once(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    settings = escalator_settings(env, ESCALATOR_POLICY=str(policy_reminding_at_once(tmp_path)))
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
