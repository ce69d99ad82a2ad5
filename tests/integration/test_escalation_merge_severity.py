"""A message merged into an open escalation raises its severity when its rule is graver, and
one that reopens a resolved escalation never lowers it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from services.escalator.policy import POLICY_PATH
from services.notifier.domain import render_kind
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Identity,
    ResolveEscalation,
    SenderIdentifiers,
    StaffRef,
)
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    BILLING,
    HEAD,
    Bus,
    ack,
    ask,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    verified_payload,
)

pytestmark = pytest.mark.integration


def policy_with_grave_legal_rule(tmp_path: Path) -> Path:
    """The shipped policy plus a P1 rule of the legal kind for threats of violence."""
    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    data["rules"].append(
        {
            "id": "legal-violence",
            "when": {"any_signals": ["violence_threat"]},
            "kind": "legal",
            "severity": "P1",
            "notify": ["legal"],
            "playbook": {"ru": "Угроза насилия в споре: юристы и безопасность."},
        }
    )
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def requests_of(bus: Bus, message_id: str) -> list[dict[str, Any]]:
    """The notices asked for at the message; a client digest's answers are its `parts`."""
    return [r for r in bus.of("notify.request") if r["message_id"] == message_id]


async def until_told(bus: Bus, message_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not requests_of(bus, message_id):
        assert time.monotonic() < deadline, "nobody was told"
        await asyncio.sleep(0.05)


async def test_a_graver_message_raises_the_open_escalation_and_its_deadline(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    settings = escalator_settings(env, ESCALATOR_POLICY=str(policy_with_grave_legal_rule(tmp_path)))
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        assert (opened["kind"], opened["severity"]) == ("legal", "P2")
        escalation_id = uuid.UUID(opened["escalation_id"])
        (before,) = await rows(
            env, "SELECT climb_due_at FROM escalator.escalations WHERE id = :id", id=escalation_id
        )

        told_at_opening = {
            r["recipient"]
            for r in await bus.wait("notify.request")
            if r["recipient_role"] == "legal"
        }
        assert told_at_opening == {"legal@careline.example"}

        await publish_verified(nc, legal_threat("Я вас найду и убью."))
        (merged,) = await bus.wait("escalation.updated")
        assert merged["escalation_id"] == str(escalation_id)
        assert merged["severity"] == "P1" and merged["change"] == "merged"
        assert merged["reason"].startswith("severity raised from P2 to P1; rule legal-violence")
        # Legal, told at opening, is told again: it is P1 now, with a shorter deadline.
        await until_told(bus, merged["message_id"])
        (raised,) = [  # (the threat also opened an escalation for security)
            r
            for r in requests_of(bus, merged["message_id"])
            if r["escalation_id"] == str(escalation_id)
        ]
        assert (raised["recipient"], raised["severity"]) == ("legal@careline.example", "P1")
        (change,) = raised["data"]["change_items"]
        assert change["text"] == "severity raised from P2 to P1"

        # A milder message merges without lowering it, and tells nobody again.
        await publish_verified(nc, legal_threat("Подам в суд, если не ответите."))
        updates = await bus.wait("escalation.updated", 2)
        assert updates[1]["severity"] == "P1" and "raised" not in updates[1]["reason"]
        await asyncio.sleep(0.5)
        assert [
            r
            for r in requests_of(bus, updates[1]["message_id"])
            if r["escalation_id"] == str(escalation_id)
        ] == []

    (after,) = await rows(
        env,
        "SELECT severity, message_count, climb_due_at FROM escalator.escalations WHERE id = :id",
        id=escalation_id,
    )
    assert (after["severity"], after["message_count"]) == ("P1", 3)
    # Each event says the escalation's own deadline: the raised one, then the one running
    # (a milder merge's rule would give it an hour more).
    for event in (merged, updates[1]):
        assert datetime.fromisoformat(event["ack_deadline"]) == after["climb_due_at"]
    # P1 has 15 minutes to acknowledge, P2 had 60: the raise brought the deadline forward.
    due_before: datetime = before["climb_due_at"]
    assert after["climb_due_at"] < due_before
    timeline = await rows(
        env,
        "SELECT entry, detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id ORDER BY id",
        id=escalation_id,
    )
    assert [t["entry"] for t in timeline] == [
        "opened",
        "merged",
        "severity_raised",
        "merged",
    ]
    assert timeline[2]["detail"] == {"from": "P2", "to": "P1", "rule": "legal-violence"}
    # A climb repeats the briefing: the rule that made it P1, and the raise, not the opening's.
    (row,) = await rows(
        env, "SELECT briefing FROM escalator.escalations WHERE id = :id", id=escalation_id
    )
    assert (row["briefing"]["rule"], row["briefing"]["severity"]) == ("legal-violence", "P1")
    assert [c["text"] for c in row["briefing"]["change_items"]] == ["severity raised from P2 to P1"]


def failure(text: str, registered: bool) -> bytes:
    """A verified client's message (legal_threat's), with or without a registered address
    to write back to."""
    verified = json.loads(legal_threat(text))
    if not registered:
        verified["identity"]["authorized_channels"] = []
    return json.dumps(verified).encode()


async def test_the_first_promise_is_for_the_escalations_severity_not_the_messages(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """A fed-up client (several signals at once: P1) with nowhere to write back: no promise.
    Then a plain failure (its own rule P2 for this gold client) once the CRM has the
    address: the client is promised an answer for the escalation's P1 (two hours), not
    P2's four hours."""
    nc, bus = watch
    # No court threat: while the lawyers weigh one, nothing admits fault nor promises.
    fed_up = (
        "Вы обещали починить экспорт к пятнице и опять не сделали! Верните деньги за месяц, "
        "или мы расторгнем договор."
    )
    plain = "Экспорт так и не работает, вы обещали починить его к пятнице."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, failure(fed_up, registered=False))
        opened = [e for e in await bus.wait("escalation.opened") if e["kind"] == "service_failure"]
        assert [(e["severity"], e["client_reply_by"]) for e in opened] == [("P1", None)]
        await publish_verified(nc, failure(plain, registered=True))
        (merged,) = [
            e for e in await bus.wait("escalation.updated") if e["kind"] == "service_failure"
        ]
        # The gold client's plain failure: its own rule P2, under the escalation's P1.
        assert (merged["severity"], merged["rule"]) == ("P1", "service-failure-top-tier")

    promised = datetime.fromisoformat(merged["client_reply_by"])
    assert promised - datetime.fromisoformat(merged["occurred_at"]) == timedelta(hours=2)
    (row,) = await rows(
        env,
        "SELECT client_reply_by FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened[0]["escalation_id"]),
    )
    assert row["client_reply_by"] == promised
    (notice,) = [r for r in bus.of("notify.request") if r["kind"] == "service_failure_notice"]
    assert datetime.fromisoformat(notice["data"]["reply_by"]) == promised


async def test_a_case_reopened_by_a_milder_message_keeps_its_severity(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Seed 001, fed up: a P1 the team resolved, and the client writes minutes later that
    the export still fails (its own rule P2): the case is back at P1, with P1's deadline."""
    nc, bus = watch
    fed_up = (
        "Вы обещали починить экспорт к пятнице и опять не сделали! Верните деньги за месяц, "
        "или мы расторгнем договор."
    )
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, failure(fed_up, registered=True))
        (opened,) = [
            e for e in await bus.wait("escalation.opened") if e["kind"] == "service_failure"
        ]
        assert opened["severity"] == "P1"
        resolved = await ask(
            env,
            ResolveEscalation(
                command_id=uuid.uuid4(),
                escalation_id=uuid.UUID(opened["escalation_id"]),
                actor="head.support@careline.example",
                note="Экспорт починили.",
            ),
        )
        assert resolved.outcome == "resolved"
        await publish_verified(nc, failure("Экспорт так и не работает.", registered=True))
        (reopened,) = [
            e for e in await bus.wait("escalation.reopened") if e["kind"] == "service_failure"
        ]

    assert reopened["escalation_id"] == opened["escalation_id"]
    assert (reopened["severity"], reopened["rule"]) == ("P1", "service-failure-top-tier")
    due = datetime.fromisoformat(reopened["ack_deadline"])
    assert due - datetime.fromisoformat(reopened["occurred_at"]) == timedelta(minutes=15)
    (row,) = await rows(
        env,
        "SELECT severity, climb_due_at FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert (row["severity"], row["climb_due_at"]) == ("P1", due)


def told_of(bus: Bus, message_id: str, escalation_id: str) -> list[dict[str, Any]]:
    """The staff notices a message sent about one escalation."""
    return [
        r
        for r in requests_of(bus, message_id)
        if r["escalation_id"] == escalation_id and not r["recipient_role"].startswith("client")
    ]


def miller(text: str, language: str = "en") -> bytes:
    """James Miller of Northwind Logistics writing from his registered address, in English."""
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-northwind", name="Northwind Logistics", tier="gold"),
        account_manager=StaffRef(
            id="am-carter", name="Emma Carter", email="e.carter@careline.example"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address="j.miller@northwind-logistics.com", verified=True)
        ],
        disclosure="account",
    )
    sender = SenderIdentifiers(
        email="j.miller@northwind-logistics.com", display_name="James Miller"
    )
    return verified_payload(
        text,
        identity,
        sender,
        domain="northwind-logistics.com",
        subject="Outage",
        language=language,
    )


async def test_another_problem_the_same_lexicon_entry_finds_is_news_to_the_case(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Acceptance (seed 001): "CSV export returns an empty file" written into the open case
    of "the dashboard has been down since morning" told nobody and the client heard nothing
    of it: "down" found both, and a merge judged news by the lexicon entry. It is another
    thing: whoever holds the case hears it, and the client reads it was added."""
    nc, bus = watch
    first = "The dashboard has been down since morning."
    # (Said with "down": "returns an empty file" is a failure entry of its own since round 18.)
    # (Not "since the update": our update breaking it is a failure entry of its own since
    # round 36, and no plain outage report.)
    second = "The CSV export is down too."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, miller(first))
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = opened["escalation_id"]
        await until_told(bus, opened["message_id"])
        at_opening = {r["recipient"] for r in told_of(bus, opened["message_id"], escalation_id)}
        assert at_opening == {"e.carter@careline.example", HEAD}

        await publish_verified(nc, miller(second))
        (merged,) = await bus.wait("escalation.updated")
        assert (merged["escalation_id"], merged["change"]) == (escalation_id, "merged")
        await until_told(bus, merged["message_id"])
        await asyncio.sleep(0.5)

    # The same entry fired both times; the case keeps what each problem is about.
    assert {e["rule"] for s in merged["signals"] for e in s["evidence"]} == {
        e["rule"] for s in opened["signals"] for e in s["evidence"]
    }
    told = told_of(bus, merged["message_id"], escalation_id)
    assert {r["recipient"] for r in told} == at_opening
    for notice in told:
        (change,) = notice["data"]["change_items"]
        assert change["kind"] == "wrote_again"
        assert second in change["values"]["new"]
    follow_ups = [
        {**r, **answer}
        for r in requests_of(bus, merged["message_id"])
        for answer in (r["parts"] or [r])
        if answer["data"].get("follow_up")
    ]
    # Both are plain outage reports (round 32): the acknowledgement follows up, not the
    # failure notice.
    assert [(r["kind"], r["recipient"]) for r in follow_ups] == [
        ("outage_report_ack", "j.miller@northwind-logistics.com")
    ]
    assert follow_ups[0]["data"]["problems"] == [second]
    (kept,) = await rows(
        env, "SELECT signals FROM escalator.escalations WHERE id = :id", id=uuid.UUID(escalation_id)
    )
    about = [e.get("about") for s in kept["signals"] for e in s["evidence"]]
    assert about == [["dashboard"], ["csv", "export"]]


async def test_a_client_writing_something_new_into_an_open_escalation_is_heard(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Acceptance: four new problems written into an open escalation reached nobody (a merge
    told only roles not told yet). The same problem in other words still tells nobody again;
    a new one tells the rule's people, and the notice says what is new."""
    nc, bus = watch
    first = "Экспорт отчётов до сих пор не работает."
    again = "Экспорт до сих пор не работает, сколько можно."
    new = "А вчера ваш оператор сказал, что такой функции в тарифе нет, хотя она в нём есть."
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, failure(first, registered=True))
        (opened,) = [e for e in await bus.wait("escalation.opened") if e["kind"] != "legal"]
        escalation_id = opened["escalation_id"]
        await until_told(bus, opened["message_id"])
        at_opening = {r["recipient"] for r in told_of(bus, opened["message_id"], escalation_id)}
        assert at_opening  # the account manager and the head of support
        taker = sorted(at_opening)[0]
        taken = await ask(env, ack(uuid.UUID(escalation_id), taker))
        assert taken.outcome == "acknowledged"

        sent = [failure(again, registered=True), failure(new, registered=True)]
        for verified in sent:
            await publish_verified(nc, verified)
        by_message = {
            e["message_id"]: e
            for e in await bus.wait("escalation.updated", 2)
            if e["escalation_id"] == escalation_id
        }
        merges = [by_message[json.loads(v)["message"]["message_id"]] for v in sent]
        assert [e["change"] for e in merges] == ["merged", "merged"]
        await until_told(bus, merges[1]["message_id"])
        await asyncio.sleep(0.5)

    # The same problem again: nobody is told twice.
    assert told_of(bus, merges[0]["message_id"], escalation_id) == [], merges[0]["reason"]
    assert "wrote again" not in merges[0]["reason"]
    # Something new: whoever was told at the opening hears it, and why.
    told = told_of(bus, merges[1]["message_id"], escalation_id)
    assert {r["recipient"] for r in told} == at_opening
    for notice in told:
        # The case itself is not its own history.
        previous = notice["data"]["fact_pack"]["previous_escalations"]
        assert escalation_id not in {e["id"] for e in previous}
        (change,) = notice["data"]["change_items"]
        assert change["kind"] == "wrote_again"
        assert "такой функции в тарифе нет, хотя она в нём есть" in change["values"]["new"]
        # Someone has it: they are not asked to take it again, the others read who has it.
        assert (notice["data"]["taken_by"], notice["data"]["ack_overdue"]) == (taker, False)
    assert merges[1]["reason"].startswith("the client wrote again, with something new: «")
    # And the client hears the new problem was added to the case, once, in his words.
    # (The operator's words dispute the tariff too: that answer may share the mail.)
    follow_ups = [
        {**r, **answer}
        for m in merges
        for r in requests_of(bus, m["message_id"])
        for answer in (r["parts"] or [r])
        if answer["data"].get("follow_up")
    ]
    assert [(r["message_id"], r["kind"]) for r in follow_ups] == [
        (merges[1]["message_id"], "service_failure_notice")
    ]
    assert follow_ups[0]["data"]["problems"] == [
        "Вчера ваш оператор сказал, что такой функции в тарифе нет, хотя она в нём есть."
    ]
    promised = datetime.fromisoformat(opened["client_reply_by"])
    assert datetime.fromisoformat(follow_ups[0]["data"]["reply_by"]) == promised


@pytest.mark.parametrize(
    ("first", "second", "language", "subject"),
    [
        (
            "Счёт № 4512 уже оплачен, а нам пишут, что отключат сервис.",
            "И ещё: по счёту № 4630 с нас списали оплату дважды.",
            "ru",
            "Мы добавили новое сообщение к вашему обращению",
        ),
        (
            "Рахунок № 4512 вже оплачено, а нам пишуть, що відключать сервіс.",
            "А ще: за рахунком № 4630 з нас списали оплату двічі.",
            "uk",
            "Ми додали нове повідомлення до вашого звернення",
        ),
        (
            "Invoice 4512 is paid, do not suspend us.",
            "Also, we were charged twice for invoice 4630.",
            "en",
            "We have added a new message to your case",
        ),
    ],
)
async def test_another_disputed_invoice_in_the_open_billing_case_is_acknowledged_as_added(
    env: Env, watch: tuple[nats.NATS, Bus], first: str, second: str, language: str, subject: str
) -> None:
    """A second disputed payment or charge written into the open billing case reaches its
    holders as news, and the client reads it was added to the case (as for a failure): it
    used to hear nothing, the billing acknowledgement having gone once per case."""
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, miller(first, language))
        (opened,) = await bus.wait("escalation.opened")
        assert opened["kind"] == "billing"
        await until_told(bus, opened["message_id"])
        (ack,) = [
            r for r in requests_of(bus, opened["message_id"]) if r["kind"] == "billing_dispute_ack"
        ]
        assert not ack["data"].get("follow_up")

        await publish_verified(nc, miller(second, language))
        (merged,) = await bus.wait("escalation.updated")
        assert (merged["escalation_id"], merged["change"]) == (opened["escalation_id"], "merged")
        await until_told(bus, merged["message_id"])
        await asyncio.sleep(0.5)

    told = told_of(bus, merged["message_id"], opened["escalation_id"])
    assert {r["recipient"] for r in told} >= {BILLING}
    found = [
        {**r, **answer}
        for r in requests_of(bus, merged["message_id"])
        for answer in (r["parts"] or [r])
        if answer["kind"] == "billing_dispute_ack"
    ]
    # The first acknowledgement is asked again (the notifier, having sent it, leaves it out).
    assert {a["notification_id"] for a in found if not a["data"].get("follow_up")} <= {
        ack["notification_id"]
    }
    (again,) = [a for a in found if a["data"].get("follow_up")]
    assert again["recipient"] == "j.miller@northwind-logistics.com"
    assert again["data"]["claim"] == "charge"  # what the new message says, not the first
    assert again["notification_id"] != ack["notification_id"]
    rendered = render_kind("billing_dispute_ack", language, again["data"])
    assert rendered.subject == subject
