"""A client who reports a failure and threatens court in one breath gets no automatic
"we let you down, it is our fault" while the lawyers weigh the claim (seed 002: a concrete
threat goes to the lawyers, who assess the risk); staff are told what was not sent and
why, and no answer time was promised. The real escalator, PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import nats
import pytest

from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
)

pytestmark = pytest.mark.integration

CLAIM = (
    "Третій день нічого не працює, все зникло з кабінету. Якщо до п'ятниці не повернете "
    "кошти за зіпсоване замовлення, я подам на вас до суду."
)


async def test_no_admission_of_fault_goes_while_the_lawyers_weigh_a_claim(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat(CLAIM))
        opened = {e["kind"]: e for e in await bus.wait("escalation.opened", 2)}
        await bus.wait("notify.request", 2)

    assert {"legal", "service_failure"} <= set(opened)
    failure = opened["service_failure"]
    notes = bus.of("notify.request")
    assert not [n for n in notes if n["kind"] == "service_failure_notice"]
    assert failure["client_reply_by"] is None  # nothing was promised either
    (row,) = await rows(
        env,
        "SELECT client_reply_by FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(failure["escalation_id"]),
    )
    assert row["client_reply_by"] is None
    withheld = [n["data"].get("client_contacts_withheld") for n in notes if n["recipient_role"]]
    assert {"kinds": ["service_failure_notice"], "why": "legal"} in withheld
