"""Signed webhooks through the outbox, against a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from faststream._internal.testing.app import TestApp

from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from services.notifier.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from shared.contracts import SendNotification
from tests.conftest import Servers

pytestmark = pytest.mark.integration
SECRET = "whsec-integration"


@dataclass
class Receiver:
    """Records every request; answers from `script` (status codes), then 200."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = state.script.pop(0) if state.script else 200
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def settings(servers: Servers, var_dir: Path, receiver: Receiver) -> NotifierSettings:
    hooks = {
        "ops-slack": {"url": f"{receiver.url}/slack", "format": "slack", "secret": SECRET},
        "ops-mm": {"url": f"{receiver.url}/hooks/mm", "format": "mattermost", "secret": SECRET},
        "tg": {
            "url": f"{receiver.url}/botTOKEN/sendMessage",
            "format": "telegram",
            "chat_id": "-1001",
        },
        "generic": {"url": f"{receiver.url}/in", "secret": SECRET},
    }
    return NotifierSettings(
        NATS_URL=servers.nats_url,
        DATABASE_URL=servers.database_url,
        CARELINE_VAR_DIR=str(var_dir),
        SMTP_PORT=1,
        NOTIFIER_POLL=0.1,
        NOTIFIER_RETRY_BASE=0.1,
        NOTIFIER_WEBHOOKS=json.dumps(hooks),
    )


def to_webhook(name: str) -> SendNotification:
    message_id = uuid.uuid4()
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=datetime.now(UTC),
        notification_id=uuid.uuid4(),
        kind="manager_escalation",
        channel="webhook",
        recipient=name,
        recipient_role="head_of_support",
        recipient_verified=True,
        content_class="account",
        language="en",
        severity="P1",
        data={
            "severity": "P1",
            "kind": "violence",
            "rule": "violence-to-security",
            "reason": "rule violence-to-security: violence_threat 0.95",
            "ack_deadline": "2025-03-14T09:45:00+00:00",
            "customer": None,
            "identity_status": "unknown",
            "identity_confidence": 0.0,
            "identity_evidence": [],
            "signals": [],
            "playbook": "Protect the staff.",
            "escalation_id": "e-9",
        },
    )


async def send(bus: Any, cmd: SendNotification) -> None:
    nc, _ = bus
    await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())


async def test_each_format_is_posted_signed_and_verifiable(
    servers: Servers, clean: None, var_dir: Path, bus: Any, receiver: Receiver
) -> None:
    _, recorder = bus
    cmds = [to_webhook(name) for name in ("ops-slack", "ops-mm", "tg", "generic")]
    async with TestApp(build_notifier(settings(servers, var_dir, receiver))):
        for cmd in cmds:
            await send(bus, cmd)
        await recorder.wait_for("notify.sent", 4)

    by_path = {r["path"]: r for r in receiver.requests}
    assert set(by_path) == {"/slack", "/hooks/mm", "/botTOKEN/sendMessage", "/in"}
    for path, cmd in zip(("/slack", "/hooks/mm", "/in"), (cmds[0], cmds[1], cmds[3]), strict=True):
        req = by_path[path]
        signature = req["headers"][SIGNATURE_HEADER]
        verify(SECRET, req["body"], signature, datetime.now(UTC))  # raises if forged or stale
        assert req["headers"][IDEMPOTENCY_HEADER] == str(cmd.notification_id)
    assert json.loads(by_path["/slack"]["body"])["text"].startswith("*[P1] violence")
    assert json.loads(by_path["/hooks/mm"]["body"])["text"].startswith("#### [P1] violence")
    telegram = json.loads(by_path["/botTOKEN/sendMessage"]["body"])
    assert (telegram["chat_id"], telegram["parse_mode"]) == ("-1001", "HTML")
    generic = json.loads(by_path["/in"]["body"])
    assert generic["notification_id"] == str(cmds[3].notification_id)
    assert generic["data"]["playbook"] == "Protect the staff."


async def test_a_temporary_failure_is_retried_with_the_same_idempotency_key(
    servers: Servers, clean: None, var_dir: Path, bus: Any, receiver: Receiver
) -> None:
    _, recorder = bus
    receiver.script = [503, 429]
    cmd = to_webhook("ops-slack")
    async with TestApp(build_notifier(settings(servers, var_dir, receiver))):
        await send(bus, cmd)
        (sent,) = await recorder.wait_for("notify.sent", 1)

    assert sent["attempts"] == 3
    keys = {r["headers"][IDEMPOTENCY_HEADER] for r in receiver.requests}
    assert keys == {str(cmd.notification_id)}  # a receiver can drop what it already has
    assert len(receiver.requests) == 3
    for req in receiver.requests:
        verify(SECRET, req["body"], req["headers"][SIGNATURE_HEADER], datetime.now(UTC))


async def test_a_client_error_fails_permanently_and_an_unknown_endpoint_is_refused(
    servers: Servers, clean: None, var_dir: Path, bus: Any, receiver: Receiver
) -> None:
    _, recorder = bus
    receiver.script = [404]
    gone, unknown = to_webhook("generic"), to_webhook("nobody-configured-this")
    async with TestApp(build_notifier(settings(servers, var_dir, receiver))):
        await send(bus, gone)
        await send(bus, unknown)
        failures = await recorder.wait_for("notify.failed", 2)

    reasons = {f["notification_id"]: f for f in failures}
    assert reasons[str(gone.notification_id)]["reason"] == "webhook refused with 404"
    assert reasons[str(gone.notification_id)]["attempts"] == 1
    assert "no such webhook endpoint" in reasons[str(unknown.notification_id)]["reason"]
    assert reasons[str(unknown.notification_id)]["attempts"] == 0
    assert len(receiver.requests) == 1
