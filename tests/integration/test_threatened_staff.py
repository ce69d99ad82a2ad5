"""A client's threat that names the account manager reaches her as a notice of her own,
apart from the case security and the head of support hold (seed 003: protect the staff);
a threat naming nobody tells only them. The real escalator, PostgreSQL and NATS."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest

from services.notifier.domain import render
from shared.case_ref import case_ref
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Identity,
    SenderIdentifiers,
    SendNotification,
    StaffRef,
)
from tests.integration.conftest import Env
from tests.integration.escalator_harness import (
    HEAD,
    Bus,
    escalator_settings,
    publish_verified,
    start,
    until,
    verified_payload,
)

pytestmark = pytest.mark.integration

SECURITY = "security@careline.example"
SPARED = {
    "ru": "Дела клиента ведёт заместитель, а не Ольга Петренко — адресат личных знаков внимания",
    "uk": "Справи клієнта веде заступник, а не Ольга Петренко — адресат особистих знаків уваги",
    "en": "The client's cases go to the deputy, not to Ольга Петренко, whom the client's advances",
}
PAUSE = {"ru": "действует пауза", "uk": "діє пауза", "en": "A hold stands"}


def threat(
    text: str, manager: str, suffix: str | None = None, writer: str | None = None
) -> tuple[bytes, str]:
    """A verified message of a customer of its own (no other test's cases to merge into;
    `suffix` names it, for several messages of one customer) whose account manager reads
    Ukrainian, written by `writer` (a local part at kvitka.ua); and that manager's id."""
    suffix = suffix or uuid.uuid4().hex[:8]
    address = f"{writer or suffix}@kvitka.ua"
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id=f"cust-{suffix}", name="ТОВ «Квітка»", tier="silver"),
        account_manager=StaffRef(
            id=f"am-{suffix}", name="Ольга Петренко", email=manager, language="uk"
        ),
        authorized_channels=[ChannelRef(kind="email", address=address, verified=True)],
        disclosure="account",
    )
    sender = SenderIdentifiers(email=address)
    payload = verified_payload(text, identity, sender, domain="kvitka.ua", language="uk")
    return payload, identity.account_manager.id  # type: ignore[union-attr]


async def test_a_threat_naming_the_account_manager_tells_her_and_one_naming_nobody_does_not(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    named_one, nobody = "o.petrenko@careline.example", "o.petrenko.2@careline.example"
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        payload, manager_id = threat("Передайте Ользі, що я знаю, де вона живе.", named_one)
        await publish_verified(nc, payload)
        (opened,) = await bus.wait("escalation.opened")
        # Security and the head of support hold it; the reason names her by id only.
        assert (opened["kind"], opened["rule"]) == ("violence", "violence-to-security")
        assert f"the threat names the account manager {manager_id} by name" in opened["reason"]
        assert "Ольга" not in opened["reason"]
        await bus.wait("notify.request", 3)
        (told,) = bus.to(named_one)
        note = SendNotification.model_validate(told)
        assert (note.kind, note.recipient_role, note.language) == (
            "staff_threatened",
            "account_manager",
            "uk",
        )
        assert str(note.escalation_id) == opened["escalation_id"]
        assert note.data["holders"] == ["security", "head_of_support"]
        assert "ack_url" not in note.data  # the case is not hers to take
        body = render(note).body
        assert "Не відповідайте клієнтові самі" in body
        assert case_ref(opened["escalation_id"]) in body
        assert "служба безпеки, керівник підтримки" in body
        # Those who hold it read who is threatened, among the conditions of the rule.
        for holder in (SECURITY, HEAD):
            (notice,) = bus.to(holder)
            kinds = [c["kind"] for c in notice["data"]["condition_items"]]
            assert "threatened_account_manager_name" in kinds

        # The same threat naming nobody: security and the head of support, nobody apart.
        payload, _ = threat("Я знаю, де ви живете.", nobody)
        await publish_verified(nc, payload)
        await bus.wait("escalation.opened", 2)
        await bus.wait("notify.request", 5)
        second = bus.of("escalation.opened")[1]
        assert "threat names" not in second["reason"]
        assert bus.to(nobody) == []
        assert not [
            n
            for n in bus.of("notify.request")
            if n["kind"] == "staff_threatened" and n["escalation_id"] == second["escalation_id"]
        ]


async def test_the_threatened_managers_other_cases_go_to_the_deputy_and_the_client_waits(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    # Seed 003: a threat beside a failure and a money demand. The threatened manager takes
    # none of it; nothing automatic promises the violent client an answer (the hold).
    nc, bus = watch
    manager = "o.petrenko.3@careline.example"
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        payload, _ = threat(
            "Експорт не працює третій день. Поверніть гроші за підписку. "
            "Передайте Ользі, що я знаю, де вона живе.",
            manager,
        )
        await publish_verified(nc, payload)
        opened = await bus.wait("escalation.opened", 3)
        kinds = {e["kind"]: e for e in opened}
        assert set(kinds) == {"violence", "service_failure", "compensation"}
        assert kinds["violence"]["hold"]  # the investigation waits for the threats to stop
        await bus.wait("notify.request", 4)
        requests = bus.of("notify.request")
        # The manager hears of the threat, and only that.
        assert [n["kind"] for n in bus.to(manager)] == ["staff_threatened"]
        deputy = [n for n in requests if n["recipient_role"] == "deputy"]
        assert deputy and all(
            n["data"].get("stand_in_for") == "threatened_account_manager"
            or any(
                e.get("stand_in_for") == "threatened_account_manager"
                for e in n["data"].get("escalations", [])
            )
            for n in deputy
        )
        assert not [n for n in requests if n["recipient_role"].startswith("client")]


async def test_while_the_threats_hold_stands_the_threatened_manager_gets_no_new_case(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    # The threat places the hold and names her; a colleague of the client then reports a
    # failure (a calm message from another sender lifts nothing): the deputy takes it.
    nc, bus = watch
    manager = "o.petrenko.4@careline.example"
    suffix = uuid.uuid4().hex[:8]

    def from_(writer: str, text: str) -> bytes:
        return threat(text, manager, suffix, writer)[0]

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_("boss", "Передайте Ользі, що я знаю, де вона живе."))
        (violence,) = await bus.wait("escalation.opened")
        assert violence["hold"]
        await publish_verified(nc, from_("office", "Експорт не працює третій день."))
        opened = await bus.wait("escalation.opened", 2)
        (failure,) = [o for o in opened if o["kind"] == "service_failure"]
        assert not [u for u in bus.of("escalation.updated") if u["change"] == "hold_lifted"]

        def told_of_failure() -> list[dict[str, Any]]:
            return [
                n
                for n in bus.of("notify.request")
                if n["escalation_id"] == failure["escalation_id"]
                or failure["escalation_id"]
                in {e["escalation_id"] for e in n["data"].get("escalations", [])}
            ]

        await until(lambda: any(n["recipient_role"] == "deputy" for n in told_of_failure()))
        assert all(n["recipient"] != manager for n in told_of_failure())


async def test_advances_naming_the_manager_hand_the_clients_next_case_to_the_deputy(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    # Seed 002, case 3: the client flirts with the account manager by name, then reports a
    # failure. The deputy takes the failure; the client hears of it as usual (sparing her
    # withholds nothing). Advances naming nobody spare nobody: no hold.
    nc, bus = watch
    manager, other = "o.petrenko.5@careline.example", "o.petrenko.6@careline.example"
    suffix = uuid.uuid4().hex[:8]
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        advances = "Ольго, ви така гарна, давайте зустрінемося ввечері?"
        await publish_verified(nc, threat(advances, manager, suffix)[0])
        (harassment,) = await bus.wait("escalation.opened")
        assert harassment["kind"] == "harassment"
        # Whoever watches the escalations reads what the hold does, not a pause (team: ru).
        assert harassment["hold"] == (
            "Дела клиента ведёт заместитель, а не Ольга Петренко — адресат личных знаков "
            "внимания клиента; ответы клиенту не задерживаются."
        )
        await until(lambda: bool(bus.to(manager)))
        assert [n["kind"] for n in bus.to(manager)] == ["staff_threatened"]

        await publish_verified(nc, threat("Експорт не працює третій день.", manager, suffix)[0])
        opened = await bus.wait("escalation.opened", 2)
        (failure,) = [o for o in opened if o["kind"] == "service_failure"]

        def told_of_failure() -> list[dict[str, Any]]:
            return [
                n
                for n in bus.of("notify.request")
                if n["escalation_id"] == failure["escalation_id"]
                or failure["escalation_id"]
                in {e["escalation_id"] for e in n["data"].get("escalations", [])}
            ]

        await until(lambda: any(n["recipient_role"] == "deputy" for n in told_of_failure()))
        await until(
            lambda: any(n["recipient_role"].startswith("client") for n in told_of_failure())
        )
        assert all(n["recipient"] != manager for n in told_of_failure())
        assert not [u for u in bus.of("escalation.updated") if u["change"] == "hold_lifted"]
        # The deputy reads whom the cases go past, by name, not that a pause stands; the
        # client reads nothing of it.
        for n in told_of_failure():
            note = SendNotification.model_validate(n)
            if note.recipient_role.startswith("client"):
                assert "subject_holds" not in note.data
                assert "Петренко" not in render(note).body
                continue
            (held,) = note.data["subject_holds"]
            assert held["spared"] == ["Ольга Петренко"] and held["over"] == "advances"
            for language, said in SPARED.items():
                body = render(note.model_copy(update={"language": language})).body
                assert said in body and PAUSE[language] not in body

        await publish_verified(nc, threat("Ви така гарна, давайте зустрінемося ввечері?", other)[0])
        third = (await bus.wait("escalation.opened", 3))[2]
        assert third["kind"] == "harassment" and not third["hold"]


async def test_the_crms_deputy_stands_in_and_a_threat_naming_the_deputy_spares_them_too(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    # The client threatens its manager Ольга: the CRM's deputy Ігор takes her cases at his
    # own address. Then the client threatens Ігор by name («вашому Ігорю»): he is told
    # apart, and the client's next case goes to neither (the head of support holds it).
    nc, bus = watch
    manager, deputy = "o.petrenko.7@careline.example", "i.koval.7@careline.example"
    suffix = uuid.uuid4().hex[:8]

    def from_(writer: str, text: str) -> bytes:
        payload, _ = threat(text, manager, suffix, writer)
        verified = json.loads(payload)
        verified["identity"]["account_manager"]["deputy"] = StaffRef(
            id=f"am-koval-{suffix}", name="Ігор Коваль", email=deputy, language="uk"
        ).model_dump()
        return json.dumps(verified).encode()

    def about(escalation: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            n
            for n in bus.of("notify.request")
            if n["escalation_id"] == escalation["escalation_id"]
            or escalation["escalation_id"]
            in {e["escalation_id"] for e in n["data"].get("escalations", [])}
        ]

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        first = "Поверніть гроші за підписку. Передайте Ользі, що я знаю, де вона живе."
        await publish_verified(nc, from_("boss", first))
        opened = {e["kind"]: e for e in await bus.wait("escalation.opened", 2)}
        assert set(opened) == {"violence", "compensation"}
        await until(lambda: any(n["recipient"] == deputy for n in about(opened["compensation"])))
        (stand_in,) = [n for n in about(opened["compensation"]) if n["recipient"] == deputy]
        assert stand_in["recipient_role"] == "deputy"
        assert not [n for n in bus.of("notify.request") if n["recipient"].startswith("deputy.")]
        assert [n["kind"] for n in bus.to(manager)] == ["staff_threatened"]

        await publish_verified(nc, from_("boss", "А вашому Ігорю передайте, що я його знайду."))
        await until(lambda: any(n["kind"] == "staff_threatened" for n in bus.to(deputy)))
        (told,) = [n for n in bus.to(deputy) if n["kind"] == "staff_threatened"]
        note = SendNotification.model_validate(told)
        assert (note.recipient_role, note.language) == ("deputy", "uk")
        assert str(note.escalation_id) == opened["violence"]["escalation_id"]
        assert "Клієнт погрожує особисто вам" in render(note).subject
        # The held case it merged into says whom it names now, and its hold spares him too.
        (merged,) = [u for u in bus.of("escalation.updated") if u["change"] == "merged"]
        assert merged["escalation_id"] == opened["violence"]["escalation_id"]
        assert f"the threat names the deputy am-koval-{suffix} by name" in merged["reason"]

        # A colleague's calm report while the hold stands: neither the manager nor the
        # deputy; the head of support, whom the rule tells anyway, holds it alone.
        await publish_verified(nc, from_("office", "Експорт не працює третій день."))
        (failure,) = [
            o for o in await bus.wait("escalation.opened", 3) if o["kind"] == "service_failure"
        ]
        await until(lambda: any(n["recipient"] == HEAD for n in about(failure)))
        assert {n["recipient"] for n in about(failure)} & {manager, deputy} == set()
        assert not [u for u in bus.of("escalation.updated") if u["change"] == "hold_lifted"]
