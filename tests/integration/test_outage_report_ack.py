"""A plain outage report («с утра не работает интернет») opens a service_failure case, but
the client gets the careful acknowledgement (received, checking, by when we write), never
the automatic "we let you down, it is our fault" (round 32: nobody has checked yet whose
fault the outage is). The real escalator, PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import datetime

import nats
import pytest

from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration

OUTAGE = "Добрый день. С утра в офисе не работает интернет."
CLIENT = "buh@stroymontazh.ru"


async def test_an_outage_report_is_acknowledged_without_admitting_fault(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat(OUTAGE))  # the gold client's own address
        (opened,) = await bus.wait("escalation.opened")
        await until(lambda: bus.to(CLIENT))

    # The same case as a failure, as grave for a gold client (P2), by the outage rule.
    assert (opened["kind"], opened["severity"], opened["rule"]) == (
        "service_failure",
        "P2",
        "outage-report-top-tier",
    )
    (ack,) = bus.to(CLIENT)
    assert (ack["kind"], ack["language"]) == ("outage_report_ack", "ru")
    assert ack["data"]["problems"] == ["С утра в офисе не работает интернет."]
    assert not [n for n in bus.of("notify.request") if n["kind"] == "service_failure_notice"]
    # It promises an answer by a time, as the failure notice did: the case keeps it.
    promised = datetime.fromisoformat(opened["client_reply_by"])
    assert datetime.fromisoformat(ack["data"]["reply_by"]) == promised
    (row,) = await rows(
        env,
        "SELECT client_reply_by, promise_to FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert row["client_reply_by"] == promised
    # A missed date owes the client the result of the check, not a remedy (missed_promises).
    assert (row["promise_to"]["recipient"], row["promise_to"]["about"]) == (CLIENT, "check")
