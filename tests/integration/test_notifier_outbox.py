"""The notifier's outbox on real servers: accepted once, retried with backoff, permanent vs
temporary failures, quiet hours, rate limits, results published once, `careline notifications`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from faststream._internal.testing.app import TestApp
from jinja2 import TemplateError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from shared.contracts import SendNotification
from shared.embedded import free_port
from shared.smtp_sink import MailDirHandler, read_mail_index
from tests.conftest import Servers
from tests.integration.conftest import count

pytestmark = pytest.mark.integration


class ScriptedHandler(MailDirHandler):
    """A real SMTP server that answers DATA from a script, then accepts; records attempts."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.script: list[str] = []
        self.rcpt_reply: str | None = None
        self.attempts: list[float] = []
        self.on_data: Callable[[], Awaitable[None]] | None = None  # runs before the reply

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts.append(time.monotonic())
        if self.on_data is not None:
            await self.on_data()
        if self.script:
            return self.script.pop(0)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Smtp:
    handler: ScriptedHandler
    port: int
    directory: Path

    def messages(self) -> list[dict[str, Any]]:
        return read_mail_index(self.directory)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    handler = ScriptedHandler(tmp_path / "mail")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(handler, port, tmp_path / "mail")
    finally:
        controller.stop()


@dataclass
class Notifier:
    servers: Servers
    var_dir: Path
    smtp_port: int
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **extra: Any) -> NotifierSettings:
        values: dict[str, Any] = {
            "NATS_URL": self.servers.nats_url,
            "DATABASE_URL": self.servers.database_url,
            "CARELINE_VAR_DIR": str(self.var_dir),
            "CARELINE_MAX_DELIVER": 3,
            "CARELINE_ACK_WAIT": 5,
            "CARELINE_RETRY_BACKOFF": 0.05,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.smtp_port,
            "NOTIFIER_POLL": 0.1,
            "NOTIFIER_RETRY_BASE": 0.2,
        }
        values.update(self.overrides, **extra)
        return NotifierSettings(**values)


@pytest.fixture
def notifier(servers: Servers, clean: None, var_dir: Path, smtp: Smtp) -> Notifier:
    return Notifier(servers, var_dir, smtp.port)


@pytest.fixture
async def running(notifier: Notifier) -> AsyncIterator[None]:
    async with TestApp(build_notifier(notifier.settings())):
        yield


def request(
    *,
    recipient: str = "o.petrova@careline.example",
    role: str = "account_manager",
    severity: str | None = "P3",
    kind: str = "manager_escalation",
    notification_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> SendNotification:
    message_id = uuid.uuid4()
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=datetime.now(UTC),
        notification_id=notification_id or uuid.uuid4(),
        kind=kind,  # type: ignore[arg-type]
        recipient=recipient,
        recipient_role=role,
        recipient_verified=True,
        content_class="account",
        language="uk",
        severity=severity,  # type: ignore[arg-type]
        data=data
        or {
            "severity": severity or "P3",
            "kind": "panic",
            "rule": "panic-fast-response",
            "reason": "rule panic-fast-response: panic 0.90",
            "ack_deadline": "2025-03-14T10:30:00+00:00",
            "customer": "ТОВ «Квітка»",
            "identity_status": "verified",
            "identity_confidence": 0.95,
            "identity_evidence": [],
            "signals": [],
            "playbook": "Відповісти швидко й спокійно.",
            "escalation_id": "e-1",
        },
    )


CLIENT_NOTICE = {
    "customer": "ТОВ «Квітка»",
    "subject": "Експорт не працює",
    "received_at": "2025-03-14T09:30:00+00:00",
    "ack_deadline": "2025-03-14T13:30:00+00:00",
    "account_manager": None,
    "escalation_id": "e-2",
}


def client_notice(recipient: str, severity: str = "P3") -> SendNotification:
    return request(
        recipient=recipient,
        role="client_registered",
        severity=severity,
        kind="service_failure_notice",
        data=CLIENT_NOTICE,
    )


async def publish(bus: Any, *cmds: SendNotification) -> None:
    nc, _ = bus
    for cmd in cmds:
        await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())


async def row(servers: Servers, notification_id: uuid.UUID) -> dict[str, Any]:
    engine = create_async_engine(servers.database_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM notifier.notifications WHERE notification_id = :id"),
                {"id": notification_id},
            )
            return dict(result.mappings().one())
    finally:
        await engine.dispose()


async def wait_row(servers: Servers, notification_id: uuid.UUID, **expected: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        with_row = await count(
            servers,
            f"SELECT count(*) FROM notifier.notifications WHERE notification_id = "
            f"'{notification_id}'",
        )
        if with_row:
            found = await row(servers, notification_id)
            if all(found[k] == v for k, v in expected.items()):
                return found
        assert time.monotonic() < deadline, f"row never matched {expected}"
        await asyncio.sleep(0.05)


# --- delivered once ------------------------------------------------------------------


async def test_a_request_delivered_twice_is_sent_once_as_multipart_mail(
    running: None, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    _, recorder = bus
    cmd = request()
    redelivered = cmd.model_copy(update={"event_id": uuid.uuid4()})

    await publish(bus, cmd, redelivered)
    (sent,) = await recorder.wait_for("notify.sent", 1)
    await wait_row(servers, cmd.notification_id, status="sent")

    assert sent["attempts"] == 1
    assert sent["idempotency_key"] == f"<{cmd.notification_id}@careline.local>"
    (mail,) = smtp.messages()
    raw = (smtp.directory / mail["file"]).read_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == "[P3] паніка клієнта: ТОВ «Квітка» · e-1"  # its case, as given
    assert "Відповісти швидко й спокійно." in parsed.get_body(("html",)).get_content()
    assert await count(servers, "SELECT count(*) FROM notifier.notifications") == 1


async def test_a_lock_connection_lost_during_delivery_still_records_the_outcome(
    running: None, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    """The sender's claim locks and its outcomes share one connection. If PostgreSQL drops
    it while a mail is being handed over, the outcome goes on a fresh connection: the mail
    is not sent again, and the sender goes on with the next one."""
    _, recorder = bus
    dropped: list[int] = []

    async def drop_the_lock_holder() -> None:
        if dropped:
            return
        engine = create_async_engine(servers.database_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                found = await conn.execute(
                    text(
                        "SELECT pid, pg_terminate_backend(pid) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                    )
                )
                dropped.extend(pid for pid, _ in found)
        finally:
            await engine.dispose()

    smtp.handler.on_data = drop_the_lock_holder
    cmd = request()

    await publish(bus, cmd)
    (sent,) = await recorder.wait_for("notify.sent", 1)
    stored = await wait_row(servers, cmd.notification_id, status="sent")

    assert dropped, "the lock connection was dropped during the delivery"
    assert (sent["attempts"], stored["attempts"]) == (1, 1)
    next_one = request()
    await publish(bus, next_one)
    await wait_row(servers, next_one.notification_id, status="sent")
    await asyncio.sleep(0.5)  # a second copy would go at the next pass
    assert len(smtp.messages()) == 2


# --- retries -------------------------------------------------------------------------


async def test_temporary_smtp_failures_are_retried_with_growing_backoff(
    running: None, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    _, recorder = bus
    smtp.handler.script = ["451 4.3.0 try again later", "421 4.7.0 busy"]
    cmd = request()

    await publish(bus, cmd)
    (sent,) = await recorder.wait_for("notify.sent", 1)

    assert sent["attempts"] == 3
    assert len(smtp.messages()) == 1
    first, second, third = smtp.handler.attempts
    first_gap, second_gap = second - first, third - second
    assert first_gap >= 0.1  # at least half of the 0.2 s base step
    assert second_gap >= 0.2  # at least half of the doubled step
    stored = await row(servers, cmd.notification_id)
    assert (stored["status"], stored["attempts"]) == ("sent", 3)


async def test_a_permanent_refusal_fails_at_once_without_retrying(
    running: None, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    _, recorder = bus
    smtp.handler.rcpt_reply = "550 5.1.1 no such user"
    cmd = request(recipient="nobody@careline.example")

    await publish(bus, cmd)
    (failed,) = await recorder.wait_for("notify.failed", 1)

    assert failed["permanent"] is True
    assert failed["attempts"] == 1
    assert "SMTP refused the recipient (550)" in failed["reason"]
    assert smtp.messages() == []
    assert recorder.of("dlq.notifier") == []
    assert (await row(servers, cmd.notification_id))["status"] == "failed"


async def test_an_unrenderable_request_is_refused_on_acceptance(
    running: None, bus: Any, servers: Servers, smtp: Smtp
) -> None:
    _, recorder = bus
    cmd = request(data={"severity": "P3"})

    await publish(bus, cmd)
    (failed,) = await recorder.wait_for("notify.failed", 1)

    assert "cannot render manager_escalation" in failed["reason"]
    assert failed["attempts"] == 0
    assert (await row(servers, cmd.notification_id))["status"] == "refused"


async def test_the_sender_sends_what_acceptance_rendered_without_rendering_again(
    notifier: Notifier, bus: Any, servers: Servers, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, recorder = bus
    cmd = request()

    def unrenderable(cmd: SendNotification) -> Any:
        raise TemplateError("the sender rendered again")

    monkeypatch.setattr("services.notifier.sender.render", unrenderable)
    async with TestApp(build_notifier(notifier.settings())):
        await publish(bus, cmd)
        (sent,) = await recorder.wait_for("notify.sent", 1)

    assert sent["notification_id"] == str(cmd.notification_id)
    (mail,) = smtp.messages()
    parsed = message_from_bytes((smtp.directory / mail["file"]).read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "[P3] паніка клієнта: ТОВ «Квітка» · e-1"  # its case, as given


# --- quiet hours and rate limits -----------------------------------------------------


async def test_a_clients_mail_is_written_on_the_default_client_clock_when_the_crm_has_none(
    notifier: Notifier, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    """The zone quiet hours follow is the one the times of the mail are written in, and it
    is kept with the request; a zone from the CRM wins; staff notices stay in UTC."""
    _, recorder = bus
    settings = notifier.settings(NOTIFIER_CLIENT_TIMEZONE="Europe/Kyiv")
    unzoned = client_notice("olena@kvitka.ua", "P2")
    zoned = client_notice("taras@kvitka.ua", "P2").model_copy(
        update={"recipient_timezone": "Asia/Tbilisi"}
    )
    staff = request(
        severity="P2", data={**request().data, "ack_deadline": CLIENT_NOTICE["ack_deadline"]}
    )

    async with TestApp(build_notifier(settings)):
        await publish(bus, unzoned, zoned, staff)
        await recorder.wait_for("notify.sent", 3)

    def body_to(address: str) -> str:
        (mail,) = [m for m in smtp.messages() if m["rcpt_tos"] == [address]]
        raw = (smtp.directory / mail["file"]).read_bytes()
        parsed = message_from_bytes(raw, policy=policy.default)
        return str(parsed.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    # CLIENT_NOTICE's deadline is 13:30 UTC.
    assert "14 березня 2025 р., 15:30 (Київ)" in body_to("olena@kvitka.ua")
    assert "14 березня 2025 р., 17:30 (Тбілісі)" in body_to("taras@kvitka.ua")
    assert "2025-03-14 13:30 UTC" in body_to("o.petrova@careline.example")
    stored = await row(servers, unzoned.notification_id)
    assert stored["request"]["recipient_timezone"] == "Europe/Kyiv"


async def test_quiet_hours_hold_a_non_urgent_client_notice_but_not_an_urgent_one(
    notifier: Notifier, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    _, recorder = bus
    now = datetime.now(UTC)
    window = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"
    settings = notifier.settings(NOTIFIER_QUIET_HOURS=window, NOTIFIER_CLIENT_TIMEZONE="UTC")
    calm, urgent = client_notice("calm@kvitka.ua", "P3"), client_notice("urgent@kvitka.ua", "P2")
    staff = request(severity="P4")

    async with TestApp(build_notifier(settings)):
        await publish(bus, calm, urgent, staff)
        await recorder.wait_for("notify.sent", 2)
        held = await wait_row(servers, calm.notification_id, deferred_reason="quiet_hours")

    assert sorted(m["rcpt_tos"][0] for m in smtp.messages()) == [
        "o.petrova@careline.example",
        "urgent@kvitka.ua",
    ]
    assert (held["status"], held["attempts"]) == ("pending", 0)
    ends = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    assert abs(held["next_attempt_at"] - ends) < timedelta(minutes=1)


async def test_a_rate_limited_recipient_waits_while_others_are_served(
    notifier: Notifier, bus: Any, smtp: Smtp, servers: Servers
) -> None:
    _, recorder = bus
    settings = notifier.settings(NOTIFIER_CLIENT_RATE_LIMIT="1/3600")
    first, second = client_notice("buh@kvitka.ua"), client_notice("buh@kvitka.ua")
    other = client_notice("ceo@kvitka.ua")

    async with TestApp(build_notifier(settings)):
        await publish(bus, first)
        await recorder.wait_for("notify.sent", 1)
        await publish(bus, second, other)
        await recorder.wait_for("notify.sent", 2)
        waiting = await wait_row(servers, second.notification_id, deferred_reason="rate_limit")

    assert sorted(m["rcpt_tos"][0] for m in smtp.messages()) == ["buh@kvitka.ua", "ceo@kvitka.ua"]
    assert waiting["status"] == "pending"
    assert waiting["next_attempt_at"] > datetime.now(UTC) + timedelta(minutes=55)


# --- results published once, even after a crash between commit and publish ------------


async def test_an_unpublished_result_is_published_after_a_restart_and_stored_once(
    notifier: Notifier, bus: Any, servers: Servers
) -> None:
    nc, recorder = bus
    cmd = request()
    async with TestApp(build_notifier(notifier.settings())):
        await publish(bus, cmd)
        await recorder.wait_for("notify.sent", 1)
        await wait_row(servers, cmd.notification_id, status="sent")
    # As if the process had died after committing the outcome, before publishing it.
    engine = create_async_engine(servers.database_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE notifier.notifications SET result_published_at = NULL"))
    await engine.dispose()

    async with TestApp(build_notifier(notifier.settings())):
        await recorder.wait_for("notify.sent", 2)
        await wait_row(servers, cmd.notification_id, status="sent")

    first, again = recorder.of("notify.sent")
    assert first["event_id"] == again["event_id"]
    info = await nc.jetstream().stream_info("CARELINE_NOTIFY", subjects_filter="notify.sent")
    assert (info.state.subjects or {}).get("notify.sent") == 1  # JetStream dropped the copy
    assert (
        await count(
            servers, "SELECT count(*) FROM notifier.notifications WHERE result_published_at IS NULL"
        )
        == 0
    )


async def test_each_result_is_published_once_while_both_sender_passes_run(
    notifier: Notifier, bus: Any
) -> None:
    # The pass that looks for results a crash left unpublished must not pick those another
    # pass has committed and is about to publish: a plain subscriber (no stream
    # de-duplication) would see them twice.
    _, recorder = bus
    cmds = [request(recipient=f"am{i}@careline.example") for i in range(60)]
    async with TestApp(build_notifier(notifier.settings(NOTIFIER_BATCH=8, NOTIFIER_POLL=0.01))):
        await publish(bus, *cmds)
        await recorder.wait_for("notify.sent", len(cmds))
        await asyncio.sleep(0.5)  # time for a second copy, if one were coming

    sent = [event["notification_id"] for event in recorder.of("notify.sent")]
    assert sorted(sent) == sorted(str(cmd.notification_id) for cmd in cmds)


# --- careline notifications ------------------------------------------------------------


def test_notifications_lists_what_was_sent_to_whom_with_status_and_attempts(
    servers: Servers, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        engine = create_async_engine(servers.database_url)
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            for status, attempts, error in [
                ("sent", 1, None),
                ("failed", 6, "gave up after 6 attempts: SMTP unavailable: OSError"),
                ("pending", 0, None),
            ]:
                await conn.execute(
                    text(
                        "INSERT INTO notifier.notifications (notification_id, message_id, kind, "
                        "recipient_role, recipient, status, attempts, last_error, created_at, "
                        "sent_at, next_attempt_at, deferred_reason) VALUES (:id, :mid, "
                        "'manager_escalation', 'legal', :rcpt, :status, :attempts, :error, :now, "
                        ":sent, :next, :reason)"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "mid": uuid.uuid4(),
                        "rcpt": f"{status}@careline.example",
                        "status": status,
                        "attempts": attempts,
                        "error": error,
                        "now": now,
                        "sent": now if status == "sent" else None,
                        "next": now + timedelta(hours=1) if status == "pending" else None,
                        "reason": "quiet_hours" if status == "pending" else None,
                    },
                )
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    from shared.cli import app

    everything = CliRunner().invoke(app, ["notifications"])
    failed = CliRunner().invoke(app, ["notifications", "--status", "failed"])

    assert everything.exit_code == 0, everything.output
    assert "sent     attempts 1 manager_escalation" in everything.output
    assert "sent@careline.example" in everything.output
    assert "(quiet_hours)" in everything.output
    assert "failed@careline.example" in failed.output
    assert "gave up after 6 attempts" in failed.output
    assert "sent@careline.example" not in failed.output
