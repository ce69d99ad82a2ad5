"""A new outage written into an open failure case is acknowledged, never admitted (round 32
for merges): «Вы там все дебилы? Личный кабинет не открывается с утра» merged into an open
fed-up case, and the client read «Это наша вина». The real escalator, PostgreSQL and NATS."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.integration.conftest import Env
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    policy_file,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration

FED_UP = "Вы обещали починить экспорт и не сделали. Это уже третий раз за месяц!"
CLIENT = "buh@stroymontazh.ru"


def follow_ups(bus: Bus, escalation_id: str) -> list[dict[str, Any]]:
    """The contacts to the client about new problems in the case, alone or a digest's part."""
    return [
        p
        for n in bus.of("notify.request")
        if n["recipient"] == CLIENT
        for p in (n.get("parts") or [n])
        if str(p["escalation_id"]) == escalation_id and p["data"].get("follow_up")
    ]


async def test_a_new_outage_in_a_fed_up_case_is_acknowledged_not_admitted(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        policy = policy_file(tmp_path, follow_up_quiet="0m")
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat(FED_UP))
        await bus.wait("escalation.opened")
        (opened,) = [o for o in bus.of("escalation.opened") if o["kind"] == "service_failure"]
        case = opened["escalation_id"]
        assert opened["kind"] == "service_failure" and opened["severity"] == "P1"
        # The outage alone (the insult beside it opens a case of its own).
        await publish_verified(
            nc, legal_threat("Вы там все дебилы? Личный кабинет не открывается с утра")
        )
        await until(lambda: follow_ups(bus, case))
        # The known promise said again, and a new outage: the outage is what is new.
        again = "Вы обещали починить экспорт и не сделали, а теперь и почта не открывается с утра."
        await publish_verified(nc, legal_threat(again))
        await until(lambda: len(follow_ups(bus, case)) == 2)

    said = follow_ups(bus, case)
    assert [p["kind"] for p in said] == ["outage_report_ack", "outage_report_ack"]
    assert not [p for p in said if p["kind"] == "service_failure_notice"]
    assert len({p["notification_id"] for p in said}) == 2
