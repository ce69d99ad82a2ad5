"""What the escalator's integration tests share: a real escalator in this process on the
session's NATS and PostgreSQL, a recorder of what it publishes (the `watch` fixture, made
available to every test module by conftest.py), a verified message to feed it, and staff
commands asked over NATS."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from faststream._internal.testing.app import TestApp

from services.escalator.app import build_app as build_escalator
from services.escalator.policy import POLICY_PATH
from services.escalator.request import request_command
from services.escalator.settings import EscalatorSettings
from shared.contracts import (
    AcknowledgeEscalation,
    AuthResults,
    ChannelRef,
    ConfirmationRequest,
    CustomerRef,
    EscalationCommand,
    EscalationCommandResult,
    Identity,
    IdentityVerified,
    MessageNormalized,
    SenderIdentifiers,
    StaffRef,
    derived_id,
)
from shared.settings import CarelineSettings
from tests.integration.conftest import Env

LEGAL = "legal@careline.example"
HEAD = "head.support@careline.example"
BILLING = "billing@careline.example"
DIRECTOR = "director@careline.example"
# The code a confirmation request of `awaiting_confirmation` carries (its mail's subject).
CONFIRMATION_CODE = "731904"


class Bus:
    """Every message on the escalation event subjects and notify.request, decoded."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict[str, Any]]] = {}

    def of(self, subject: str) -> list[dict[str, Any]]:
        return self.seen.get(subject, [])

    def to(self, address: str) -> list[dict[str, Any]]:
        """The notification requests to `address` (a person, a client), in their order."""
        return [n for n in self.of("notify.request") if n["recipient"] == address]

    async def wait(self, subject: str, n: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(subject)) < n:
            assert time.monotonic() < deadline, f"waited for {n} on {subject}: {list(self.seen)}"
            await asyncio.sleep(0.05)
        return self.of(subject)


@pytest.fixture
async def watch(env: Env) -> AsyncIterator[tuple[nats.NATS, Bus]]:
    nc = await nats.connect(env.servers.nats_url)
    bus = Bus()

    async def record(msg: Any) -> None:
        bus.seen.setdefault(msg.subject, []).append(json.loads(msg.data))

    for subject in ("escalation.*", "notify.request"):  # not escalation.cmd.* (two tokens)
        await nc.subscribe(subject, cb=record)
    try:
        yield nc, bus
    finally:
        await nc.close()


def policy_file(tmp_path: Path, **top: Any) -> Path:
    """The shipped policy with these top-level settings changed, as a file to run with."""
    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    data.update(top)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def escalator_settings(env: Env, **extra: Any) -> EscalatorSettings:
    return EscalatorSettings(**env.base(), ESCALATOR_SWEEP_SECONDS=0.1, **extra)


async def start(stack: AsyncExitStack, settings: EscalatorSettings) -> None:
    await stack.enter_async_context(TestApp(build_escalator(settings)))


def legal_threat(text_: str = "Я подам на вас в суд, это последнее предупреждение.") -> bytes:
    """A verified message of ООО «СтройМонтаж» from its registered address (a new one each
    time), as the verifier sends it."""
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold"),
        account_manager=StaffRef(
            id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address="buh@stroymontazh.ru", verified=True)
        ],
        disclosure="account",
    )
    sender = SenderIdentifiers(email="buh@stroymontazh.ru")
    return verified_payload(text_, identity, sender, domain="mail.stroymontazh.ru")


def awaiting_confirmation(
    text: str, sender: str, confirmation_id: uuid.UUID, **message: Any
) -> dict[str, Any]:
    """`legal_threat`'s client written from `sender`, another address: probable (matched by
    name), with a confirmation asked of the registered contact, as the verifier sends it;
    `message`: more of the message's fields (its language, subject)."""
    verified = json.loads(legal_threat(text))
    verified["message"] |= {"sender": {"email": sender}, **message}
    request = ConfirmationRequest(
        confirmation_id=confirmation_id,
        code=CONFIRMATION_CODE,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    verified["identity"] |= {
        "status": "probable",
        "confidence": 0.6,
        "disclosure": "general",
        "confirmation": request.model_dump(mode="json"),
    }
    return verified


def verified_payload(
    text: str,
    identity: Identity,
    sender: SenderIdentifiers,
    *,
    domain: str,
    channel: str = "email",
    subject: str = "Претензия",
    language: str = "ru",
    auth: AuthResults | None = None,
) -> bytes:
    """`message.verified` for a new message (its id from a new external id at `domain`;
    `auth`: the SPF / DKIM / DMARC verdicts intake read, none said by default)."""
    external_id = f"{uuid.uuid4()}@{domain}"
    message_id = derived_id("message", channel, external_id)
    now = datetime.now(UTC)
    message = MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        channel=channel,  # type: ignore[arg-type]
        sender=sender,
        subject=subject,
        text=text,
        language=language,  # type: ignore[arg-type]
        language_confidence=0.9,
        thread_id=external_id,
        external_id=external_id,
        received_at=now,
        auth=auth or AuthResults(),
    )
    verified = IdentityVerified(
        event_id=derived_id("verified", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        message=message,
        identity=identity,
    )
    return verified.model_dump_json().encode()


async def publish_verified(nc: nats.NATS, payload: bytes) -> None:
    await nc.jetstream().publish("message.verified", payload)


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Until `condition` holds: a query (awaited) or what the bus recorded (called)."""
    deadline = time.monotonic() + timeout
    while not await _value(condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _value(held: object) -> object:
    return await held if inspect.isawaitable(held) else held


async def ask(env: Env, command: EscalationCommand) -> EscalationCommandResult:
    return await request_command(CarelineSettings(**env.base()), command, timeout=5.0)


def ack(escalation_id: uuid.UUID, actor: str, **kw: Any) -> AcknowledgeEscalation:
    return AcknowledgeEscalation(
        command_id=uuid.uuid4(), escalation_id=escalation_id, actor=actor, **kw
    )
