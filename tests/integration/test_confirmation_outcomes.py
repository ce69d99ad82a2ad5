"""Seed 000 on the real servers: when a probable sender's confirmation expires, the people
holding the escalations of its message are told to reach the client themselves, once each
even when the outcome comes again; an escalation resolved by then only records it."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import nats
import pytest

from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    ResolveEscalation,
)
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    BILLING,
    HEAD,
    LEGAL,
    Bus,
    ask,
    awaiting_confirmation,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration
MANAGER = "o.petrova@careline.example"
CEO = "a.sokolov@stroymontazh.ru"


def from_the_ceo(text: str, confirmation_id: uuid.UUID) -> tuple[bytes, str]:
    """The harness's verified message, written from the CEO's own address: probable, with
    a confirmation asked of the registered contact."""
    verified = awaiting_confirmation(text, CEO, confirmation_id)
    return json.dumps(verified).encode(), verified["message_id"]


def expiry(message_id: str, confirmation_id: uuid.UUID) -> bytes:
    return (
        ConfirmationExpired(
            event_id=uuid.uuid4(),
            message_id=uuid.UUID(message_id),
            correlation_id=message_id,
            occurred_at=datetime.now(UTC),
            confirmation_id=confirmation_id,
            customer_id="cust-stroymontazh",
            expired_at=datetime.now(UTC),
        )
        .model_dump_json()
        .encode()
    )


def saying(bus: Bus, kind: str) -> list[dict[str, Any]]:
    """The notices whose reason says a change of this kind ("new_sender")."""
    return [
        r
        for r in bus.of("notify.request")
        if any(i.get("kind") == kind for i in r["data"].get("change_items") or [])
    ]


def told(bus: Bus, change: str) -> list[dict[str, Any]]:
    return [
        r
        for r in bus.of("notify.request")
        if r["data"].get("change") == change
        or any(e.get("change") == change for e in r["data"].get("escalations") or [])
    ]


async def test_an_expired_confirmation_tells_each_holder_once_to_reach_the_client(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    confirmation_id = uuid.uuid4()
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    payload, message_id = from_the_ceo(text, confirmation_id)
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, payload)
        opened = await bus.wait("escalation.opened", 2)
        assert sorted(e["kind"] for e in opened) == ["billing", "identity_confirmation"]
        # He writes again from the same address while the request stands (the verifier
        # asks nothing new): a threat of court opens a case for the lawyers; "any news?"
        # goes on with no case of the client's (he is not confirmed: the holders would
        # answer a stranger) and tells nobody.
        threat, _ = from_the_ceo("Если не разберётесь, подам в суд.", confirmation_id)
        await publish_verified(nc, threat)
        opened = await bus.wait("escalation.opened", 3)
        nudge, _ = from_the_ceo("Есть новости?", confirmation_id)
        await publish_verified(nc, nudge)
        await asyncio.sleep(1.0)
        assert told(bus, "follow_up") == []

        # The outcome twice (a redelivery, a second expiry pass): the same notices.
        for _ in range(2):
            await nc.jetstream().publish(
                "crm.confirmation.expired", expiry(message_id, confirmation_id)
            )
        await until(lambda: len(told(bus, "identity_expired")) >= 4)
        await asyncio.sleep(1.0)  # the second outcome, handled by now, adds nothing
        notices = told(bus, "identity_expired")

    # The account manager holds all three (one digest); billing, the lawyers and the head
    # of support their own: the lawyers' case, opened by the second message, hears it too.
    by_recipient = {n["recipient"]: n for n in notices}
    assert len(notices) == 4 and sorted(by_recipient) == [BILLING, HEAD, LEGAL, MANAGER]
    assert by_recipient[MANAGER]["kind"] == "staff_digest"
    assert by_recipient[BILLING]["kind"] == "manager_escalation"
    assert {n["message_id"] for n in notices} == {message_id}
    (fact,) = by_recipient[BILLING]["data"]["change_items"]
    assert fact["kind"] == "identity_expired" and "reach the client" in fact["text"]
    assert await rows(
        env,
        "SELECT e.kind, e.identity_status, t.actor->>'role' AS actor, t.detail->>'outcome' AS o "
        "FROM escalator.escalations e JOIN escalator.escalation_timeline t "
        "ON t.escalation_id = e.id WHERE t.entry = 'identity_expired' ORDER BY e.kind",
    ) == [
        {"kind": k, "identity_status": "probable", "actor": "verifier", "o": "expired"}
        for k in ("billing", "identity_confirmation", "legal")
    ]


async def test_a_resolved_escalation_records_the_outcome_and_tells_nobody(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    confirmation_id = uuid.uuid4()
    payload, message_id = from_the_ceo("Объясните, почему нам пишут о просрочке.", confirmation_id)
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, payload)
        (opened,) = await bus.wait("escalation.opened")
        assert opened["kind"] == "identity_confirmation"
        # The manager reached the client by phone and closed it before anyone confirmed.
        resolved = await ask(
            env,
            ResolveEscalation(
                command_id=uuid.uuid4(),
                escalation_id=uuid.UUID(opened["escalation_id"]),
                actor=MANAGER,
                note="Созвонились с клиентом, всё объяснили.",
            ),
        )
        assert resolved.outcome == "resolved"

        await nc.jetstream().publish(
            "crm.confirmation.expired", expiry(message_id, confirmation_id)
        )

        async def recorded() -> list[dict[str, Any]]:
            return await rows(
                env,
                "SELECT entry FROM escalator.escalation_timeline "
                "WHERE escalation_id = :id AND entry LIKE 'identity_%'",
                id=opened["escalation_id"],
            )

        await until(recorded)
        assert await recorded() == [{"entry": "identity_expired"}]
    assert told(bus, "identity_expired") == []


def from_another(text: str, address: str, confirmation_id: uuid.UUID) -> bytes:
    """The CEO's message, from another address not on file (a confirmation of its own)."""
    payload, _ = from_the_ceo(text, confirmation_id)
    verified = json.loads(payload)
    verified["message"]["sender"] = {"email": address}
    return json.dumps(verified).encode()


async def test_another_unconfirmed_address_in_the_clients_name_is_news(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Seed 000 after a denial: someone else writes in the client's name from yet another
    address. It merges into the open identity confirmation, and its holder hears it (a merge
    that says nothing new told nobody); the first address writing again tells nobody."""
    nc, bus = watch
    first = uuid.uuid4()
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        payload, _ = from_the_ceo("Объясните, почему нам пишут о просрочке.", first)
        await publish_verified(nc, payload)
        (opened,) = await bus.wait("escalation.opened")
        again, _ = from_the_ceo("Жду ответа по просрочке.", first)
        await publish_verified(nc, again)
        await bus.wait("escalation.updated")
        other = from_another(
            "Это тоже СтройМонтаж, ответьте.", "stroi.montazh@mail.ru", uuid.uuid4()
        )
        await publish_verified(nc, other)
        await bus.wait("escalation.updated", 2)
        await until(lambda: saying(bus, "new_sender"))

    news = saying(bus, "new_sender")
    assert [(r["recipient"], r["escalation_id"]) for r in news] == [
        (MANAGER, opened["escalation_id"])
    ]
    assert news[0]["message_id"] == json.loads(other)["message_id"]
    # The first address writing again told nobody: the opening's notice and the news only.
    staff = [r for r in bus.of("notify.request") if r["recipient"] == MANAGER]
    assert len(staff) == 2


async def test_after_a_denial_another_address_in_the_clients_name_is_marked_so(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Acceptance: a minute after the registered contact answered "Це не ми", a third
    address wrote in the client's name and the notice said nothing of the denial."""
    nc, bus = watch
    first = uuid.uuid4()
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        payload, message_id = from_the_ceo("Объясните, почему нам пишут о просрочке.", first)
        await publish_verified(nc, payload)
        (opened,) = await bus.wait("escalation.opened")
        denied = ConfirmationDenied(
            event_id=uuid.uuid4(),
            message_id=uuid.UUID(message_id),
            correlation_id=message_id,
            occurred_at=datetime.now(UTC),
            confirmation_id=first,
            customer_id="cust-stroymontazh",
            denied_at=datetime.now(UTC),
        )
        await nc.jetstream().publish("crm.confirmation.denied", denied.model_dump_json().encode())
        await until(lambda: told(bus, "identity_denied"))
        other = from_another("Ответьте наконец по просрочке.", "s.montazh@mail.ru", uuid.uuid4())
        await publish_verified(nc, other)
        await until(lambda: saying(bus, "new_sender_suspicious"))

    (news,) = saying(bus, "new_sender_suspicious")
    assert (news["recipient"], news["escalation_id"]) == (MANAGER, opened["escalation_id"])
    assert news["data"]["sender"]["email"] == "s.montazh@mail.ru"  # who wrote, for staff


def unclear_reply(text: str, confirmation_id: uuid.UUID, asked_about: str) -> bytes:
    """The registered contact's reply to the request, as the verifier sends it: verified,
    with the request it left pending as evidence of its own (verifier/replies.py)."""
    verified = json.loads(legal_threat(text))
    verified["message"]["subject"] = "Re: Подтвердите обращение"
    verified["identity"]["evidence"] = [
        {
            "kind": "confirmation_unclear",
            "detail": f"the registered contact answered confirmation {confirmation_id} of "
            "customer cust-stroymontazh without confirming or denying it: still pending",
            "weight": 0.0,
            "source": "crm.confirmations",
            "customer_id": "cust-stroymontazh",
            "values": {
                "confirmation_id": str(confirmation_id),
                "customer_id": "cust-stroymontazh",
                "channel": "email",
                "address": asked_about,
            },
        }
    ]
    return json.dumps(verified).encode()


async def test_an_unclear_answer_tells_the_holders_to_call_and_a_later_yes_still_settles(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Seed 000 with invoice fraud: the registered contact answers the request «А кто это
    вообще? Мы вам ничего не писали?». The holders of the sender's cases (the identity
    confirmation, the payment-details case) heard nothing, or "the client wrote again"; now
    they read that it was neither yes nor no, and to call the number on file. The request
    stays pending: a later yes settles it as before."""
    nc, bus = watch
    confirmation_id = uuid.uuid4()
    text = "Просим сменить реквизиты для оплаты: новый IBAN UA213223130000026007233566001."
    payload, message_id = from_the_ceo(text, confirmation_id)
    said = "А кто это вообще? Мы вам ничего не писали?"
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, payload)
        opened = await bus.wait("escalation.opened", 2)
        kinds = {e["kind"]: e["escalation_id"] for e in opened}
        assert sorted(kinds) == ["identity_confirmation", "payment_details"]
        await publish_verified(nc, unclear_reply(said, confirmation_id, CEO))
        await until(lambda: len(told(bus, "identity_unclear")) >= 2)
        await asyncio.sleep(0.5)
        unclear = told(bus, "identity_unclear")
        assert told(bus, "follow_up") == []  # not "the client wrote again"

        confirmed = ChannelConfirmed(
            event_id=uuid.uuid4(),
            message_id=uuid.UUID(message_id),
            correlation_id=message_id,
            occurred_at=datetime.now(UTC),
            confirmation_id=confirmation_id,
            customer_id="cust-stroymontazh",
            contact_id="ct-sokolov",
            channel=ChannelRef(kind="email", address=CEO, verified=True),
            via="reply",
            confirmed_at=datetime.now(UTC),
        )
        await nc.jetstream().publish("crm.channel.confirmed", confirmed.model_dump_json().encode())
        await until(lambda: told(bus, "identity_confirmed"))

    # The manager holds the identity confirmation; security and billing the payment case.
    held_by = {n["recipient"]: n["escalation_id"] for n in unclear}
    assert held_by == {
        MANAGER: kinds["identity_confirmation"],
        BILLING: kinds["payment_details"],
        "security@careline.example": kinds["payment_details"],
    }
    (fact,) = unclear[[n["recipient"] for n in unclear].index(BILLING)]["data"]["change_items"]
    assert fact["kind"] == "identity_unclear"
    assert fact["values"] == {"address": CEO, "said": said}
    assert "number on file" in fact["text"]
    # About the reply: who wrote it.
    assert {n["data"]["sender"]["email"] for n in unclear} == {"buh@stroymontazh.ru"}
    # Timelines: ids only; both stayed open until the yes, which closed the confirmation.
    entries = await rows(
        env,
        "SELECT e.kind, e.status, t.detail FROM escalator.escalations e JOIN "
        "escalator.escalation_timeline t ON t.escalation_id = e.id "
        "WHERE t.entry = 'identity_unclear' ORDER BY e.kind",
    )
    assert [(r["kind"], r["status"]) for r in entries] == [
        ("identity_confirmation", "resolved"),
        ("payment_details", "open"),
    ]
    assert {r["detail"]["confirmation_id"] for r in entries} == {str(confirmation_id)}
    assert CEO not in json.dumps([r["detail"] for r in entries])


def late_no(text: str, confirmation_id: uuid.UUID, manager: dict[str, Any] | None) -> bytes:
    """The registered contact's «it was not us» to a request confirmed before, as the
    verifier sends it (`denied_after_confirmed`): the spent code among its values."""
    verified = json.loads(unclear_reply(text, confirmation_id, CEO))
    verified["message"]["subject"] = "Re: Смена реквизитов"
    (evidence,) = verified["identity"]["evidence"]
    evidence["values"] |= {"settled": "confirmed", "code": "OK-7H3K-Q9PX"}
    verified["identity"]["account_manager"] = manager
    return json.dumps(verified).encode()


async def test_a_late_no_with_no_case_waiting_goes_to_the_manager_else_the_head(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The address was confirmed, its identity case closed; the registered contact now
    says «Это не мы». No open case waits on the confirmation, so no holder would hear that
    the client disowns an address we treat as theirs: the account manager does, in the
    language the CRM says they read; a client without one on file, the head of support."""
    nc, bus = watch
    first, second = uuid.uuid4(), uuid.uuid4()
    manager = {"id": "am-petrova", "name": "Ольга Петрова", "email": MANAGER, "language": "uk"}
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, late_no("Це не ми! Нічого не змінюйте.", first, manager))
        await publish_verified(nc, late_no("Это не мы!", second, None))
        await until(
            lambda: len([n for n in bus.of("notify.request") if n["kind"] == "identity_alert"]) >= 2
        )
        await asyncio.sleep(0.5)
    alerts = {n["recipient"]: n for n in bus.of("notify.request") if n["kind"] == "identity_alert"}
    assert sorted(alerts) == [HEAD, MANAGER]
    to_manager, to_head = alerts[MANAGER], alerts[HEAD]
    assert (to_manager["recipient_role"], to_manager["language"]) == ("account_manager", "uk")
    assert (to_head["recipient_role"], to_head["language"]) == ("head_of_support", "ru")
    assert to_head["data"]["stand_in_for"] == "account_manager"
    for alert, confirmation_id in ((to_manager, first), (to_head, second)):
        assert alert["escalation_id"] is None
        assert alert["data"]["confirmation_id"] == str(confirmation_id)
        assert (alert["data"]["address"], alert["data"]["confirmation_code"]) == (
            CEO,
            "OK-7H3K-Q9PX",
        )
        assert alert["data"]["answered_by"] == "buh@stroymontazh.ru"
    assert to_manager["data"]["said"] == "Це не ми! Нічого не змінюйте."
    # Nothing else: the late no is no case of its own, and no holder's notice.
    assert told(bus, "identity_unclear") == [] and bus.of("escalation.opened") == []


async def test_a_late_no_reaches_the_holders_of_what_the_confirmed_address_opened_since(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Once confirmed, the CEO's address wrote as the client's and opened a billing claim;
    its identity case is closed. The registered contact now says «Это не мы»: billing and
    the manager, who hold that claim, hear it on it (not an alert to the manager alone)."""
    nc, bus = watch
    confirmation_id = uuid.uuid4()
    manager = {"id": "am-petrova", "name": "Ольга Петрова", "email": MANAGER}
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        claim = json.loads(legal_threat("Мы уже оплатили счёт № 4512, а вы пишете о долге."))
        claim["message"]["sender"]["email"] = CEO
        await publish_verified(nc, json.dumps(claim).encode())
        (opened,) = await bus.wait("escalation.opened")
        assert opened["kind"] == "billing"
        await publish_verified(
            nc, late_no("Это не мы! Ничего не меняйте.", confirmation_id, manager)
        )

        def told_of_claim() -> list[dict[str, Any]]:
            return [
                n
                for n in told(bus, "identity_denied_late")
                if n["escalation_id"] == opened["escalation_id"]
                or opened["escalation_id"]
                in {e["escalation_id"] for e in n["data"].get("escalations") or []}
            ]

        await until(lambda: {n["recipient"] for n in told_of_claim()} >= {BILLING, MANAGER})
        await asyncio.sleep(0.3)
    alerts = [
        n
        for n in bus.of("notify.request")
        if n["kind"] == "identity_alert" and n["data"]["confirmation_id"] == str(confirmation_id)
    ]
    assert alerts == []
