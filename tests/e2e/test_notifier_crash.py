"""kill -9 the notifier process before, during and after a send: nothing lost, and the one
unavoidable duplicate carries the same Message-ID.

The notifier runs as its own OS process (as `careline up` runs it) on the session's real
nats-server and PostgreSQL; the SMTP server is a real aiosmtpd in this process whose handler
can hold a transaction at a chosen step, and a PostgreSQL lock held by the test pins the
notifier between the remote accept and its local commit. No sleeps: every step waits on an
observable condition (a mail stored, a row's status, a lock wait, an event on the bus).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import nats
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.notifier.adapters import claim_lock_key
from shared.broker import ensure_streams
from shared.contracts import SendNotification, derived_id
from shared.embedded import ManagedProcess, free_port
from shared.runtime import Stack, spawn_service
from shared.smtp_sink import MailDirHandler, read_mail_index
from tests.conftest import Servers

pytestmark = pytest.mark.e2e
TIMEOUT = 30.0


async def until(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class GatedHandler(MailDirHandler):
    """Stores mail like the embedded sink, but can hold a transaction at MAIL or DATA.

    If the client dies while a transaction is held, aiosmtpd cancels the handler: the
    message is not accepted, exactly as a real server drops a transaction whose client
    vanished before the final reply.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.hold_at: str | None = None
        self.held = threading.Event()
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _hold(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        self.held.set()
        await self._release.wait()

    def release(self) -> None:
        self.hold_at = None
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.hold_at == "mail":
            await self._hold()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hold_at == "data":
            await self._hold()
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Rig:
    servers: Servers
    var_dir: Path
    smtp: GatedHandler
    smtp_port: int
    nc: nats.NATS
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    process: ManagedProcess | None = None

    def env(self) -> dict[str, str]:
        return {
            "NATS_URL": self.servers.nats_url,
            "DATABASE_URL": self.servers.database_url,
            "CARELINE_VAR_DIR": str(self.var_dir),
            "CARELINE_HTTP_PORT": str(free_port()),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SMTP_TIMEOUT": "60",  # a held transaction must not time out on the client side
            "NOTIFIER_POLL": "0.1",
        }

    async def start_notifier(self) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "SMTP_"))}
        stack = Stack(self.var_dir, env=self.env())
        self.process = spawn_service(stack, "notifier", environ, demo_crm=False)
        js = self.nc.jetstream()

        async def subscribed() -> bool:
            assert self.process is not None and self.process.alive(), self.log()
            with suppress(NotFoundError):
                await js.consumer_info("CARELINE_NOTIFY", "notifier")
                return True
            return False

        await until(subscribed, "the notifier to subscribe")

    def kill_notifier(self) -> None:
        assert self.process is not None
        os.killpg(self.process.popen.pid, signal.SIGKILL)
        self.process.popen.wait(10)

    def log(self) -> str:
        path = self.var_dir / "logs" / "notifier.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def mails(self) -> list[dict[str, Any]]:
        return read_mail_index(self.var_dir / "mail")

    async def request_acked(self) -> bool:
        info = await self.nc.jetstream().consumer_info("CARELINE_NOTIFY", "notifier")
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def row(self, notification_id: uuid.UUID) -> dict[str, Any] | None:
        engine = create_async_engine(self.servers.database_url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(
                    text("SELECT * FROM notifier.notifications WHERE notification_id = :id"),
                    {"id": notification_id},
                )
                found = result.mappings().first()
                return dict(found) if found else None
        finally:
            await engine.dispose()

    async def status_is(self, notification_id: uuid.UUID, status: str) -> bool:
        row = await self.row(notification_id)
        return row is not None and row["status"] == status

    async def stored_results(self) -> int:
        """notify.sent / notify.failed messages JetStream kept (its de-duplication applied)."""
        info = await self.nc.jetstream().stream_info("CARELINE_NOTIFY", subjects_filter="notify.*")
        subjects = info.state.subjects or {}
        return subjects.get("notify.sent", 0) + subjects.get("notify.failed", 0)


def request(recipient: str = "o.petrova@careline.example") -> SendNotification:
    message_id = uuid.uuid4()
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at="2025-03-14T09:30:00Z",
        notification_id=derived_id("crash-test", uuid.uuid4()),
        kind="manager_escalation",
        recipient=recipient,
        recipient_role="account_manager",
        recipient_verified=True,
        content_class="account",
        language="ru",
        severity="P2",
        data={
            "severity": "P2",
            "kind": "billing",
            "rule": "billing-dispute",
            "reason": "rule billing-dispute: billing_dispute 0.99",
            "ack_deadline": "2025-03-14T10:30:00+00:00",
            "customer": "ООО «СтройМонтаж»",
            "identity_status": "probable",
            "identity_confidence": 0.55,
            "identity_evidence": [],
            "signals": [],
            "playbook": "Приостановку отложить до проверки.",
            "escalation_id": "e-1",
        },
    )


@pytest.fixture
async def rig(servers: Servers, tmp_path: Path) -> AsyncIterator[Rig]:
    # Fresh notify stream (and durable) and empty notifier tables.
    nc = await nats.connect(servers.nats_url)
    with suppress(NotFoundError):
        await nc.jetstream().delete_stream("CARELINE_NOTIFY")
    await ensure_streams(servers.nats_url)
    engine = create_async_engine(servers.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text("TRUNCATE notifier.notifications, notifier.processed_messages CASCADE")
        )
    await engine.dispose()
    var_dir = tmp_path / "var"
    handler = GatedHandler(var_dir / "mail")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    rig = Rig(servers, var_dir, handler, port, nc)

    async def record(msg: Any) -> None:
        rig.events.setdefault(msg.subject, []).append(json.loads(msg.data))

    await nc.subscribe("notify.>", cb=record)
    try:
        yield rig
    finally:
        if rig.process is not None and rig.process.alive():
            rig.process.stop()
        handler.release()
        controller.stop()
        await nc.close()


@pytest.fixture
async def pg_lock(servers: Servers) -> AsyncIterator[Callable[[], Awaitable[AsyncConnection]]]:
    """Connections of the test's own, each in a transaction, to hold locks with.

    Closed at teardown even when the test fails midway: a lock left held would block the
    next test's TRUNCATE for good (dispose() does not close checked-out connections).
    """
    engine = create_async_engine(servers.database_url)
    opened: list[AsyncConnection] = []

    async def connect() -> AsyncConnection:
        conn = await engine.connect()
        opened.append(conn)
        await conn.begin()
        return conn

    try:
        yield connect
    finally:
        for conn in opened:
            if not conn.closed:
                with suppress(Exception):
                    await conn.rollback()
                await conn.close()
        await engine.dispose()


async def waiting_on_a_lock(servers: Servers, query_prefix: str) -> bool:
    """Whether some backend waits on a lock while running a statement with this prefix.

    Asked on a connection of its own, in a fresh transaction: PostgreSQL keeps one
    snapshot of pg_stat_activity per transaction, so polling it from inside the lock
    holder's transaction would see the first answer for ever.
    """
    engine = create_async_engine(servers.database_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE :prefix"
                ),
                {"prefix": f"{query_prefix}%"},
            )
            return bool(result.scalar_one())
    finally:
        await engine.dispose()


async def held(rig: Rig) -> bool:
    return rig.smtp.held.is_set()


async def publish(rig: Rig, cmd: SendNotification) -> None:
    await rig.nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())


async def sent_event(rig: Rig, cmd: SendNotification) -> dict[str, Any]:
    async def seen() -> bool:
        return any(
            e["notification_id"] == str(cmd.notification_id)
            for e in rig.events.get("notify.sent", [])
        )

    await until(seen, "notify.sent")
    return next(
        e for e in rig.events["notify.sent"] if e["notification_id"] == str(cmd.notification_id)
    )


async def test_killed_before_send_the_accepted_request_is_sent_after_restart(
    rig: Rig, pg_lock: Callable[[], Awaitable[AsyncConnection]]
) -> None:
    cmd = request()
    # Hold the notification's send lock, as a busy sender would: the notifier accepts the
    # request (commit + ack) but cannot start sending it.
    holder = await pg_lock()
    key = claim_lock_key(cmd.notification_id)
    await holder.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
    await rig.start_notifier()
    await publish(rig, cmd)
    await until(lambda: rig.status_is(cmd.notification_id, "pending"), "the outbox row")
    await until(rig.request_acked, "the request to be acked")

    rig.kill_notifier()
    await holder.rollback()  # the lock goes with the transaction
    await holder.close()
    assert rig.mails() == []
    row = await rig.row(cmd.notification_id)
    assert row is not None and (row["status"], row["attempts"]) == ("pending", 0)

    await rig.start_notifier()
    event = await sent_event(rig, cmd)

    mails = rig.mails()
    assert [m["notification_id"] for m in mails] == [str(cmd.notification_id)]
    assert event["attempts"] == 1
    assert await rig.status_is(cmd.notification_id, "sent")
    assert await rig.stored_results() == 1


async def test_killed_during_send_the_unaccepted_mail_is_sent_once_after_restart(
    rig: Rig,
) -> None:
    cmd = request()
    rig.smtp.hold_at = "data"  # the whole message is on the wire, the server has not said 250
    await rig.start_notifier()
    await publish(rig, cmd)
    await until(lambda: held(rig), "the SMTP transaction")
    row = await rig.row(cmd.notification_id)
    assert row is not None and (row["status"], row["attempts"]) == ("sending", 1)

    rig.kill_notifier()
    rig.smtp.release()  # too late: the client is gone, the server drops the transaction
    assert rig.mails() == []

    await rig.start_notifier()
    event = await sent_event(rig, cmd)

    mails = rig.mails()
    assert [m["notification_id"] for m in mails] == [str(cmd.notification_id)]
    assert event["attempts"] == 2  # the attempt that died is counted
    assert await rig.stored_results() == 1


async def test_killed_between_send_and_commit_the_resend_carries_the_same_message_id(
    rig: Rig, pg_lock: Callable[[], Awaitable[AsyncConnection]]
) -> None:
    cmd = request()
    rig.smtp.hold_at = "data"
    await rig.start_notifier()
    await publish(rig, cmd)
    await until(lambda: held(rig), "the SMTP transaction")
    # Pin the notifier after the remote accept: its outcome commit will wait on this lock.
    holder = await pg_lock()
    await holder.execute(
        text("SELECT 1 FROM notifier.notifications WHERE notification_id = :id FOR UPDATE"),
        {"id": cmd.notification_id},
    )
    rig.smtp.release()

    async def accepted() -> bool:
        return len(rig.mails()) == 1

    await until(accepted, "the server to accept the mail")

    async def notifier_waits_on_the_lock() -> bool:
        return await waiting_on_a_lock(rig.servers, "UPDATE notifier.notifications")

    await until(notifier_waits_on_the_lock, "the notifier's outcome commit to block")
    rig.kill_notifier()
    await holder.rollback()
    await holder.close()
    row = await rig.row(cmd.notification_id)
    assert row is not None and (row["status"], row["attempts"]) == ("sending", 1)
    assert "notify.sent" not in rig.events

    await rig.start_notifier()
    event = await sent_event(rig, cmd)

    mails = rig.mails()
    assert len(mails) == 2  # the window no protocol closes: the server got it twice ...
    assert (
        mails[0]["message_id"] == mails[1]["message_id"] == f"{cmd.notification_id}@careline.local"
    )
    first, second = (
        message_from_bytes((rig.var_dir / "mail" / m["file"]).read_bytes(), policy=policy.default)
        for m in mails
    )
    assert first.as_bytes() == second.as_bytes()  # ... as the very same message, to drop
    assert event["attempts"] == 2
    assert event["idempotency_key"] == f"<{cmd.notification_id}@careline.local>"
    assert await rig.status_is(cmd.notification_id, "sent")
    assert await rig.stored_results() == 1  # and the outcome was reported once
