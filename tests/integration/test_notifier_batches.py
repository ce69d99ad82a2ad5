"""The notifier's sender in batches on real servers: mails share SMTP sessions, a refused
recipient fails alone, rate limits hold within one batch, a dropped session is replaced."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from faststream._internal.testing.app import TestApp
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.notifier import adapters
from services.notifier.app import build_app as build_notifier
from shared.embedded import free_port
from tests.conftest import Servers
from tests.integration.conftest import count
from tests.integration.test_notifier_outbox import (
    Notifier,
    ScriptedHandler,
    Smtp,
    client_notice,
    publish,
    request,
    wait_row,
)

pytestmark = pytest.mark.integration


class CountingHandler(ScriptedHandler):
    """Counts SMTP sessions (each greets with EHLO once) and refuses chosen recipients."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.sessions = 0
        self.refuse: set[str] = set()

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        return await super().handle_RCPT(server, session, envelope, address, options)


class Restartable:
    def __init__(self, handler: CountingHandler, port: int) -> None:
        self.handler = handler
        self.port = port
        self.controller = self._start()

    def _start(self) -> Controller:
        controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        controller.start()
        return controller

    def restart(self) -> None:
        """The server goes away (closing every session) and comes back on the same port."""
        self.controller.stop()
        self.controller = self._start()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Smtp, Restartable]]:
    handler = CountingHandler(tmp_path / "mail")
    server = Restartable(handler, free_port())
    try:
        yield Smtp(handler, server.port, tmp_path / "mail"), server
    finally:
        server.controller.stop()


@pytest.fixture
def notifier(servers: Servers, clean: None, var_dir: Path, smtp: tuple[Smtp, Any]) -> Notifier:
    return Notifier(servers, var_dir, smtp[0].port)


async def test_mails_of_a_batch_share_smtp_sessions_and_a_refusal_fails_alone(
    notifier: Notifier, bus: Any, smtp: tuple[Smtp, Any], servers: Servers
) -> None:
    _, recorder = bus
    server, _ = smtp
    handler: CountingHandler = server.handler  # type: ignore[assignment]
    handler.refuse = {"nobody@careline.example"}
    good = [request(recipient=f"staff{i}@careline.example") for i in range(12)]
    bad = request(recipient="nobody@careline.example")

    async with TestApp(build_notifier(notifier.settings(NOTIFIER_CONCURRENCY=2))):
        await publish(bus, *good[:6], bad, *good[6:])
        await recorder.wait_for("notify.sent", len(good))
        (failed,) = await recorder.wait_for("notify.failed", 1)

    assert failed["permanent"] is True and failed["attempts"] == 1
    assert sorted(m["rcpt_tos"][0] for m in server.messages()) == sorted(g.recipient for g in good)
    assert all(s["attempts"] == 1 for s in recorder.of("notify.sent"))
    # Thirteen mails over two sessions, kept open after the refusal too.
    assert handler.sessions <= 2


async def test_a_rate_limit_holds_within_one_batch(
    notifier: Notifier, bus: Any, smtp: tuple[Smtp, Any], servers: Servers
) -> None:
    _, recorder = bus
    server, _ = smtp
    settings = notifier.settings(NOTIFIER_CLIENT_RATE_LIMIT="1/3600")
    first, second = client_notice("buh@kvitka.ua"), client_notice("buh@kvitka.ua")
    other = client_notice("ceo@kvitka.ua")

    async with TestApp(build_notifier(settings)):
        await publish(bus, first, second, other)  # due together: claimed in one batch
        sent = {s["notification_id"] for s in await recorder.wait_for("notify.sent", 2)}
        held = [n for n in (first, second) if str(n.notification_id) not in sent]
        assert len(held) == 1  # the first of the two in the batch went, the other waits
        waiting = await wait_row(servers, held[0].notification_id, deferred_reason="rate_limit")

    assert sorted(m["rcpt_tos"][0] for m in server.messages()) == ["buh@kvitka.ua", "ceo@kvitka.ua"]
    assert waiting["status"] == "pending"


async def settled(servers: Servers, recipient: str, expected: int) -> None:
    """Wait until the recipient's mails are each sent or deferred by the rate limit."""
    deadline = time.monotonic() + 20
    sql = (
        "SELECT count(*) FROM notifier.notifications WHERE recipient = "
        f"'{recipient}' AND (status = 'sent' OR deferred_reason = 'rate_limit')"
    )
    while await count(servers, sql) < expected:
        assert time.monotonic() < deadline, f"{recipient}'s mails never settled"
        await asyncio.sleep(0.05)


async def test_a_rate_limit_holds_while_both_sender_passes_claim_at_once(
    notifier: Notifier, bus: Any, smtp: tuple[Smtp, Any], servers: Servers
) -> None:
    # Small batches split one recipient's mails between the two passes: each must count
    # the mail the other is claiming, or both go.
    _, recorder = bus
    server, _ = smtp
    settings = notifier.settings(NOTIFIER_CLIENT_RATE_LIMIT="1/3600", NOTIFIER_BATCH=2)
    same = [client_notice("buh@kvitka.ua") for _ in range(8)]
    others = [client_notice(f"c{i}@kvitka.ua") for i in range(16)]

    async with TestApp(build_notifier(settings)):
        await publish(bus, *[n for pair in zip(same, others[:8], strict=True) for n in pair])
        await publish(bus, *others[8:])
        await recorder.wait_for("notify.sent", 1 + len(others))
        await settled(servers, "buh@kvitka.ua", len(same))

    to_buh = [m for m in server.messages() if m["rcpt_tos"] == ["buh@kvitka.ua"]]
    assert len(to_buh) == 1
    assert len(server.messages()) == 1 + len(others)


async def test_a_claim_counts_a_recipients_attempts_only_after_a_concurrent_claim_ends(
    servers: Servers, clean: None
) -> None:
    engine = create_async_engine(servers.database_url)
    try:
        async with AsyncSession(engine) as first, first.begin():
            await adapters.lock_recipients(first, ["buh@kvitka.ua", "ceo@kvitka.ua"])

            async def second_claim(recipients: list[str]) -> None:
                async with AsyncSession(engine) as second, second.begin():
                    await adapters.lock_recipients(second, recipients)

            other = asyncio.create_task(second_claim(["a@kvitka.ua", "z@kvitka.ua"]))
            same = asyncio.create_task(second_claim(["buh@kvitka.ua", "x@kvitka.ua"]))
            await asyncio.wait_for(other, 5)  # other recipients are not held up
            await asyncio.sleep(0.3)
            assert not same.done()  # waits for the first claim's commit
        await asyncio.wait_for(same, 5)
    finally:
        await engine.dispose()


async def test_a_session_the_server_dropped_is_replaced_without_a_failed_attempt(
    notifier: Notifier, bus: Any, smtp: tuple[Smtp, Restartable], servers: Servers
) -> None:
    _, recorder = bus
    server, restartable = smtp
    before, after = request(), request()

    async with TestApp(build_notifier(notifier.settings())):
        await publish(bus, before)
        await recorder.wait_for("notify.sent", 1)
        restartable.restart()  # the sessions kept open are dead now
        await publish(bus, after)
        await recorder.wait_for("notify.sent", 2)

    assert [s["attempts"] for s in recorder.of("notify.sent")] == [1, 1]
    assert len(server.messages()) == 2
