"""Seed 000, taken back, on the real servers: the registered contact confirmed the CEO's
"new" address, a promise of the billing case moved there, he wrote again from it; then staff
found it is not the client's and ran `careline crm revoke`. The escalator puts the promise
back on the registered contact, records the revoke in each case it touched and alerts each
holder once in their language, however often the event comes; the notifier withdraws what
is not yet sent to the address."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from faststream._internal.testing.app import TestApp

from services.notifier.app import build_app as build_notifier
from services.notifier.domain import render
from services.notifier.holds import revoked_reason
from services.notifier.settings import NotifierSettings
from shared.case_ref import case_ref
from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ChannelRevoked,
    CustomerRef,
    Identity,
    SenderIdentifiers,
    SendNotification,
    StaffRef,
    TakenBack,
)
from tests.integration.conftest import Env, Mailbox, Recorder, drained, rows
from tests.integration.escalator_harness import (
    Bus,
    awaiting_confirmation,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
    verified_payload,
)
from tests.integration.test_held_answers import held_request, publish
from tests.integration.test_notifier_outbox import request as outbox_request
from tests.integration.test_threatened_staff import threat

pytestmark = pytest.mark.integration
CEO = "a.sokolov@stroymontazh.ru"
REGISTERED = "buh@stroymontazh.ru"
MANAGER = "o.petrova@careline.example"
BILLING = "billing@careline.example"
CUSTOMER = "cust-stroymontazh"
PHONE = "+74951234567"


def from_the_ceo(text: str, confirmation_id: uuid.UUID) -> tuple[bytes, str]:
    """Probable, from the CEO's own address; the account manager reads Ukrainian (the
    CRM says so), the rest of the team Russian (the policy's)."""
    verified = awaiting_confirmation(text, CEO, confirmation_id)
    verified["identity"]["account_manager"]["language"] = "uk"
    return json.dumps(verified).encode(), verified["message_id"]


def from_the_confirmed_ceo(text: str) -> bytes:
    """The CEO again, once his address is the client's verified channel."""
    verified = json.loads(legal_threat(text))
    verified["message"]["sender"] = {"email": CEO}
    verified["identity"]["account_manager"]["language"] = "uk"
    verified["identity"]["authorized_channels"].append(
        {"kind": "email", "address": CEO, "verified": True}
    )
    return json.dumps(verified).encode()


def confirmed(message_id: str, confirmation_id: uuid.UUID) -> ChannelConfirmed:
    now = datetime.now(UTC)
    return ChannelConfirmed(
        event_id=uuid.uuid4(),
        message_id=uuid.UUID(message_id),
        correlation_id=message_id,
        occurred_at=now,
        confirmation_id=confirmation_id,
        customer_id=CUSTOMER,
        contact_id="ct-sokolov",
        channel=ChannelRef(kind="email", address=CEO, verified=True),
        via="reply",
        confirmed_at=now,
    )


def revoked(message_id: uuid.UUID, confirmation_id: uuid.UUID) -> ChannelRevoked:
    now = datetime.now(UTC)
    return ChannelRevoked(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        confirmation_id=confirmation_id,
        customer_id=CUSTOMER,
        channel=ChannelRef(kind="email", address=CEO, verified=False),
        revoked_by="Ольга Петрова",
        revoked_at=now,
    )


async def promised_to(env: Env, escalation_id: str) -> dict[str, Any] | None:
    (row,) = await rows(
        env, "SELECT promise_to FROM escalator.escalations WHERE id = :id", id=escalation_id
    )
    found = row["promise_to"]
    return json.loads(found) if isinstance(found, str) else found  # type: ignore[no-any-return]


def alerts(bus: Bus) -> list[dict[str, Any]]:
    return [r for r in bus.of("notify.request") if r["kind"] == "identity_alert"]


async def test_a_revoke_puts_the_promise_back_records_it_and_alerts_each_holder_once(
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
        (billing,) = [e["escalation_id"] for e in opened if e["kind"] == "billing"]
        (identity,) = [e["escalation_id"] for e in opened if e["kind"] != "billing"]
        assert (await promised_to(env, billing) or {})["recipient"] == REGISTERED

        # The registered contact says yes: the promise moves to the CEO's address.
        event = confirmed(message_id, confirmation_id)
        await nc.jetstream().publish("crm.channel.confirmed", event.model_dump_json().encode())

        async def moved() -> bool:
            return (await promised_to(env, billing) or {}).get("recipient") == CEO

        await until(moved)
        # He writes again from it, as the client now: a threat of court, a case of its own.
        await publish_verified(nc, from_the_confirmed_ceo("Если не разберётесь, подам в суд."))
        (legal,) = [
            e["escalation_id"]
            for e in await bus.wait("escalation.opened", 3)
            if e["kind"] == "legal"
        ]

        # Staff take it back; the event comes twice (a redelivery, the command run again).
        revoke = revoked(uuid.UUID(message_id), confirmation_id)
        for _ in range(2):
            await nc.jetstream().publish("crm.channel.revoked", revoke.model_dump_json().encode())

        async def recorded() -> list[dict[str, Any]]:
            return await rows(
                env,
                "SELECT escalation_id, detail, actor FROM escalator.escalation_timeline "
                "WHERE entry = 'identity_revoked' ORDER BY escalation_id",
            )

        await until(lambda: alerts(bus))
        await until(lambda: _both_handled(env, revoke.event_id))
        await asyncio.sleep(1.0)  # the second delivery, handled by now, adds nothing
        said = alerts(bus)
        timeline = await recorded()
        updated = [u for u in bus.of("escalation.updated") if u["change"] == "identity_revoked"]

    # Each case the confirmation or the address touched records it once, the resolved
    # identity check too; who took it back is the actor.
    assert sorted(str(r["escalation_id"]) for r in timeline) == sorted([billing, identity, legal])
    for r in timeline:
        detail = json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]
        actor = json.loads(r["actor"]) if isinstance(r["actor"], str) else r["actor"]
        assert detail["confirmation_id"] == str(confirmation_id) and detail["address"] == CEO
        assert actor == {"role": "staff", "address": "Ольга Петрова"}
    # The promise is the registered contact's again, as it was.
    back = await promised_to(env, billing)
    assert back is not None and back["recipient"] == REGISTERED and "moved_from" not in back
    (row,) = await rows(
        env, "SELECT identity_status FROM escalator.escalations WHERE id = :id", id=billing
    )
    assert row["identity_status"] == "suspicious"
    # Whoever watches the escalations hears it of each open one, once: the resolved identity
    # check is not among them.
    assert sorted(u["escalation_id"] for u in updated) == sorted([billing, legal])
    by_case = {u["escalation_id"]: u for u in updated}
    assert by_case[billing]["identity_status"] == "suspicious"
    assert by_case[billing]["client_reply_by"] is not None and by_case[billing]["hold"] is None

    # One alert per holder of the open cases, never two; in the language each reads.
    recipients = [a["recipient"] for a in said]
    assert len(recipients) == len(set(recipients)) and {MANAGER, BILLING} <= set(recipients)
    by_recipient = {a["recipient"]: SendNotification.model_validate(a) for a in said}
    manager, billing_desk = by_recipient[MANAGER], by_recipient[BILLING]
    assert billing in {c["escalation_id"] for c in manager.data["cases"]}
    # The lawyers' case, opened by the address once confirmed, is told to whoever holds it.
    listed = {c["escalation_id"] for a in said for c in a["data"]["cases"]}
    assert listed == {billing, legal}
    assert (manager.language, billing_desk.language) == ("uk", "ru")
    uk, ru = render(manager), render(billing_desk)
    assert uk.subject.startswith("Співробітник відкликав підтвердження адреси")
    assert "платіжні реквізити" in uk.body and f"повідомимо на {REGISTERED}" in uk.body
    assert ru.subject.startswith("Сотрудник отозвал подтверждение адреса")
    assert "Ольга Петрова" in ru.body and "платёжные реквизиты" in ru.body


async def test_a_promise_made_at_the_address_to_a_message_of_another_channel_goes_back(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The client phones from its registered number; its promise goes to its first verified
    email on file, which is the address confirmed for the CEO. No message of the address,
    and not the confirmation, touched that case, yet its promise sits at the address: taken
    back, it goes to the registered contact, and the case records it."""
    nc, bus = watch
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id=CUSTOMER, name="ООО «СтройМонтаж»", tier="gold"),
        account_manager=StaffRef(id="am-petrova", name="Ольга Петрова", email=MANAGER),
        authorized_channels=[
            ChannelRef(kind="email", address=CEO, verified=True),
            ChannelRef(kind="email", address=REGISTERED, verified=True),
            ChannelRef(kind="phone", address=PHONE, verified=True),
        ],
        disclosure="account",
    )
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    payload = verified_payload(
        text, identity, SenderIdentifiers(phone=PHONE), domain="pbx.example", channel="phone"
    )
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, payload)
        opened = await bus.wait("escalation.opened", 1)
        (billing,) = [e["escalation_id"] for e in opened if e["kind"] == "billing"]
        assert (await promised_to(env, billing) or {})["recipient"] == CEO

        revoke = revoked(uuid.uuid4(), uuid.uuid4())  # a confirmation of another message
        await nc.jetstream().publish("crm.channel.revoked", revoke.model_dump_json().encode())
        await until(lambda: _both_handled(env, revoke.event_id))

    back = await promised_to(env, billing)
    assert back is not None and back["recipient"] == REGISTERED
    assert await rows(
        env,
        "SELECT escalation_id FROM escalator.escalation_timeline "
        "WHERE entry = 'identity_revoked' AND escalation_id = :id",
        id=billing,
    )


async def test_two_confirmations_taken_back_at_once_or_again_alert_each_holder_once(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The address was confirmed twice (two requests said yes), and one `careline crm revoke`
    took both back: the verifier announces one event per confirmation, and each finds the
    case the address opened. Its holders hear it once, its timeline and `escalation.updated`
    say it once; the command run again later for a third confirmation adds nothing."""
    nc, bus = watch
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_the_confirmed_ceo(text))
        (opened,) = await bus.wait("escalation.opened", 1)
        first, second = revoked(uuid.uuid4(), uuid.uuid4()), revoked(uuid.uuid4(), uuid.uuid4())
        second = second.model_copy(update={"revoked_at": first.revoked_at})  # one command
        for event in (first, second):
            await nc.jetstream().publish("crm.channel.revoked", event.model_dump_json().encode())
        for event in (first, second):
            await until(lambda e=event: _both_handled(env, e.event_id))
        await until(lambda: alerts(bus))
        later = revoked(uuid.uuid4(), uuid.uuid4())
        await nc.jetstream().publish("crm.channel.revoked", later.model_dump_json().encode())
        await until(lambda: _both_handled(env, later.event_id))
        await asyncio.sleep(0.5)  # anything published by the handled events is seen by now
        said = alerts(bus)
        updated = [u for u in bus.of("escalation.updated") if u["change"] == "identity_revoked"]
        timeline = await rows(
            env,
            "SELECT detail FROM escalator.escalation_timeline "
            "WHERE entry = 'identity_revoked' AND escalation_id = :id",
            id=opened["escalation_id"],
        )

    assert opened["kind"] == "billing"
    recipients = [a["recipient"] for a in said]
    assert len(recipients) == len(set(recipients)) and MANAGER in recipients
    assert [u["escalation_id"] for u in updated] == [opened["escalation_id"]]
    assert len(timeline) == 1


async def test_a_case_the_address_wrote_into_again_once_confirmed_anew_is_taken_back_again(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Taken back, confirmed again, taken back again: the CEO's case was taken back once;
    then the address was the client's again (a new confirmation) and wrote into the same
    open case as the verified client, its holders told so. The second revoke finds the case
    revoked before, but the address had it back since: it records the revoke, tells whoever
    watches and alerts the holders again. A revoke after which only the disowned sender
    wrote in (a third confirmation taken back) adds nothing."""
    nc, bus = watch
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_the_confirmed_ceo(text))
        (opened,) = await bus.wait("escalation.opened", 1)
        case = opened["escalation_id"]
        first = revoked(uuid.uuid4(), uuid.uuid4())
        await nc.jetstream().publish("crm.channel.revoked", first.model_dump_json().encode())
        await until(lambda: _both_handled(env, first.event_id))
        await until(lambda: alerts(bus))

        # Confirmed anew (decided after the first revoke), he writes into the same case.
        await publish_verified(nc, from_the_confirmed_ceo("Счёт № 4512 оплачен, снимите долг."))
        await until(lambda: [u for u in bus.of("escalation.updated") if u["change"] == "merged"])
        second = revoked(uuid.uuid4(), uuid.uuid4())
        await nc.jetstream().publish("crm.channel.revoked", second.model_dump_json().encode())
        await until(lambda: _both_handled(env, second.event_id))
        await until(lambda: len(alerts(bus)) >= 2)
        # Verified before the second revoke and handled after it: written in as the disowned
        # sender (revoked_sender.py), which gives the case back to nobody.
        late = json.loads(from_the_confirmed_ceo("Счёт № 4512 оплачен, снимите долг!"))
        late["occurred_at"] = (second.revoked_at - timedelta(seconds=1)).isoformat()
        merged = len(bus.of("escalation.updated"))
        await publish_verified(nc, json.dumps(late).encode())
        await until(lambda: len(bus.of("escalation.updated")) > merged)
        third = revoked(uuid.uuid4(), uuid.uuid4())
        await nc.jetstream().publish("crm.channel.revoked", third.model_dump_json().encode())
        await until(lambda: _both_handled(env, third.event_id))
        await asyncio.sleep(0.5)  # anything published by the handled events is seen by now
        said = [a for a in alerts(bus) if a["recipient"] == MANAGER]
        updated = [u for u in bus.of("escalation.updated") if u["change"] == "identity_revoked"]
        timeline = await rows(
            env,
            "SELECT detail FROM escalator.escalation_timeline "
            "WHERE entry = 'identity_revoked' AND escalation_id = :id ORDER BY id",
            id=case,
        )

    def confirmation_of(detail: Any) -> str:
        return str((json.loads(detail) if isinstance(detail, str) else detail)["confirmation_id"])

    assert [confirmation_of(r["detail"]) for r in timeline] == [
        str(first.confirmation_id),
        str(second.confirmation_id),
    ]
    assert [u["escalation_id"] for u in updated].count(case) == 2
    # The manager hears of the case at each revoke that took it back, and at no other.
    assert [
        a["data"]["confirmation_id"]
        for a in said
        if case in {c["escalation_id"] for c in a["data"]["cases"]}
    ] == [str(first.confirmation_id), str(second.confirmation_id)]


async def test_with_no_open_case_the_account_manager_the_verifier_named_hears_it_once(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Nothing of the client is open at the address: nobody holds a case to hear it, so the
    account manager the event names does; the two events of one command (two confirmations
    of the address) and a redelivery make one alert."""
    nc, bus = watch
    manager = StaffRef(id="am-petrova", name="Ольга Петрова", email=MANAGER, language="uk")
    # A colleague took it back: had she herself, she would get nothing (is_revoker).
    by = {"account_manager": manager, "revoked_by": "Анна Белова"}
    first = revoked(uuid.uuid4(), uuid.uuid4()).model_copy(update=by)
    second = revoked(uuid.uuid4(), uuid.uuid4()).model_copy(
        update={**by, "revoked_at": first.revoked_at}
    )
    # One command took both back: each event names both (the verifier's taken_back).
    both = [
        TakenBack(confirmation_id=e.confirmation_id, address=CEO, confirmed_at=when)
        for e, when in ((first, first.revoked_at - timedelta(days=9)), (second, None))
    ]
    first, second = (e.model_copy(update={"taken_back": both}) for e in (first, second))
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        for event in (first, second, first):
            body = event.model_dump_json().encode()
            await nc.jetstream().publish("crm.channel.revoked", body)
        for event in (first, second):
            await until(lambda e=event: _both_handled(env, e.event_id))
        await until(lambda: alerts(bus))
        await asyncio.sleep(0.5)
        said = alerts(bus)

    assert {a["notification_id"] for a in said} == {said[0]["notification_id"]}
    alert = SendNotification.model_validate(said[0])
    assert (alert.recipient, alert.recipient_role, alert.language) == (
        MANAGER,
        "account_manager",
        "uk",
    )
    assert alert.data["cases"] == [] and alert.data["address"] == CEO
    body = render(alert).body
    assert "Жодне відкрите звернення клієнта" in body
    assert "Відкликані підтвердження (2):" in body
    assert str(first.confirmation_id) in body and str(second.confirmation_id) in body


async def test_with_no_open_case_a_manager_the_clients_threats_spare_leaves_it_to_the_deputy(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The client threatened the manager (the violence case's hold spares her) and has no
    case at the address taken back: the alert asking its reader to reach the client goes to
    the CRM's deputy the event carries, in his language, not to the threatened manager."""
    nc, bus = watch
    suffix = uuid.uuid4().hex[:8]
    manager_email = f"o.petrenko.{suffix}@careline.example"
    deputy_email = f"i.koval.{suffix}@careline.example"
    payload, manager_id = threat("Передайте Ользі, що я знаю, де вона живе.", manager_email, suffix)
    deputy = StaffRef(
        id=f"am-koval-{suffix}", name="Ігор Коваль", email=deputy_email, language="en"
    )
    manager = StaffRef(
        id=manager_id, name="Ольга Петренко", email=manager_email, language="uk", deputy=deputy
    )
    event = revoked(uuid.uuid4(), uuid.uuid4()).model_copy(
        update={
            "customer_id": f"cust-{suffix}",
            "channel": ChannelRef(kind="email", address=f"ceo.{suffix}@kvitka.ua", verified=False),
            "account_manager": manager,
        }
    )
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, payload)
        (violence,) = await bus.wait("escalation.opened")
        await nc.jetstream().publish("crm.channel.revoked", event.model_dump_json().encode())
        await until(lambda: alerts(bus))
        (said,) = alerts(bus)

    alert = SendNotification.model_validate(said)
    assert (alert.recipient, alert.recipient_role, alert.language) == (deputy_email, "deputy", "en")
    assert alert.data["stand_in_for"] == "threatened_account_manager"
    # Why him, and in which case the client threatened her (not the threat's words).
    ref = case_ref(violence["escalation_id"])
    assert (
        f"To you, not the client's account manager: the client threatened them in case {ref}."
        in render(alert).body
    )
    assert not [n for n in bus.to(manager_email) if n["kind"] == "identity_alert"]


async def _both_handled(env: Env, event_id: uuid.UUID) -> bool:
    found = await rows(
        env,
        "SELECT key FROM escalator.processed_messages WHERE key = :key",
        key=f"channel-revoked:{event_id}",
    )
    return len(found) == 1


def quiet_now() -> str:
    """Quiet hours around this moment (UTC): a client's mail stays pending meanwhile."""
    now = datetime.now(UTC)
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"


async def test_the_notifier_withdraws_what_is_unsent_to_the_address_taken_back(
    bus: tuple[nats.NATS, Recorder], env: Env
) -> None:
    nc, recorder = bus
    settings = NotifierSettings(
        **env.base(),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=env.smtp_port,
        NOTIFIER_QUIET_HOURS=quiet_now(),
    )
    revoked_id, pending_id = uuid.uuid4(), uuid.uuid4()

    def to(recipient: str) -> SendNotification:
        answer = outbox_request(recipient=recipient, role="client_registered", severity=None)
        return answer.model_copy(update={"recipient_timezone": "UTC"})

    waiting = to(CEO)  # released to him when confirmed; quiet hours keep it
    elsewhere = to(REGISTERED)  # the client's own address: stays
    other_hold = held_request(pending_id)  # held for another request about the same address
    async with TestApp(build_notifier(settings)):
        for request in (waiting, elsewhere, other_hold):
            await publish(nc, "notify.request", request)

        async def statuses() -> dict[str, str]:
            found = await rows(env, "SELECT notification_id, status FROM notifier.notifications")
            return {str(r["notification_id"]): r["status"] for r in found}

        await until(lambda: _count(statuses(), 3))
        event = revoked(uuid.uuid4(), revoked_id)
        await publish(nc, "crm.channel.revoked", event)
        await publish(nc, "crm.channel.revoked", event, msg_id=f"{event.event_id}:again")
        await recorder.wait_for("notify.failed", 2, timeout=30)
        # An answer held for the revoked confirmation that comes late: never released.
        late = held_request(revoked_id)
        await publish(nc, "notify.request", late)
        await recorder.wait_for("notify.failed", 3, timeout=30)
        await drained(nc)
        now = await statuses()

    assert now[str(waiting.notification_id)] == "withdrawn"
    assert now[str(other_hold.notification_id)] == "withdrawn"
    assert now[str(late.notification_id)] == "withdrawn"
    assert now[str(elsewhere.notification_id)] == "pending"
    failed = {f["notification_id"] for f in recorder.of("notify.failed")}
    assert failed == {str(r.notification_id) for r in (waiting, other_hold, late)}
    (row,) = await rows(
        env,
        "SELECT withdrawn_reason, withdrawn_by FROM notifier.notifications "
        "WHERE notification_id = :id",
        id=str(waiting.notification_id),
    )
    assert row["withdrawn_reason"] == revoked_reason(revoked_id)
    assert row["withdrawn_by"] == event.event_id
    assert await rows(
        env,
        "SELECT outcome FROM notifier.confirmation_outcomes WHERE confirmation_id = :id",
        id=str(revoked_id),
    ) == [{"outcome": "revoked"}]


async def _count(found: Any, n: int) -> bool:
    return len(await found) >= n


async def test_a_message_verified_before_the_revoke_and_handled_after_it_puts_nothing_there(
    env: Env, watch: tuple[nats.NATS, Bus], mailbox: Mailbox
) -> None:
    """The verifier passed the CEO's message as the client's (his address confirmed) a
    moment before staff took the address back; the escalator got to it only after the revoke
    (its backlog, another stream). The escalator remembers the revoke and handles the message
    as the revoke left its sender (services/escalator/revoked_sender.py): disowned by staff,
    nothing requested for the address, no promise kept there; the notifier's own refusal of
    such a request (test_revoked_late.py) is the second line, not the only one."""
    nc, bus = watch
    notifier = NotifierSettings(**env.base(), SMTP_HOST="127.0.0.1", SMTP_PORT=env.smtp_port)
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await stack.enter_async_context(TestApp(build_notifier(notifier)))
        revoke = revoked(uuid.uuid4(), uuid.uuid4())
        await nc.jetstream().publish("crm.channel.revoked", revoke.model_dump_json().encode())
        await until(lambda: _both_handled(env, revoke.event_id))

        verified = json.loads(from_the_confirmed_ceo(text))
        verified["occurred_at"] = (revoke.revoked_at - timedelta(seconds=1)).isoformat()
        await publish_verified(nc, json.dumps(verified).encode())
        opened = await bus.wait("escalation.opened", 2)
        await until(lambda: bus.to(MANAGER))
        await drained(nc)
        promises = await rows(env, "SELECT kind, promise_to FROM escalator.escalations")

    assert {e["kind"] for e in opened} == {"billing", "suspicious_sender"}
    assert {e["identity_status"] for e in opened} == {"suspicious"}
    assert bus.to(CEO) == [] and not [m for m in mailbox.messages() if CEO in m["rcpt_tos"]]
    # Nothing promising goes automatically for a disowned sender's words: no promise at all.
    assert {r["kind"]: r["promise_to"] for r in promises} == {
        "billing": None,
        "suspicious_sender": None,
    }
