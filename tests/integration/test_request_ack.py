"""Seed 002's "another manager did it for free" on the real servers: the escalator opens the
freebie escalation, tells the account manager what went to the client, and asks the notifier
for one `request_ack` to the client's registered address with the promised date, which the
escalation keeps (the sweeper reminds of it and owns up to it); a second demand into the
open case asks for nothing new. An unknown or a suspicious sender gets no acknowledgement
about any account."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest

from services.notifier.domain import render
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Identity,
    IdentityStatus,
    SenderIdentifiers,
    SendNotification,
    StaffRef,
)
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    publish_verified,
    start,
    until,
    verified_payload,
)

pytestmark = pytest.mark.integration

REGISTERED = "o.shevchuk@kvitka.ua"
MANAGER = StaffRef(id="am-kovalenko", name="Тарас Коваленко", email="t.kovalenko@careline.example")
FREEBIE = (
    "Інший менеджер зробив нам налаштування безкоштовно, а тепер ви виставляєте рахунок. "
    "Зробіть так само, як раніше."
)
AGAIN = "Нам і раніше все налаштовували безкоштовно, інші менеджери так робили."


def from_kvitka(text: str, status: IdentityStatus = "verified", sender: str = REGISTERED) -> bytes:
    """Seed 002's client writing by email (ТОВ «Квітка», uk), as the verifier sends it."""
    known = status != "unknown"
    identity = Identity(
        status=status,
        confidence={"verified": 0.95, "suspicious": 0.3}.get(status, 0.0),
        customer=CustomerRef(id="cust-kvitka", name="ТОВ «Квітка»", tier="silver")
        if known
        else None,
        account_manager=MANAGER if known else None,
        authorized_channels=[ChannelRef(kind="email", address=REGISTERED, verified=True)]
        if known
        else [],
        disclosure="account" if status == "verified" else "general",
    )
    return verified_payload(
        text,
        identity,
        SenderIdentifiers(email=sender),
        domain="kvitka.ua",
        subject="Налаштування",
        language="uk",
    )


def freebie(bus: Bus) -> list[dict[str, Any]]:
    return [e for e in bus.of("escalation.opened") if e["kind"] == "freebie"]


def acks(bus: Bus) -> list[dict[str, Any]]:
    return [n for n in bus.of("notify.request") if n["kind"] == "request_ack"]


async def test_a_verified_clients_freebie_demand_is_acknowledged_with_a_promise(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_kvitka(FREEBIE))
        (opened,) = await bus.wait("escalation.opened")
        await until(lambda: acks(bus) and bus.to(MANAGER.email))
        # The client pushes again in the open case: the same negotiation, no new answer
        # (the same acknowledgement is asked for again, which the notifier takes once).
        again = from_kvitka(AGAIN)
        await publish_verified(nc, again)
        await bus.wait("escalation.updated")
        second = json.loads(again)["message_id"]
        await until(lambda: any(n["message_id"] == second for n in acks(bus)))

    assert opened["kind"] == "freebie" and opened["client_reply_by"]
    promised = opened["client_reply_by"].replace("Z", "+00:00")
    # One acknowledgement, asked for at each message under one id: the first one goes.
    first, *again = acks(bus)
    assert {n["notification_id"] for n in again} == {first["notification_id"]}
    assert not any(n["data"].get("follow_up") for n in acks(bus))
    ack = SendNotification.model_validate(first)
    assert (ack.recipient, ack.recipient_role, ack.content_class) == (
        REGISTERED,
        "client_registered",
        "account",
    )
    assert ack.escalation_id == uuid.UUID(opened["escalation_id"]) and ack.language == "uk"
    assert ack.data["reply_by"] == promised and ack.data["asked_for"] == "free_service"
    mail = render(ack)
    assert mail.subject == "Ми отримали ваш запит на безкоштовну послугу"
    assert "Тарас Коваленко" in mail.body
    assert "«Інший менеджер зробив нам налаштування безкоштовно" in mail.body

    # The escalation keeps the promise and where it went (a missed one is owned up to there).
    (row,) = await rows(
        env,
        "SELECT client_reply_by, promise_to FROM escalator.escalations WHERE id = :id",
        id=ack.escalation_id,
    )
    promise_to = row["promise_to"]
    promise_to = json.loads(promise_to) if isinstance(promise_to, str) else promise_to
    assert row["client_reply_by"].isoformat() == promised
    assert (promise_to["recipient"], promise_to["language"]) == (REGISTERED, "uk")

    # The account manager reads what went to the client and what it promised.
    (told, *_) = bus.to(MANAGER.email)
    assert told["data"]["client_contacts_sent"]["kinds"] == ["request_ack"]
    assert told["data"]["client_reply_by"] == promised


@pytest.mark.parametrize("status", ["unknown", "suspicious"])
async def test_a_sender_not_verified_gets_no_acknowledgement(
    env: Env, watch: tuple[nats.NATS, Bus], status: IdentityStatus
) -> None:
    nc, bus = watch
    sender = f"olena-{uuid.uuid4().hex[:8]}@kvitka-mail.example"
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_kvitka(FREEBIE, status, sender))
        staff = MANAGER.email if status == "suspicious" else "deputy.support@careline.example"
        await until(lambda: bus.to(staff) and freebie(bus))
    (opened,) = freebie(bus)

    assert opened["kind"] == "freebie" and opened["client_reply_by"] is None
    assert acks(bus) == [] and bus.to(sender) == [] and bus.to(REGISTERED) == []
    (told,) = bus.to(staff)
    if status == "suspicious":  # staff hear what was kept from the client, and why
        assert told["data"]["client_contacts_withheld"] == {
            "kinds": ["request_ack"],
            "why": "suspicious",
        }
