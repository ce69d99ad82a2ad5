"""The manager read that the client was written to; the client's mail server then refused
the mail for good. On real servers (NATS, PostgreSQL, an aiosmtpd SMTP server) the manager
gets one follow-up in their language saying the mail did not reach the client, why and the
case, and a redelivery of both requests adds nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from faststream._internal.testing.app import TestApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifier.adapters import processed
from services.notifier.app import build_app as build_notifier
from services.notifier.client_waits import ClientSchedule
from services.notifier.service import NotifierService
from shared.case_ref import case_ref
from shared.db import Database
from shared.embedded import free_port
from shared.group_commit import GroupCommit
from tests.conftest import Servers
from tests.integration.conftest import count
from tests.integration.test_client_waits import staff_notice_of
from tests.integration.test_notifier_outbox import (
    Notifier,
    ScriptedHandler,
    Smtp,
    client_notice,
    publish,
    request,
)

pytestmark = pytest.mark.integration

CLIENT = "buh@kvitka.ua"


class RefusingClient(ScriptedHandler):
    """A real SMTP server whose client mailbox does not exist (550 at RCPT), or, with
    `client_reply` set so, is never free (451 at RCPT)."""

    client_reply = "550 5.1.1 no such user"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address == CLIENT:
            return self.client_reply
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    handler = RefusingClient(tmp_path / "mail")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(handler, port, tmp_path / "mail")
    finally:
        controller.stop()


async def reason_of(servers: Servers, notification_id: uuid.UUID) -> tuple[str, str, str]:
    """The row's status, its reason code (staff's) and its free text (ops')."""
    query = text(
        "SELECT status, reason_code, coalesce(withdrawn_reason, last_error) "
        "FROM notifier.notifications WHERE notification_id = :id"
    )
    engine = create_async_engine(servers.database_url)
    try:
        async with engine.connect() as conn:
            status, code, reason = (await conn.execute(query, {"id": notification_id})).one()
    finally:
        await engine.dispose()
    return status, code, reason


def mails_to(smtp: Smtp, address: str) -> list[Any]:
    return [
        message_from_bytes((smtp.directory / m["file"]).read_bytes(), policy=policy.default)
        for m in smtp.messages()
        if m["rcpt_tos"] == [address]
    ]


async def test_a_client_mail_refused_for_good_is_told_to_the_manager_once(
    servers: Servers, clean: None, var_dir: Path, smtp: Smtp, bus: Any
) -> None:
    _, recorder = bus
    escalation = uuid.uuid4()
    answer = client_notice(CLIENT).model_copy(update={"escalation_id": escalation})
    manager = staff_notice_of(answer).model_copy(update={"escalation_id": escalation})

    async with TestApp(build_notifier(Notifier(servers, var_dir, smtp.port).settings())):
        await publish(bus, manager, answer)  # the escalator's order: staff, then the client
        (failed,) = await recorder.wait_for("notify.failed", 1)
        await recorder.wait_for("notify.sent", 2)  # the notice and its follow-up
        await publish(bus, manager, answer)  # redelivered: nothing new
        later = request(
            recipient="duty@careline.example"
        )  # after them: once it went, the redelivery was handled
        await publish(bus, later)
        await recorder.wait_for("notify.sent", 3)

    assert failed["notification_id"] == str(answer.notification_id) and failed["permanent"]
    # The code staff read stored where the row ended; the server's words kept for ops.
    assert await reason_of(servers, answer.notification_id) == (
        "failed",
        "refused_by_server",
        "SMTP refused the recipient (550)",
    )
    notice, follow_up = sorted(mails_to(smtp, manager.recipient), key=lambda m: m["Date"])
    assert "Клієнтові написано автоматично: повідомлення про збій." in str(
        notice.get_body(("plain",)).get_content()
    )
    body = str(follow_up.get_body(("plain",)).get_content())
    assert follow_up["Subject"].startswith("Клієнтові не дійшов автоматичний лист")
    assert "не дійшов: повідомлення про збій." in body
    assert "Причина: поштовий сервер клієнта відмовився прийняти лист." in body
    assert "зв'яжіться з клієнтом самі" in body and CLIENT not in body
    assert follow_up["In-Reply-To"] == notice["Message-ID"]  # in the notice's thread
    assert case_ref(escalation) in follow_up["Subject"]
    kinds = "SELECT count(*) FROM notifier.notifications WHERE kind = 'client_mail_undelivered'"
    assert await count(servers, kinds) == 1
    assert len(mails_to(smtp, manager.recipient)) == 2
    assert mails_to(smtp, CLIENT) == []


async def test_a_notice_of_a_client_mail_that_failed_before_says_it_was_not_written(
    servers: Servers, clean: None, var_dir: Path, smtp: Smtp, bus: Any
) -> None:
    _, recorder = bus
    answer = client_notice(CLIENT)  # an earlier message asked for it; it failed
    manager = staff_notice_of(answer)  # a later notice names the same mail

    async with TestApp(build_notifier(Notifier(servers, var_dir, smtp.port).settings())):
        await publish(bus, answer)
        await recorder.wait_for("notify.failed", 1)
        await publish(bus, manager)
        await recorder.wait_for("notify.sent", 1)

    (notice,) = mails_to(smtp, manager.recipient)
    body = str(notice.get_body(("plain",)).get_content())
    assert (
        "Клієнтові НЕ написано автоматично (повідомлення про збій): поштовий сервер клієнта "
        "відмовився прийняти лист; зв'яжіться з клієнтом самі."
    ) in body
    assert "Клієнтові написано автоматично" not in body
    # Said NOT written: nothing to follow up.
    told = "SELECT count(*) FROM notifier.client_mail_told"
    assert await count(servers, told) == 0


async def test_a_client_mail_refused_at_acceptance_beside_its_notice_is_never_said_written(
    servers: Servers, clean: None, var_dir: Path, smtp: Smtp, bus: Any
) -> None:
    _, recorder = bus
    answer = client_notice("director@kvitka.ua").model_copy(update={"recipient_verified": False})
    manager = staff_notice_of(answer)

    async with TestApp(build_notifier(Notifier(servers, var_dir, smtp.port).settings())):
        # One acceptance batch (the client request is decided first: the notice says NOT
        # written) or two, in either order: NOT written, or written and a follow-up at once.
        await publish(bus, manager, answer)
        (refused,) = await recorder.wait_for("notify.failed", 1)
        await recorder.wait_for("notify.sent", 1)
        told = "SELECT count(*) FROM notifier.client_mail_told"
        if await count(servers, told):
            await recorder.wait_for("notify.sent", 2)

    assert refused["attempts"] == 0  # refused before any attempt
    status, code, _ = await reason_of(servers, answer.notification_id)
    assert (status, code) == ("refused", "unverified")
    why = "у клієнта немає підтвердженої адреси для такого листа"
    bodies = [str(m.get_body(("plain",)).get_content()) for m in mails_to(smtp, manager.recipient)]
    said = [b for b in bodies if "Клієнтові НЕ написано автоматично" in b]
    followed = [b for b in bodies if "не дійшов" in b]
    assert len(said) + len(followed) == 1  # one way or the other, exactly once
    assert why in (said or followed)[0]


async def test_a_client_mail_whose_retries_run_out_is_told_with_that_code(
    servers: Servers, clean: None, var_dir: Path, smtp: Smtp, bus: Any
) -> None:
    _, recorder = bus
    smtp.handler.client_reply = "451 4.2.1 mailbox busy, try later"  # type: ignore[attr-defined]
    answer = client_notice(CLIENT)
    manager = staff_notice_of(answer)
    settings = Notifier(servers, var_dir, smtp.port).settings(NOTIFIER_MAX_ATTEMPTS=2)

    async with TestApp(build_notifier(settings)):
        await publish(bus, manager, answer)
        (failed,) = await recorder.wait_for("notify.failed", 1)
        await recorder.wait_for("notify.sent", 2)  # the notice and its follow-up

    assert failed["attempts"] == 2 and not failed["permanent"]
    status, code, text = await reason_of(servers, answer.notification_id)
    assert (status, code) == ("failed", "retries_exhausted")
    assert text.startswith("gave up after 2 attempts")
    (follow_up,) = [
        m for m in mails_to(smtp, manager.recipient) if m["Subject"].startswith("Клієнтові не")
    ]
    body = str(follow_up.get_body(("plain",)).get_content())
    assert "Причина: поштовий сервер клієнта так і не прийняв лист, усі спроби вичерпано." in body
    assert "451" not in body and CLIENT not in body  # the server's words stay with ops


async def test_a_refusal_in_the_batch_of_the_notice_naming_it_is_said_by_that_notice_alone(
    db: Database, servers: Servers
) -> None:
    # The escalator's order, notice first, in one acceptance batch (one transaction at a
    # time): the client request is decided first, so the notice says NOT written at once,
    # and nothing is filed to follow it up.
    commits = GroupCommit(db, processed, "notifier", lambda: datetime.now(UTC))
    service = NotifierService(
        db,
        lambda: datetime.now(UTC),
        commits=commits,
        schedule=ClientSchedule(quiet=None, limit=None, zone="UTC"),
    )
    answer = client_notice("director@kvitka.ua").model_copy(update={"recipient_verified": False})
    manager = staff_notice_of(answer)

    said, refused = await asyncio.gather(service.accept(manager), service.accept(answer))

    assert said == [] and len(refused) == 1  # the notice stored, the client request refused
    sent = "SELECT request->'data'->'client_contacts_sent' FROM notifier.notifications WHERE "
    engine = create_async_engine(servers.database_url)
    try:
        async with engine.connect() as conn:
            query = text(sent + "notification_id = :id")
            (contacts,) = (await conn.execute(query, {"id": manager.notification_id})).one()
    finally:
        await engine.dispose()
    assert contacts["not_written"] == [{"kinds": [answer.kind], "why": "unverified"}]
    assert await count(servers, "SELECT count(*) FROM notifier.client_mail_told") == 0
    follow_ups = (
        "SELECT count(*) FROM notifier.notifications WHERE kind = 'client_mail_undelivered'"
    )
    assert await count(servers, follow_ups) == 0
