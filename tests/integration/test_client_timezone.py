"""Quiet hours by the client's own clock, end to end on real NATS and PostgreSQL: a customer
imported with a time zone, a probable sender of it, and the client notices held while it is
night there, though not in the notifier's default zone."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from faststream._internal.testing.app import TestApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from services.verifier.importer import import_records, parse_jsonl
from shared.contracts import AuthResults, MessageNormalized, SenderIdentifiers
from tests.integration.conftest import Env, Running, count

pytestmark = pytest.mark.integration

CLIENT_ZONE = "America/New_York"  # 7-8 hours behind the default, Europe/Moscow
CRM = """
{"record": "account_manager", "id": "am-tz", "name": "Emily Carter", "email": "e.carter@careline.example"}
{"record": "customer", "id": "cust-harbor", "name": "Harbor Freight Lines", "account_manager_id": "am-tz", "domains": ["harbor-lines.example"], "timezone": "Europe/London"}
{"record": "contact", "id": "ct-ops", "customer_id": "cust-harbor", "name": "Olivia Grant", "channels": [{"kind": "email", "address": "ops@harbor-lines.example", "verified": true}]}
{"record": "contact", "id": "ct-hale", "customer_id": "cust-harbor", "name": "Daniel Hale", "timezone": "America/New_York"}
"""  # noqa: E501


def quiet_now_only_in(zone: str) -> tuple[str, datetime]:
    """A two-hour window around now on the client's clock (quiet there, not in Moscow or
    London, hours ahead) and when it ends."""
    local = datetime.now(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0)
    return f"{local:%H:%M}-{local + timedelta(hours=2):%H:%M}", local + timedelta(hours=2)


def probable_sender() -> MessageNormalized:
    now = datetime.now(UTC)
    message_id = uuid.uuid4()
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=f"corr-{message_id}",
        occurred_at=now,
        channel="email",
        sender=SenderIdentifiers(email="d.hale@harbor-lines.example", display_name="Daniel Hale"),
        subject="Account question",
        # Neutral on purpose: what is held is the identity loop's client notices, not a
        # signal's (a question about a suspension reads as a billing dispute).
        text="Hello, please send us a copy of the March invoice.",
        signature="Best regards,\nDaniel Hale\nHarbor Freight Lines",
        language="en",
        thread_id=f"t-{message_id}",
        external_id=f"ext-{message_id}@harbor-lines.example",
        auth=AuthResults(spf="pass", dkim="pass", dmarc="pass"),
        received_at=now,
    )


async def notifications(env: Env, message_id: uuid.UUID) -> list[dict[str, Any]]:
    engine = create_async_engine(env.servers.database_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT * FROM notifier.notifications WHERE message_id = :mid "
                    "ORDER BY recipient_role"
                ),
                {"mid": message_id},
            )
            return [dict(r) for r in result.mappings()]
    finally:
        await engine.dispose()


async def test_a_non_urgent_client_notice_waits_for_the_end_of_night_in_the_clients_zone(
    env: Env, running: Running, bus: Any
) -> None:
    nc, recorder = bus
    engine = create_async_engine(env.servers.database_url)
    try:
        async with engine.begin() as conn, AsyncSession(bind=conn) as session:
            report = await import_records(session, parse_jsonl(CRM), datetime.now(UTC))
            await session.flush()
        assert (report.applied, report.errors) == (4, [])
    finally:
        await engine.dispose()
    assert await count(env.servers, "SELECT count(*) FROM crm.contacts WHERE timezone IS NOT NULL")

    window, ends = quiet_now_only_in(CLIENT_ZONE)
    settings = NotifierSettings(
        **env.base(),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=env.smtp_port,
        NOTIFIER_QUIET_HOURS=window,
        NOTIFIER_CLIENT_TIMEZONE="Europe/Moscow",
    )
    await running.start("verifier", "escalator")
    msg = probable_sender()
    async with TestApp(build_notifier(settings)):
        await nc.jetstream().publish(
            "message.normalized",
            msg.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(msg.event_id)},
        )
        # The account manager is staff: told at once, whatever the hour anywhere.
        await recorder.wait_for("notify.sent", 1)
        deadline = time.monotonic() + 20
        while True:
            rows = await notifications(env, msg.message_id)
            held = [r for r in rows if r["deferred_reason"] == "quiet_hours"]
            if len(held) == 2:
                break
            assert time.monotonic() < deadline, f"client notices not held: {rows}"
            await asyncio.sleep(0.05)

    requests = {r["recipient_role"]: r for r in recorder.of("notify.request")}
    assert requests["client_registered"]["recipient"] == "ops@harbor-lines.example"
    # The writing contact's zone wins over the customer's (Europe/London).
    assert requests["client_registered"]["recipient_timezone"] == CLIENT_ZONE
    assert requests["client_sender"]["recipient_timezone"] == CLIENT_ZONE
    assert requests["account_manager"]["recipient_timezone"] is None

    assert {r["recipient_role"] for r in held} == {"client_registered", "client_sender"}
    for row in held:
        assert (row["status"], row["attempts"]) == ("pending", 0)
        assert abs(row["next_attempt_at"] - ends) < timedelta(minutes=1)
    sent = [r["recipient_role"] for r in rows if r["status"] == "sent"]
    assert sent == ["account_manager"]
