"""Answers held for a probable sender on the real servers: the seed-000 story through every
service, a confirmation releasing the held answer once, a denial and an expiry withdrawing
it, redelivered outcomes and outcomes that arrive before the request."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest
from babel.dates import format_date
from faststream._internal.testing.app import TestApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from services.notifier.samples import SAMPLES
from services.verifier.app import build_app as build_verifier
from services.verifier.settings import VerifierSettings
from shared.app import ServiceApp
from shared.contracts import (
    AuthResults,
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    MessageNormalized,
    SenderIdentifiers,
    SendNotification,
)
from shared.demo import load_stories
from tests.integration.conftest import Env, Mailbox, Recorder, Running, drained, rows
from tests.integration.test_notifier_outbox import request as outbox_request

pytestmark = pytest.mark.integration
BASE_URL = "https://support.example/v1/confirm"
CEO = "a.sokolov@stroymontazh.ru"
REGISTERED = "buh@stroymontazh.ru"
MANAGER = "o.petrova@careline.example"
TIMEOUT = 30.0


def verifier_app(env: Env, **settings: Any) -> ServiceApp:
    return build_verifier(
        VerifierSettings(
            **env.base(),
            CARELINE_DEMO_CRM=True,
            CARELINE_CONFIRMATION_SECRET="held-answers-secret",
            VERIFIER_CONFIRMATION_BASE_URL=BASE_URL,
            **settings,
        )
    )


@pytest.fixture
async def story(running: Running, env: Env) -> AsyncIterator[ServiceApp]:
    """All four services; the verifier runs the confirmation loop (secret and link base)."""
    await running.start("intake", "escalator", "notifier")
    app = verifier_app(env)
    async with TestApp(app):
        yield app


@pytest.fixture
async def crm_bus(bus: tuple[nats.NATS, Recorder]) -> tuple[nats.NATS, Recorder]:
    nc, recorder = bus

    async def record(msg: Any) -> None:
        recorder.by_subject.setdefault(msg.subject, []).append(json.loads(msg.data))

    await nc.subscribe("crm.>", cb=record)
    return nc, recorder


async def notification(env: Env, notification_id: object) -> dict[str, Any]:
    (row,) = await rows(
        env,
        "SELECT * FROM notifier.notifications WHERE notification_id = :id",
        id=str(notification_id),
    )
    return row


async def eventually(env: Env, sql: str, expected: object, **params: Any) -> None:
    deadline = time.monotonic() + TIMEOUT
    while (found := await rows(env, sql, **params)) != expected:
        assert time.monotonic() < deadline, f"waited for {expected!r}; have {found!r}"
        await asyncio.sleep(0.1)


def mails(mailbox: Mailbox, to: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        m for m in mailbox.messages() if to in m["rcpt_tos"] and (kind is None or m["kind"] == kind)
    ]


def mail_text(mailbox: Mailbox, mail: dict[str, Any]) -> tuple[email.message.EmailMessage, str]:
    raw = (mailbox.directory / mail["file"]).read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    return parsed, body.get_content()


async def listing(env: Env, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """What `careline notifications ARGS` prints (run in a thread: it runs its own loop)."""
    from shared.cli import app

    monkeypatch.setenv("DATABASE_URL", env.servers.database_url)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["notifications", *args])
    assert result.exit_code == 0, result.output
    return result.output


def of_message(events: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["message_id"] == message_id]


async def confirmation_told(mailbox: Mailbox, env: Env, title: str, identity: str) -> None:
    """Seed 000: what the confirmation came to reaches whoever holds the message's
    escalations, once each (the account manager holds both: one digest), and the
    escalations show the sender's identity as it left it."""
    for address, kind in ((MANAGER, "staff_digest"), ("billing@careline.example", None)):
        # Drained consumers are not sent mail: the notifier's sender delivers after it
        # accepted (a loaded machine, a CI run, took longer than the pipeline's drain).
        deadline = time.monotonic() + TIMEOUT
        while not (told := [m for m in mails(mailbox, address, kind) if title in m["subject"]]):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert len(told) == 1, (address, [m["subject"] for m in mails(mailbox, address)])
    found = await rows(
        env,
        "SELECT e.kind, e.identity_status, t.entry FROM escalator.escalations e "
        "JOIN escalator.escalation_timeline t ON t.escalation_id = e.id "
        "WHERE t.entry LIKE 'identity_%' ORDER BY e.kind",
    )
    outcome = {"verified": "confirmed", "suspicious": "denied", "probable": "expired"}[identity]
    assert found == [
        {"kind": kind, "identity_status": identity, "entry": f"identity_{outcome}"}
        for kind in ("billing", "identity_confirmation")
    ]
    # Confirmed, the identity confirmation's work is done; the dispute stays with billing.
    statuses = await rows(
        env, "SELECT kind, status, resolved_by FROM escalator.escalations ORDER BY kind"
    )
    closed = {"status": "resolved", "resolved_by": {"role": "verifier", "address": "verifier"}}
    still = {"status": "open", "resolved_by": None}
    assert statuses == [
        {"kind": "billing", **still},
        {"kind": "identity_confirmation", **(closed if outcome == "confirmed" else still)},
    ]


class HeldStory(NamedTuple):
    verifier: ServiceApp
    nc: nats.NATS
    recorder: Recorder
    confirmation: dict[str, Any]
    held: dict[str, Any]  # the held notification request


async def seed_000_is_held(
    nc: nats.NATS, recorder: Recorder, mailbox: Mailbox, env: Env
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CEO writes from his own address: probable; everything goes out but his answer."""
    raw = load_stories()[0]["messages"][0]
    await nc.jetstream().publish("inbound.email", json.dumps(raw).encode())
    (verified,) = await recorder.wait_for("message.verified", timeout=TIMEOUT)
    identity = verified["identity"]
    assert identity["status"] == "probable"
    assert identity["customer"]["id"] == "cust-stroymontazh"
    confirmation = identity["confirmation"]
    assert confirmation is not None

    # Escalation does not wait: staff are told at once, with the identity as probable.
    opened = await recorder.wait_for("escalation.opened", 2, timeout=TIMEOUT)
    assert sorted(e["kind"] for e in opened) == ["billing", "identity_confirmation"]
    assert {e["identity_status"] for e in opened} == {"probable"}
    # Staff: billing, and the account manager once for both escalations.
    requests = await recorder.wait_for("notify.request", 6, timeout=TIMEOUT)
    (held,) = [r for r in requests if r["held_for_confirmation"] is not None]
    assert (held["kind"], held["recipient"]) == ("billing_dispute_ack", CEO)
    assert held["held_for_confirmation"] == confirmation["confirmation_id"]
    assert (held["recipient_verified"], held["content_class"]) == (False, "account")
    await recorder.wait_for("notify.sent", 5, timeout=TIMEOUT)

    assert [m["kind"] for m in mails(mailbox, REGISTERED)].count("identity_confirmation") == 1
    assert [m["kind"] for m in mails(mailbox, REGISTERED)].count("billing_dispute_ack") == 1
    # The registered contact is promised an answer by the policy's time for P1 (two hours,
    # on the client's clock), not by the fifteen minutes staff have to pick the case up;
    # the escalation keeps that promise and staff see it.
    (billing_opened,) = [e for e in opened if e["kind"] == "billing"]
    promised = datetime.fromisoformat(billing_opened["client_reply_by"])
    assert promised - datetime.fromisoformat(billing_opened["occurred_at"]) == timedelta(hours=2)
    assert await rows(
        env, "SELECT client_reply_by FROM escalator.escalations WHERE kind = 'billing'"
    ) == [{"client_reply_by": promised}]
    (ack,) = mails(mailbox, REGISTERED, "billing_dispute_ack")
    local = promised.astimezone(ZoneInfo("Europe/Moscow"))
    # The client reads it in words on his clock ("7 декабря 2026 г., 05:37 (Москва)").
    said = f"{format_date(local, 'long', locale='ru')}, {local:%H:%M} (Москва)"
    assert said.replace("\u202f", " ") in mail_text(mailbox, ack)[1]
    moscow = local.strftime("%Y-%m-%d %H:%M MSK")
    (manager,) = mails(mailbox, MANAGER)
    assert manager["kind"] == "staff_digest"
    # And what: the billing acknowledgement promised the payment check's result.
    promised_line = (
        f"Клиенту обещан ответ по существу не позднее {moscow}: результат проверки платежа "
        "(и, если списание неверное, как и когда вернём разницу)."
    )
    assert promised_line in " ".join(mail_text(mailbox, manager)[1].split())
    _, briefing = mail_text(mailbox, manager)
    assert "идентификация: вероятная" in briefing
    # Staff are told, in one line, that the answer waits and until when; not to whom.
    # Staff read it on the team's clock (the shipped policy's Moscow), as every time.
    expires = (
        datetime.fromisoformat(confirmation["expires_at"])
        .astimezone(ZoneInfo("Europe/Moscow"))
        .strftime("%Y-%m-%d %H:%M MSK")
    )
    held_line = (
        "Ответ на адрес отправителя задержан, пока зарегистрированный контакт не подтвердит запрос "
        f"(запрос истекает {expires})."
    )
    (billing,) = mails(mailbox, "billing@careline.example")
    for staff_mail in (manager, billing):
        _, text = mail_text(mailbox, staff_mail)
        (line,) = [x for x in text.splitlines() if x.startswith(held_line[:36])]
        assert line == held_line
    assert [m["kind"] for m in mails(mailbox, CEO)] == ["unknown_sender_explanation"]
    row = await notification(env, held["notification_id"])
    assert row["status"] == "held"
    assert row["held_at"] is not None and row["attempts"] == 0
    return confirmation, held


@pytest.fixture
async def held_story(
    story: ServiceApp, crm_bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> HeldStory:
    nc, recorder = crm_bus
    confirmation, held = await seed_000_is_held(nc, recorder, mailbox, env)
    return HeldStory(story, nc, recorder, confirmation, held)


async def test_seed_000_the_held_answer_reaches_the_ceo_once_after_the_link(
    held_story: HeldStory, mailbox: Mailbox, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    story, nc, recorder, _, held = held_story
    # The accountant confirms two days later (the answer was accepted, and held, then).
    engine = create_async_engine(env.servers.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE notifier.notifications SET created_at = created_at - interval '2 days' "
                "WHERE notification_id = :id"
            ),
            {"id": uuid.UUID(str(held["notification_id"]))},
        )
    await engine.dispose()

    # The accountant follows the link in the mail that went to the registered address.
    (request_mail,) = mails(mailbox, REGISTERED, "identity_confirmation")
    _, body = mail_text(mailbox, request_mail)
    (link,) = re.findall(re.escape(BASE_URL) + r"/\S+", body)
    transport = httpx.ASGITransport(app=story.http)
    async with httpx.AsyncClient(transport=transport, base_url="https://support.example") as c:
        first = await c.get(link)
        assert first.status_code == 200 and first.json()["outcome"] == "confirmed"

        (confirmed,) = await recorder.wait_for("crm.channel.confirmed", timeout=TIMEOUT)
        sent = await recorder.wait_for("notify.sent", 6, timeout=TIMEOUT)
        assert held["notification_id"] in {s["notification_id"] for s in sent}

        # The link again: the verifier re-publishes the same event; nothing is sent again.
        again = await c.get(link)
        assert again.json()["outcome"] == "already_confirmed"
    await drained(nc)

    (answer,) = mails(mailbox, CEO, "billing_dispute_ack")
    parsed, text_body = mail_text(mailbox, answer)
    assert "счёт № 4512" in text_body  # account content, now to a verified address
    assert parsed["In-Reply-To"] == "<seed000-ceo-reply@stroymontazh.ru>"
    assert sorted(m["kind"] for m in mails(mailbox, CEO)) == [
        "billing_dispute_ack",
        "unknown_sender_explanation",
    ]
    row = await notification(env, held["notification_id"])
    assert row["status"] == "sent"
    assert row["request"]["recipient_verified"] is True
    assert str(row["released_by"]) == confirmed["event_id"]
    assert row["held_at"] <= row["released_at"] <= row["sent_at"]
    assert row["withdrawn_at"] is None
    # Dated when released, not when accepted and held two days before: it lands where the
    # client looks for new mail.
    assert parsedate_to_datetime(parsed["Date"]) == row["released_at"].replace(microsecond=0)
    assert row["created_at"] < row["released_at"] - timedelta(days=1)
    assert await rows(
        env, "SELECT outcome, address, channel_kind FROM notifier.confirmation_outcomes"
    ) == [{"outcome": "confirmed", "address": CEO, "channel_kind": "email"}]
    # The message's six, the confirmation told to the people holding its escalations, and
    # the accountant thanked, in the request's thread.
    assert len(of_message(recorder.of("notify.sent"), held["message_id"])) == 9
    (receipt,) = mails(mailbox, REGISTERED, "confirmation_receipt")
    receipt_mail, receipt_text = mail_text(mailbox, receipt)
    assert receipt_mail["In-Reply-To"] == f"<{request_mail['notification_id']}@careline.local>"
    assert receipt["subject"].startswith("Спасибо: адрес подтверждён")
    assert f"с адреса {CEO} от имени ООО «СтройМонтаж»" in receipt_text
    await confirmation_told(mailbox, env, "Отправитель подтверждён", "verified")
    (digest,) = [m for m in mails(mailbox, MANAGER) if "Отправитель подтверждён" in m["subject"]]
    assert f"подтвердил адрес отправителя {CEO} (по ссылке)" in mail_text(mailbox, digest)[1]

    printed = await listing(env, monkeypatch, "--recipient", CEO)
    (trail,) = [block for block in printed.split("\n20") if "billing_dispute_ack" in block]
    assert re.search(r"sent +attempts 1 billing_dispute_ack +email +client_sender", trail)
    assert f"for confirmation {held['held_for_confirmation']}" in trail
    assert f"to the confirmed address by event {confirmed['event_id']}" in trail


async def test_seed_000_a_denial_withdraws_the_held_answer(
    held_story: HeldStory, mailbox: Mailbox, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, nc, recorder, confirmation, held = held_story

    # The registered address answers that it was not them, quoting the code.
    reply = {
        "channel": "email",
        "email": {
            "from": f"Бухгалтерия <{REGISTERED}>",
            "to": ["support@careline.example"],
            "subject": "Re: Подтвердите запрос",
            "text": f"Это не мы, мы ничего не отправляли.\n\n> Код: {confirmation['code']}",
            "message_id": "denial-1@stroymontazh.ru",
            "headers": {
                "Authentication-Results": "mx.careline.example; spf=pass; dkim=pass; dmarc=pass"
            },
        },
    }
    await nc.jetstream().publish("inbound.email", json.dumps(reply).encode())

    (denied,) = await recorder.wait_for("crm.confirmation.denied", timeout=TIMEOUT)
    assert denied["confirmation_id"] == confirmation["confirmation_id"]
    failed = await recorder.wait_for("notify.failed", timeout=TIMEOUT)
    (withdrawn,) = [f for f in failed if f["notification_id"] == held["notification_id"]]
    assert withdrawn["reason"].startswith("withdrawn:")
    assert withdrawn["attempts"] == 0
    await drained(nc)

    assert [m["kind"] for m in mails(mailbox, CEO)] == ["unknown_sender_explanation"]
    row = await notification(env, held["notification_id"])
    assert row["status"] == "withdrawn"
    assert str(row["withdrawn_by"]) == denied["event_id"]
    assert row["withdrawn_reason"] == withdrawn["reason"]
    assert row["held_at"] <= row["withdrawn_at"]
    assert row["released_at"] is None and row["sent_at"] is None
    assert "crm.channel.confirmed" not in recorder.by_subject
    await confirmation_told(mailbox, env, "Клиент не признал отправителя", "suspicious")
    # The accountant hears that nothing goes to that address.
    (receipt,) = mails(mailbox, REGISTERED, "confirmation_receipt")
    assert receipt["subject"].startswith("Спасибо: мы не ответим на чужое обращение")
    assert "туда мы не сообщим ничего о вашем аккаунте" in mail_text(mailbox, receipt)[1]
    (digest,) = [m for m in mails(mailbox, MANAGER) if "не признал" in m["subject"]]
    assert "ничего об учётной записи не сообщайте" in mail_text(mailbox, digest)[1]

    printed = await listing(env, monkeypatch, "--status", "withdrawn")
    assert re.search(r"withdrawn attempts 0 billing_dispute_ack +email +client_sender", printed)
    assert f"for confirmation {confirmation['confirmation_id']}" in printed
    assert "withdrawn: the client's registered channel answered" in printed


async def test_seed_000_a_second_address_into_the_open_escalation_is_answered_too(
    held_story: HeldStory, mailbox: Mailbox, env: Env
) -> None:
    """Next morning the CEO writes again, from his deputy's address on the company's domain:
    the escalations are open, and still this sender is asked about (a confirmation of its
    own to the registered address) and gets its answer held for it; the registered address
    is not answered twice."""
    _, nc, recorder, confirmation, held = held_story
    deputy = "zam.director@stroymontazh.ru"
    again = {
        "channel": "email",
        "email": {
            "from": f"Андрей Соколов <{deputy}>",
            "to": ["support@careline.example"],
            "subject": "Re: Уведомление о приостановке",
            "text": "Добрый день. Пишу с адреса заместителя. Счёт № 4512 мы уже оплатили "
            "вчера, платёжное поручение у нашего менеджера. Объясните причину отключения.",
            "message_id": "seed000-second-address@stroymontazh.ru",
            "headers": {
                "Authentication-Results": "mx.careline.example; spf=pass; dkim=pass; dmarc=pass"
            },
        },
    }
    await nc.jetstream().publish("inbound.email", json.dumps(again).encode())
    verified = await recorder.wait_for("message.verified", 2, timeout=TIMEOUT)
    second = verified[-1]["identity"]
    assert second["status"] == "probable"
    asked = second["confirmation"]
    assert asked["confirmation_id"] != confirmation["confirmation_id"]
    await drained(nc)

    merged = recorder.of("escalation.updated")
    assert {e["change"] for e in merged} == {"merged"}
    assert "escalation.opened" in recorder.by_subject
    assert len(recorder.of("escalation.opened")) == 2  # nothing new opened
    requests = of_message(recorder.of("notify.request"), verified[-1]["message_id"])
    (held_again,) = [r for r in requests if r["held_for_confirmation"] is not None]
    assert (held_again["recipient"], held_again["held_for_confirmation"]) == (
        deputy,
        asked["confirmation_id"],
    )
    await eventually(
        env,
        "SELECT status FROM notifier.notifications WHERE notification_id = :id",
        [{"status": "held"}],
        id=held_again["notification_id"],
    )
    await recorder.wait_for("notify.sent", 7, timeout=TIMEOUT)
    await drained(nc)
    to_registered = [m["kind"] for m in mails(mailbox, REGISTERED)]
    assert sorted(to_registered) == [
        "billing_dispute_ack",
        "identity_confirmation",
        "identity_confirmation",
    ]
    # Each request asks about its own address, with its own code.
    texts = [mail_text(mailbox, m)[1] for m in mails(mailbox, REGISTERED, "identity_confirmation")]
    assert [(CEO in t, deputy in t) for t in texts] == [(True, False), (False, True)]
    assert [asked["code"] in t for t in texts] == [False, True]
    assert [m["kind"] for m in mails(mailbox, deputy)] == ["unknown_sender_explanation"]
    assert [m["kind"] for m in mails(mailbox, CEO)] == ["unknown_sender_explanation"]
    assert (await notification(env, held["notification_id"]))["status"] == "held"


# --- the notifier alone: outcomes redelivered, outcomes before requests ------------------


def held_request(confirmation_id: uuid.UUID) -> SendNotification:
    """The seed-000 billing answer to the CEO's own address, held for `confirmation_id`."""
    answer = outbox_request(
        recipient=CEO,
        role="client_sender",
        severity=None,
        kind="billing_dispute_ack",
        data={**SAMPLES["billing_dispute_ack"], "sender_address": None},
    )
    return answer.model_copy(
        update={"recipient_verified": False, "held_for_confirmation": confirmation_id}
    )


def confirmed_event(confirmation_id: uuid.UUID, address: str = CEO) -> ChannelConfirmed:
    now = datetime.now(UTC)
    return ChannelConfirmed(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="held-test",
        occurred_at=now,
        confirmation_id=confirmation_id,
        customer_id="cust-stroymontazh",
        contact_id="ct-sokolov",
        channel=ChannelRef(kind="email", address=address, verified=True),
        via="link",
        confirmed_at=now,
    )


async def publish(nc: nats.NATS, subject: str, event: Any, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(event.event_id)}
    await nc.jetstream().publish(subject, event.model_dump_json().encode(), headers=headers)


async def test_a_redelivered_confirmation_sends_the_held_answer_once(
    running: Running, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    await running.start("notifier")
    nc, recorder = bus
    confirmation_id = uuid.uuid4()
    request = held_request(confirmation_id)
    await publish(nc, "notify.request", request)
    await eventually(
        env,
        "SELECT status FROM notifier.notifications WHERE notification_id = :id",
        [{"status": "held"}],
        id=str(request.notification_id),
    )

    event = confirmed_event(confirmation_id)
    # The same event delivered three times (a lost ack, a re-publish after the duplicate
    # window): each copy is a new stream message, so each is handed to the notifier.
    await publish(nc, "crm.channel.confirmed", event)
    await publish(nc, "crm.channel.confirmed", event, msg_id=f"{event.event_id}:again")
    await recorder.wait_for("notify.sent", 1, timeout=TIMEOUT)
    await publish(nc, "crm.channel.confirmed", event, msg_id=f"{event.event_id}:later")
    await drained(nc)

    assert len(mails(mailbox, CEO, "billing_dispute_ack")) == 1
    assert len(recorder.of("notify.sent")) == 1
    row = await notification(env, request.notification_id)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert row["released_by"] == event.event_id
    processed = await rows(
        env,
        "SELECT key FROM notifier.processed_messages WHERE key = :key",
        key=f"confirmation-event:{event.event_id}",
    )
    assert len(processed) == 1


async def test_an_outcome_that_came_first_settles_the_late_request_at_once(
    running: Running, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    await running.start("notifier")
    nc, recorder = bus
    confirmed_id, denied_id, elsewhere_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    confirmed = confirmed_event(confirmed_id)
    now = datetime.now(UTC)
    denied = ConfirmationDenied(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="held-test",
        occurred_at=now,
        confirmation_id=denied_id,
        customer_id="cust-stroymontazh",
        denied_at=now,
    )
    await publish(nc, "crm.channel.confirmed", confirmed)
    await publish(nc, "crm.confirmation.denied", denied)
    # A confirmation of another address than the one the answer is held for.
    await publish(nc, "crm.channel.confirmed", confirmed_event(elsewhere_id, REGISTERED))
    await eventually(env, "SELECT count(*) AS n FROM notifier.confirmation_outcomes", [{"n": 3}])

    release, withdraw, mismatch = (
        held_request(confirmed_id),
        held_request(denied_id),
        held_request(elsewhere_id),
    )
    for request in (release, withdraw, mismatch):
        await publish(nc, "notify.request", request)
    (sent,) = await recorder.wait_for("notify.sent", 1, timeout=TIMEOUT)
    failed = await recorder.wait_for("notify.failed", 2, timeout=TIMEOUT)
    await drained(nc)

    assert sent["notification_id"] == str(release.notification_id)
    assert {f["notification_id"] for f in failed} == {
        str(withdraw.notification_id),
        str(mismatch.notification_id),
    }
    assert len(mails(mailbox, CEO)) == 1
    row = await notification(env, release.notification_id)
    assert row["status"] == "sent"
    assert row["held_at"] == row["released_at"]
    assert row["released_by"] == confirmed.event_id
    for request in (withdraw, mismatch):
        row = await notification(env, request.notification_id)
        assert row["status"] == "withdrawn"
        assert row["held_at"] == row["withdrawn_at"]


async def test_an_expired_confirmation_withdraws_the_held_answer(
    running: Running, crm_bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    """The verifier expires what nobody confirmed in time and says so; nothing is sent."""
    await running.start("notifier")
    nc, recorder = crm_bus
    app = verifier_app(env, VERIFIER_CONFIRMATION_TTL=1 / 3600, VERIFIER_EXPIRY_SWEEP=0.2)
    async with TestApp(app):
        now = datetime.now(UTC)
        message = MessageNormalized(
            event_id=uuid.uuid4(),
            message_id=uuid.uuid4(),
            correlation_id="held-expiry",
            occurred_at=now,
            channel="email",
            sender=SenderIdentifiers(email=CEO, display_name="Андрей Соколов"),
            text="Поясніть, будь ласка, причину відключення.",
            signature="Андрій Соколов\nТОВ «СтройМонтаж»",
            thread_id="t",
            external_id=f"ext-{uuid.uuid4()}",
            auth=AuthResults(spf="pass", dkim="pass", dmarc="pass"),
            received_at=now,
        )
        await publish(nc, "message.normalized", message)
        (verified,) = await recorder.wait_for("message.verified", timeout=TIMEOUT)
        confirmation_id = uuid.UUID(verified["identity"]["confirmation"]["confirmation_id"])
        request = held_request(confirmation_id)
        await publish(nc, "notify.request", request)

        (expired,) = await recorder.wait_for("crm.confirmation.expired", timeout=TIMEOUT)
        (failed,) = await recorder.wait_for("notify.failed", timeout=TIMEOUT)
    await drained(nc)

    assert expired["confirmation_id"] == str(confirmation_id)
    assert failed["notification_id"] == str(request.notification_id)
    assert "expired" in failed["reason"]
    assert mails(mailbox, CEO) == []
    row = await notification(env, request.notification_id)
    assert row["status"] == "withdrawn"
    assert str(row["withdrawn_by"]) == expired["event_id"]
    assert await rows(
        env,
        "SELECT status, resolved_via FROM crm.confirmations WHERE confirmation_id = :id",
        id=str(confirmation_id),
    ) == [{"status": "expired", "resolved_via": "expiry"}]
