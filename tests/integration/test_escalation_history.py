"""The policy's history on real NATS and PostgreSQL: what the escalator remembers of a client
changes what the next message does (abuse twice; threats after a warning; a hold lifted by a
calm message), a message after resolution reopens, and the fact pack is stored and sent."""

from __future__ import annotations

import asyncio
import email
import uuid
from contextlib import AsyncExitStack
from email import policy as email_policy
from pathlib import Path
from typing import Any

import nats
import pytest
from typer.testing import CliRunner

from services.notifier.domain import render
from shared.cli import app
from shared.contracts import (
    ChannelRef,
    ContractTerms,
    CustomerRef,
    Evidence,
    Identity,
    Language,
    ResolveEscalation,
    SenderIdentifiers,
    SendNotification,
    StaffRef,
)
from tests.integration.conftest import Env, Mailbox, Running, count, rows
from tests.integration.escalator_harness import (
    Bus,
    ask,
    escalator_settings,
    policy_file,
    publish_verified,
    start,
    until,
    verified_payload,
)

pytestmark = pytest.mark.integration

AGENTS = "support.agents@careline.example"
SUPERVISOR = "supervisor@careline.example"
HEAD = "head.support@careline.example"
LEGAL = "legal@careline.example"
KVITKA = CustomerRef(
    id="cust-kvitka",
    name="ТОВ «Квітка»",
    tier="silver",
    contracts=[ContractTerms(number="15/2021", status="active", amount="24000.00", currency="UAH")],
)
SEED_003 = (
    "Вы там совсем тупые? Контент пропал, деньги на ветер. Иначе я стану вашим кошмаром: "
    "распишу про вас во всех SMM-сообществах и пожалуюсь в Instagram."
)
CALM = "Хорошо, давайте спокойно разберёмся, пришлите, пожалуйста, детали."


DIRECTOR = "director@kvitka.ua"


def said(
    text: str,
    language: Language = "ru",
    channel: str = "chat",
    customer: CustomerRef = KVITKA,
    email: str | None = "o.shevchuk@kvitka.ua",
) -> bytes:
    """A verified message of the customer (a new one each time), as the verifier sends it."""
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=customer,
        account_manager=StaffRef(
            id="am-kovalenko", name="Тарас Коваленко", email="t.kovalenko@careline.example"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address="o.shevchuk@kvitka.ua", verified=True)
        ],
        disclosure="account",
        evidence=[
            Evidence(
                kind="verified_channel",
                detail="sender address is a verified channel of customer cust-kvitka",
                weight=0.9,
                source="sender.email",
            )
        ],
    )
    sender = SenderIdentifiers(email=email, handle="@olena_kvitka")
    return verified_payload(
        text,
        identity,
        sender,
        domain="kvitka.ua",
        channel=channel,
        subject="Претензія",
        language=language,
    )


def escalations_in(notice: dict[str, Any]) -> list[dict[str, Any]]:
    """What a staff notice says of each escalation it is about: its own, or a digest's."""
    data = notice["data"]
    return list(data["escalations"]) if notice["kind"] == "staff_digest" else [data]


async def told_by_now(bus: Bus, recipient: str, n: int = 1) -> list[dict[str, Any]]:
    """The notifications to `recipient`, once there are `n` (events may arrive first)."""
    await until(lambda: _async(len(bus.to(recipient)) >= n))
    return bus.to(recipient)


async def timeline(env: Env, escalation_id: str) -> list[dict[str, Any]]:
    return await rows(
        env,
        "SELECT entry, detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id ORDER BY id",
        id=uuid.UUID(escalation_id),
    )


async def test_abuse_twice_brings_in_the_supervisor(env: Env, watch: tuple[nats.NATS, Bus]) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Ви там зовсім бовдури? Скільки можна чекати!", "uk"))
        (opened,) = await bus.wait("escalation.opened")
        assert (opened["kind"], opened["severity"], opened["rule"]) == (
            "abuse",
            "P4",
            "abuse-agent-guidance",
        )
        (guidance,) = await told_by_now(bus, AGENTS)
        assert "продолжить только письменно" in guidance["data"]["playbook"]
        assert bus.to(SUPERVISOR) == []

        await publish_verified(nc, said("Вы идиоты, сколько можно ждать!"))
        (merged,) = await bus.wait("escalation.updated")
        assert merged["escalation_id"] == opened["escalation_id"]
        assert (merged["severity"], merged["rule"]) == ("P3", "abuse-repeated-to-supervisor")
        assert "history: abuse in 2 messages within 30d" in merged["reason"]
        (supervisor,) = await told_by_now(bus, SUPERVISOR)
        assert supervisor["kind"] == "manager_escalation" and supervisor["severity"] == "P3"
        # The agent, told at the opening, hears of the raise too (P3 now, the supervisor in).
        first, again = await told_by_now(bus, AGENTS, 2)
        assert (first["severity"], again["severity"]) == ("P4", "P3")
        assert [c["text"] for c in again["data"]["change_items"]] == [
            "severity raised from P4 to P3"
        ]
        # The client was warned once: the raise asks for the same notice (the notifier takes
        # it once), not a copy of it.
        warnings = [r for r in bus.of("notify.request") if r["kind"] == "conduct_notice"]
        assert len(warnings) == 2 and len({w["notification_id"] for w in warnings}) == 1

    entries = [t["entry"] for t in await timeline(env, opened["escalation_id"])]
    assert entries == ["opened", "merged", "severity_raised", "notified"]
    (escalation,) = await rows(
        env,
        "SELECT notified FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert [(n["role"], n["level"]) for n in escalation["notified"]] == [
        ("agent", 1),
        ("supervisor", 1),
    ]
    seen = await rows(
        env,
        "SELECT channel, signals, marks FROM escalator.subject_messages "
        "WHERE subject_key = 'customer:cust-kvitka' ORDER BY at",
    )
    assert [s["signals"]["abuse"] >= 0.9 for s in seen] == [True, True]
    assert seen[0]["marks"] == [{"kind": "warning", "name": "abuse"}]


async def test_a_guess_of_abuse_opens_no_case_and_does_not_make_an_insult_repeated(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The acceptance run: the second opinion read a fed-up failure report as abuse (0.91 on
    «опять», «третий», «раз»); it opened a P4 abuse case and made the next insult
    "repeated". Now the failure case says the guess, the history keeps it as one, and the
    insult is abuse the first time."""
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Сайт опять не работает, уже третий раз за месяц"))
        (opened,) = await bus.wait("escalation.opened")
        assert opened["kind"] == "service_failure"
        assert "second opinion alone also read abuse" in opened["reason"]

        await publish_verified(nc, said("Вы идиоты, сколько можно ждать!"))
        abuse = await until_opened(bus, "abuse")
        assert abuse["rule"] == "abuse-agent-guidance"
        assert bus.to(SUPERVISOR) == []

    seen = await rows(
        env,
        "SELECT signals, guessed FROM escalator.subject_messages "
        "WHERE subject_key = 'customer:cust-kvitka' ORDER BY at",
    )
    # Only what the opinion alone saw (it also reads churn risk in «третий раз за месяц»).
    assert "abuse" in seen[0]["guessed"] and seen[1]["guessed"] == []
    assert seen[0]["signals"]["abuse"] >= 0.6


async def test_a_panicking_client_is_told_when_a_specialist_calls(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """The acceptance run: "HELP!!! … nothing works … call me now!" got silence."""
    nc, bus = watch
    text = "ДОПОМОЖІТЬ!!! Нічого не працює, все зникло, зателефонуйте мені терміново!"
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said(text, "uk", channel="email"))
        panic = await until_opened(bus, "panic")
        await until(lambda: _async(any(r["kind"] == "panic_ack" for r in bus.of("notify.request"))))

    (ack,) = [r for r in bus.of("notify.request") if r["kind"] == "panic_ack"]
    assert (ack["recipient"], ack["recipient_role"]) == ("o.shevchuk@kvitka.ua", "client_sender")
    assert ack["escalation_id"] == panic["escalation_id"] and ack["language"] == "uk"
    assert ack["data"]["within_minutes"] == 10 and ack["content_class"] == "general"
    body = render(SendNotification.model_validate(ack)).body
    assert "фахівець зв'яжеться з вами протягом 10 хвилин" in body


async def until_opened(bus: Bus, kind: str) -> dict[str, Any]:
    await until(lambda: _async(any(e["kind"] == kind for e in bus.of("escalation.opened"))))
    return next(e for e in bus.of("escalation.opened") if e["kind"] == kind)


async def test_a_warning_nobody_could_send_is_not_counted(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Abuse from a chat handle with no email address: the agent is told (the playbook says
    to warn), no conduct notice can go, and the history records no warning, so a later
    threat is not judged "after a warning" on the strength of one nobody gave."""
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Ви там зовсім бовдури? Скільки можна чекати!", email=None))
        (opened,) = await bus.wait("escalation.opened")
        assert opened["rule"] == "abuse-agent-guidance"
        await told_by_now(bus, AGENTS)
        assert [r for r in bus.of("notify.request") if r["kind"] == "conduct_notice"] == []

    (seen,) = await rows(
        env,
        "SELECT marks FROM escalator.subject_messages WHERE subject_key = 'customer:cust-kvitka'",
    )
    assert seen["marks"] == []


async def _async(value: bool) -> bool:
    return value


async def careline(env: Env, *args: str) -> str:
    """A `careline` command against the test's database (in a thread: it runs its own loop)."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, list(args), env={"DATABASE_URL": env.servers.database_url}
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_threats_after_a_warning_are_stronger_and_a_calm_message_lifts_the_hold(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said(SEED_003, channel="email"))
        opened = [o for o in await bus.wait("escalation.opened") if o["kind"] == "reputation"]
        (first,) = opened
        assert (first["severity"], first["rule"]) == ("P2", "blackmail-to-head-of-support")
        assert first["hold"] == "Разбирательство приостановлено до прекращения угроз."
        # The message's content "vanished" too (a service failure the second opinion may see):
        # the head then has one digest of both escalations.
        (head,) = [
            e
            for n in await told_by_now(bus, HEAD)
            for e in escalations_in(n)
            if e["kind"] == "reputation"
        ]
        assert head["hold"]["reason"] == first["hold"] and head["hold"]["active"]
        # Under the hold the client is sent the warning that announces the pause, and no
        # other automatic contact (see the test below).
        requested = bus.of("notify.request")
        to_client = [n for n in requested if n["recipient_role"].startswith("client")]
        assert to_client and {n["kind"] for n in to_client} == {"conduct_notice"}
        assert all(n["data"]["paused"] for n in to_client)

        await publish_verified(nc, said(SEED_003.replace("Instagram", "TikTok"), channel="email"))
        stronger = [u for u in await bus.wait("escalation.updated") if u["kind"] == "reputation"]
        assert stronger[0]["escalation_id"] == first["escalation_id"]
        assert (stronger[0]["severity"], stronger[0]["rule"]) == ("P1", "blackmail-after-warning")
        assert "warned about reputation on" in stronger[0]["reason"]
        (legal,) = await told_by_now(bus, LEGAL)
        assert legal["kind"] == "legal_notice" and legal["severity"] == "P1"

        listing = await careline(env, "escalations")
        assert "hold since" in listing and first["hold"] in listing
        # What the policy would make of a calm message now, with this client's history.
        calm = tmp_path / "calm.json"
        calm.write_bytes(said(CALM, channel="email"))
        explained = await careline(env, "policy", "explain", str(calm), "--db")
        assert "history (from the escalator's database):" in explained
        assert "warning reputation" in explained
        assert f"this message lifts the hold of reputation {first['escalation_id']}" in explained

        await publish_verified(nc, said(CALM, channel="email"))

        async def lifted() -> bool:
            return any(u["change"] == "hold_lifted" for u in bus.of("escalation.updated"))

        await until(lifted)

    (row,) = await rows(
        env,
        "SELECT severity, hold FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(first["escalation_id"]),
    )
    assert row["severity"] == "P1"
    assert row["hold"]["lifted_at"] and row["hold"]["lifted_by"].startswith("message ")
    entries = [t["entry"] for t in await timeline(env, first["escalation_id"])]
    assert entries == [
        "opened",
        "hold_placed",
        "merged",
        "severity_raised",
        "notified",
        "hold_lifted",
    ]
    assert "hold lifted" in await careline(env, "escalations")


async def test_while_the_client_threatens_the_failure_notice_is_withheld_and_after_it_goes(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    """Seed 003's hold pauses the investigation: a failure told beside a threat (violence
    now, not blackmail: the hold stands though no reputation rule fires) gets no automatic
    notice to the client, and staff are told; a later message without threats lifts the
    hold, and its own contact goes out."""
    nc, bus = watch

    def to_client() -> list[dict[str, Any]]:
        """What goes to the client besides the warning (the conduct notice, not withheld)."""
        return [
            n
            for n in bus.of("notify.request")
            if n["recipient_role"].startswith("client") and n["kind"] != "conduct_notice"
        ]

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Стану вашим кошмаром: пожалуюсь на вас в Instagram."))
        (held,) = await bus.wait("escalation.opened")
        assert held["kind"] == "reputation" and held["hold"]

        threat = "Вы обещали восстановить контент и опять не сделали. Приеду и переломаю вам ноги."
        await publish_verified(nc, said(threat))

        async def opened_both() -> bool:
            return {"service_failure", "violence"} <= {
                o["kind"] for o in bus.of("escalation.opened")
            }

        await until(opened_both)
        (failure,) = [o for o in bus.of("escalation.opened") if o["kind"] == "service_failure"]
        about_failure = [
            n for n in bus.of("notify.request") if n["escalation_id"] == failure["escalation_id"]
        ]
        assert about_failure and not to_client()
        staff = [n for n in bus.of("notify.request") if n["message_id"] == failure["message_id"]]
        assert staff and all(
            n["data"]["client_contacts_withheld"]
            == {"kinds": ["service_failure_notice"], "why": "hold"}
            for n in staff
        )
        # Whoever is told of the failure or the violence knows of the blackmail's hold (and
        # of the violence's own, which holds the client's answers too).
        others = [
            n
            for n in staff
            if held["escalation_id"] not in {e["escalation_id"] for e in escalations_in(n)}
        ]
        assert others and all(
            held["escalation_id"] in [h["escalation_id"] for h in n["data"]["subject_holds"]]
            for n in others
        )

        await publish_verified(nc, said("Мы оплатили счёт за март, а вы пишете о задолженности."))

        def lifts() -> list[dict[str, Any]]:
            return [u for u in bus.of("escalation.updated") if u["change"] == "hold_lifted"]

        await until(lambda: bool(lifts()))
        # The blackmail's hold ends with the calm message; the threat of harm's stands (one
        # calm line a minute later is not the threats stopping), so the client still waits.
        (lifted,) = lifts()
        assert lifted["escalation_id"] == held["escalation_id"]
        # The head of support, who has the blackmail, hears that the investigation may start
        # (in the digest of everything this calm message asks of that address).
        await until(lambda: any(n["message_id"] == lifted["message_id"] for n in bus.to(HEAD)))
        (calm,) = [
            n
            for n in bus.to(HEAD)
            if n["message_id"] == lifted["message_id"]
            and lifted["escalation_id"] in {e["escalation_id"] for e in escalations_in(n)}
        ]
        (item,) = [e for e in escalations_in(calm) if e["escalation_id"] == lifted["escalation_id"]]
        assert item["change"] == "hold_lifted" and not item["hold"]["active"]
        assert item["change_items"][0]["kind"] == "hold_lifted"
        assert calm["data"]["client_contacts_withheld"] == {
            "kinds": ["billing_dispute_ack"],
            "why": "hold",
        }
        assert not to_client()

        # Taking the threats back ends the threat of harm's hold too: the answer goes.
        sorry = "Извините, я погорячился. Мы оплатили счёт за март, а вы пишете о задолженности."
        await publish_verified(nc, said(sorry))

        async def acknowledged() -> bool:
            return any(n["kind"] == "billing_dispute_ack" for n in to_client())

        await until(acknowledged)
        assert [u["escalation_id"] for u in lifts()] == [
            held["escalation_id"],
            next(
                o["escalation_id"] for o in bus.of("escalation.opened") if o["kind"] == "violence"
            ),
        ]
        assert [n["kind"] for n in to_client()] == ["billing_dispute_ack"]


async def _resolve(env: Env, escalation_id: str, note: str) -> None:
    command = ResolveEscalation(
        command_id=uuid.uuid4(), escalation_id=uuid.UUID(escalation_id), actor=LEGAL, note=note
    )
    assert (await ask(env, command)).outcome == "resolved"


async def test_a_message_after_resolution_reopens_within_the_window_with_the_outcome_in_the_pack(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Подам на вас до суду.", "uk", "email"))
        (opened,) = [o for o in await bus.wait("escalation.opened") if o["kind"] == "legal"]
        first_notes = {n["notification_id"] for n in await told_by_now(bus, LEGAL)}
        await _resolve(env, opened["escalation_id"], "claim withdrawn after a call")
        await bus.wait("escalation.resolved")

        await publish_verified(nc, said("I will sue you after all.", "en", "email"))
        (reopened,) = await bus.wait("escalation.reopened")
        assert reopened["escalation_id"] == opened["escalation_id"]
        assert reopened["change"] == "reopened"
        assert reopened["reason"].startswith("reopened after resolution; rule legal-threat-to")

        async def legal_told_again() -> bool:
            return len(bus.to(LEGAL)) == 2 and len(bus.to(HEAD)) == 2

        await until(legal_told_again)
        (again,) = [n for n in bus.to(LEGAL) if n["notification_id"] not in first_notes]
        previous = again["data"]["fact_pack"]["previous_escalations"]
        assert [(e["id"], e["status"], e["outcome"]) for e in previous] == [
            (opened["escalation_id"], "resolved", "claim withdrawn after a call")
        ]
        # The notice says it was reopened, in the team's words too (change_items).
        assert again["data"]["change_items"] == [
            {"kind": "reopened", "values": {}, "text": "reopened after resolution"}
        ]
        notice = render(SendNotification.model_validate(again))
        assert "Почему: открыта снова после решения; правило legal-threat-to-legal" in notice.body

    (row,) = await rows(
        env,
        "SELECT status, reopen_count, resolution_note, acknowledged_at, level, briefing "
        "FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    assert (row["status"], row["reopen_count"], row["resolution_note"]) == ("open", 1, None)
    # A climb or a reassignment is told from the briefing: it says the reopening too.
    assert [c["kind"] for c in row["briefing"]["change_items"]] == ["reopened"]
    entries = await timeline(env, opened["escalation_id"])
    assert [t["entry"] for t in entries] == ["opened", "resolved", "reopened"]
    assert entries[2]["detail"]["after"]["note"] == "claim withdrawn after a call"
    assert len(bus.of("escalation.opened")) == 1


async def test_without_a_reopen_window_a_message_after_resolution_opens_anew(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    settings = escalator_settings(
        env, ESCALATOR_POLICY=str(policy_file(tmp_path, reopen_within="0m"))
    )
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        await publish_verified(nc, said("Подам на вас до суду.", "uk", "email"))
        (opened,) = await bus.wait("escalation.opened")
        await _resolve(env, opened["escalation_id"], "claim withdrawn")
        await publish_verified(nc, said("Подам на вас до суду, передумала.", "uk", "email"))
        second = (await bus.wait("escalation.opened", 2))[1]

    assert second["escalation_id"] != opened["escalation_id"]
    assert bus.of("escalation.reopened") == []


async def test_the_fact_pack_is_stored_on_the_escalation_and_rendered_in_the_legal_notice(
    env: Env, watch: tuple[nats.NATS, Bus], running: Running, mailbox: Mailbox
) -> None:
    nc, bus = watch
    await running.start("notifier")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, said("Замовлення знову зіпсоване, третій раз.", "uk", "email"))

        async def remembered() -> bool:
            return await count(env.servers, "SELECT count(*) FROM escalator.subject_messages") == 1

        await until(remembered)  # consumed in parallel, the two could be decided in any order
        # Another address of the client writes the threat: the history says whose each is.
        threat = said("Якщо не повернете кошти, подам на вас до суду.", "uk", email=DIRECTOR)
        await publish_verified(nc, threat)

        def legal_opened() -> list[dict[str, Any]]:
            return [o for o in bus.of("escalation.opened") if o["kind"] == "legal"]

        await until(lambda: _async(bool(legal_opened())))
        (opened,) = legal_opened()

        async def legal_mail() -> bool:
            return any(m["kind"] == "legal_notice" for m in mailbox.messages())

        await until(legal_mail, timeout=30)

    (row,) = await rows(
        env,
        "SELECT facts FROM escalator.escalations WHERE id = :id",
        id=uuid.UUID(opened["escalation_id"]),
    )
    pack = row["facts"]
    recent = pack["recent_messages"]
    assert [m["excerpt"] for m in recent] == [
        "Якщо не повернете кошти, подам на вас до суду.",
        "Замовлення знову зіпсоване, третій раз.",
    ]
    assert [m["channel"] for m in recent] == ["chat", "email"]
    assert [m["sender"] for m in recent] == [DIRECTOR, "o.shevchuk@kvitka.ua"]
    assert recent[0]["message_id"] == opened["message_id"]
    assert pack["crm"]["contracts"] == [
        {"number": "15/2021", "status": "active", "amount": "24000.00", "currency": "UAH"}
    ]
    assert pack["crm"]["account_manager"]["name"] == "Тарас Коваленко"
    assert pack["identity"]["evidence"][0]["kind"] == "verified_channel"
    # Everything the client said, not only what made the rule fire.
    assert {e["signal"] for e in pack["evidence"]} == {"legal_threat", "compensation_demand"}
    assert all(e["text"] for e in pack["evidence"])
    (legal,) = await told_by_now(bus, LEGAL)
    assert legal["data"]["fact_pack"] == pack
    (mail,) = [m for m in mailbox.messages() if m["kind"] == "legal_notice"]
    parsed = email.message_from_bytes(
        (mailbox.directory / mail["file"]).read_bytes(), policy=email_policy.default
    )
    body = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Пакет фактов" in body
    assert "договор 15/2021 (действует, 24000.00 UAH)" in body
    assert "Замовлення знову зіпсоване, третій раз." in body
    assert f"chat, {DIRECTOR}: Якщо не повернете кошти" in body  # whose, not a message id
    assert "угроза судом: «подам на вас до суду»" in body  # the team language (ru)
