"""Kill -9 a service in the middle of traffic: after a restart nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.embedded import free_port
from shared.runtime import spawn_service, start_servers, start_services, wait_ready
from shared.smtp_sink import read_mail_index

pytestmark = pytest.mark.e2e
MESSAGES = 40


async def _scalar(database_url: str, sql: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def _publish(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(MESSAGES):
        payload = {
            "channel": "chat",
            "external_id": f"crash-{i}",
            "sender": {"handle": f"@client_{i}"},
            "text": f"Я подам на вас в суд из-за заказа № {i}.",
        }
        await js.publish("inbound.chat", json.dumps(payload).encode())
    await nc.close()


async def _wait_for(database_url: str, sql: str, expected: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    value = -1
    while time.monotonic() < deadline:
        value = await _scalar(database_url, sql)
        if value >= expected:
            return value
        await asyncio.sleep(0.2)
    return value


def test_killed_services_lose_and_double_nothing(tmp_path: Path) -> None:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL", "SMTP_HOST")
    }
    environ["CARELINE_ACK_WAIT"] = "3"  # in-flight messages of a killed service come back soon
    for name in ("intake", "verifier", "escalator", "notifier"):  # no clash with other runs
        environ[f"CARELINE_{name.upper()}_HTTP_PORT"] = str(free_port())
    stack = start_servers(
        tmp_path / "var", environ, nats_port=free_port(), pg_port=free_port(), smtp_port=free_port()
    )
    try:
        start_services(stack, environ, demo_crm=True)
        wait_ready(stack)
        victims = {
            p.name: p for p in stack.supervisor.processes if p.name in ("verifier", "escalator")
        }
        asyncio.run(_publish(stack.env["NATS_URL"]))
        # Kill in the middle of the traffic: some messages processed, others in flight.
        url = stack.env["DATABASE_URL"]
        asyncio.run(_wait_for(url, "SELECT count(*) FROM escalator.processed_messages", 5))
        for proc in victims.values():
            os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait(10)
        for name in victims:
            stack.supervisor.add(spawn_service(stack, name, environ, demo_crm=True))

        # Each message from its own unknown sender opens one legal escalation, which tells
        # legal and the head of support.
        expected_escalations = MESSAGES
        got = asyncio.run(
            _wait_for(url, "SELECT count(*) FROM escalator.escalations", expected_escalations)
        )
        assert got == expected_escalations
        sent_sql = "SELECT count(*) FROM notifier.notifications WHERE status = 'sent'"
        assert asyncio.run(_wait_for(url, sent_sql, MESSAGES * 2)) == MESSAGES * 2
        assert asyncio.run(_scalar(url, "SELECT count(*) FROM intake.messages")) == MESSAGES
        assert asyncio.run(_scalar(url, "SELECT count(*) FROM crm.identity_decisions")) == MESSAGES
        mails = read_mail_index(stack.mail_dir)
        ids = [m["notification_id"] for m in mails]
        assert len(ids) == len(set(ids)) == MESSAGES * 2
    finally:
        stack.supervisor.stop_all()
