"""Seed 000, taken back, on the real servers, after the moment of the revoke: what the
revoke could not withdraw then still never goes to the address (services/notifier/revoked.py).

- a request made before the revoke that arrives after it (the escalator's backlog, a climb,
  an answer to a message verified just before) says `recipient_verified`: refused;
- a mail that was being sent during the revoke and failed for the moment: not retried there.

And the cost: the check is one query per batch of requests, none for staff ones."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from sqlalchemy import event

from services.notifier.domain import render
from services.notifier.revoked import RevokedAddress, address_key, refusal
from services.notifier.service import NotifierService
from shared.contracts import ChannelRevoked, SendNotification
from shared.db import Database
from tests.conftest import Servers
from tests.integration.conftest import count
from tests.integration.test_channel_revoked import CEO, REGISTERED, revoked
from tests.integration.test_notifier_outbox import (  # noqa: F401  (fixtures among them)
    Smtp,
    notifier,
    publish,
    request,
    running,
    smtp,
    wait_row,
)

pytestmark = pytest.mark.integration


def answer(recipient: str = CEO, made: datetime | None = None) -> SendNotification:
    """Account content for the client at `recipient`, made at `made` (now)."""
    cmd = request(recipient=recipient, role="client_sender", severity=None)
    return cmd.model_copy(
        update={"occurred_at": made or datetime.now(UTC), "recipient_timezone": "UTC"}
    )


async def revoke_handled(servers: Servers, event_id: uuid.UUID) -> bool:
    return bool(
        await count(
            servers,
            "SELECT count(*) FROM notifier.processed_messages "
            f"WHERE key = 'revocation-event:{event_id}'",
        )
    )


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_request_made_before_the_revoke_that_arrives_after_it_is_refused(
    running: None,  # noqa: F811
    bus: Any,
    smtp: Smtp,  # noqa: F811
    servers: Servers,
) -> None:
    nc, recorder = bus
    made_before = datetime.now(UTC) - timedelta(minutes=2)  # waited in the escalator's outbox
    revoke = revoked(uuid.uuid4(), uuid.uuid4())
    await nc.jetstream().publish("crm.channel.revoked", revoke.model_dump_json().encode())
    await until(lambda: revoke_handled(servers, revoke.event_id))

    late = answer(made=made_before)
    registered = answer(REGISTERED, made=made_before)  # the client's own address: goes
    after = answer()  # made after the revoke: whatever verified the address said so since
    await publish(bus, late, registered, after)
    (failed,) = await recorder.wait_for("notify.failed", 1)
    await recorder.wait_for("notify.sent", 2)

    assert failed["notification_id"] == str(late.notification_id)
    assert failed["reason"] == refusal(late, _on_file(revoke))
    stored = await wait_row(servers, late.notification_id, status="refused")
    assert stored["attempts"] == 0
    sent_to = sorted(m["rcpt_tos"][0] for m in smtp.messages())
    assert sent_to == sorted([CEO, REGISTERED])  # `after` and `registered`, not `late`
    assert await count(servers, "SELECT count(*) FROM notifier.revoked_addresses") == 1


async def test_a_mail_being_sent_during_the_revoke_is_not_retried_to_the_address(
    running: None,  # noqa: F811
    bus: Any,
    smtp: Smtp,  # noqa: F811
    servers: Servers,
) -> None:
    """The revoke comes while the server holds the mail's DATA; the server then answers
    451. The row, `sending` during the revoke, is withdrawn at the next claim, not sent."""
    _, recorder = bus
    cmd = answer()
    revoke = revoked(uuid.uuid4(), uuid.uuid4())

    async def revoke_meanwhile() -> None:
        if smtp.handler.script:  # once: the first attempt
            client = await nats.connect(servers.nats_url)  # the SMTP server's own loop
            try:
                body = revoke.model_dump_json().encode()
                await client.jetstream().publish("crm.channel.revoked", body)
            finally:
                await client.close()
            await until(lambda: revoke_handled(servers, revoke.event_id))

    smtp.handler.script = ["451 4.3.0 try again later"]
    smtp.handler.on_data = revoke_meanwhile
    await publish(bus, cmd)
    (failed,) = await recorder.wait_for("notify.failed", 1)

    stored = await wait_row(servers, cmd.notification_id, status="withdrawn")
    assert stored["withdrawn_by"] == revoke.event_id and stored["attempts"] == 1
    assert failed["reason"] == stored["withdrawn_reason"] == refusal(cmd, _on_file(revoke))
    assert failed["attempts"] == 1
    await asyncio.sleep(0.5)  # a retry would have gone by now
    assert smtp.messages() == [] and len(smtp.handler.attempts) == 1


async def test_the_check_costs_one_query_per_batch_and_none_for_staff(db: Database) -> None:
    statements: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    service = NotifierService(db, lambda: datetime.now(UTC))
    staff = [request() for _ in range(5)]
    await asyncio.gather(*(service.accept(c) for c in staff))
    staff_statements = list(statements)
    statements.clear()
    clients = [answer(f"client{i}@kvitka.ua") for i in range(5)]
    await asyncio.gather(*(service.accept(c) for c in clients))
    client_statements = list(statements)

    looked = [s for s in client_statements if "revoked_addresses" in s]
    assert not [s for s in staff_statements if "revoked_addresses" in s]
    # However many client requests share a transaction, one lookup serves them all.
    transactions = sum(1 for s in client_statements if "pg_advisory_xact_lock" in s)
    assert 1 <= len(looked) <= transactions, client_statements
    assert len(client_statements) - len(looked) == len(staff_statements)


def _on_file(revoke: ChannelRevoked) -> RevokedAddress:
    """The revoke as the notifier keeps it."""
    return RevokedAddress(
        address_key(revoke.channel.address),
        revoke.confirmation_id,
        revoke.event_id,
        revoke.revoked_at,
    )


async def test_the_revoke_alert_lists_what_the_notifier_sent_to_the_address(
    running: None,  # noqa: F811
    bus: Any,
    smtp: Smtp,  # noqa: F811
    servers: Servers,
) -> None:
    """Seed 000: «расскажите, что ушло на X» said nothing of what did; the notifier, which
    sent it, lists it in the alert as it accepts it (services/notifier/sent_there.py)."""
    _, recorder = bus
    went = answer()
    await publish(bus, went)
    await recorder.wait_for("notify.sent", 1)
    alert = request(
        kind="identity_alert",
        data={
            "occasion": "revoked",
            "customer": "ООО «СтройМонтаж»",
            "customer_id": "cust-stroymontazh",
            "address": CEO.upper(),  # as the command was typed
            "confirmation_id": str(uuid.uuid4()),
            "confirmations": [],
            "revoked_by": "Анна Белова",
            "revoked_at": datetime.now(UTC).isoformat(),
            "registered": [],
            "cases": [],
            "team_timezone": "Europe/Moscow",
            "stand_in_for": None,
        },
    )
    await publish(bus, alert)

    stored = await wait_row(servers, alert.notification_id, status="sent")
    (mail,) = stored["request"]["data"]["sent_there"]
    assert mail["kinds"] == [went.kind]
    said = render(SendNotification.model_validate(stored["request"])).body
    assert alert.language == "uk"
    assert "Що пішло на A.SOKOLOV@STROYMONTAZH.RU" in said and "careline notifications" not in said
