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


FAILURE = "Вы обещали починить выгрузку отчётов к пятнице, но так и не сделали."


@pytest.mark.parametrize(
    ("first", "second", "answer"),
    [
        (FAILURE, OUTAGE, "service_failure_notice"),
        (OUTAGE, FAILURE, "outage_report_ack"),
    ],
    ids=["failure-then-outage", "outage-then-failure"],
)
async def test_a_case_answered_once_is_not_answered_again_by_the_other_rule(
    env: Env, watch: tuple[nats.NATS, Bus], first: str, second: str, answer: str
) -> None:
    """One escalation kind, two rules (round 32): a message of the other rule written into
    the open case asks for the case's answer under the id it went as, so the notifier, which
    takes an id once, leaves it out of the digest; only the follow-up goes. It asked for a
    new id before: "we received your report, we are checking" after "we let you down" (or
    the reverse) beside "we added your message", for one message."""
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat(first))
        await until(lambda: bus.to(CLIENT))
        await publish_verified(nc, legal_threat(second))
        await until(lambda: len(bus.to(CLIENT)) > 1)

    answered, later = bus.to(CLIENT)
    assert answered["kind"] == answer
    assert later["kind"] == "client_digest"
    again, follow_up = later["parts"]
    # The answer again: the id it went as, which the notifier takes once (folds.unfold).
    assert again["notification_id"] == answered["notification_id"]
    assert follow_up["notification_id"] != answered["notification_id"]
    assert follow_up["data"].get("follow_up") is True
