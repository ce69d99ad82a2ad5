"""Handlers under FastStream's in-memory broker: thin, and errors mapped in one place."""

from __future__ import annotations

import json
import uuid

import pytest
from faststream.nats import JStream, NatsBroker, TestNatsBroker

from services.intake.handlers import register
from shared.broker import build_broker
from shared.contracts import InboundMessage
from shared.outbox import Outgoing
from shared.settings import CarelineSettings
from shared.subjects import MESSAGE_NORMALIZED

pytestmark = pytest.mark.unit


class FakeIntake:
    """Records what it was asked and answers with one prepared output."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[InboundMessage, str]] = []
        self.fail_with = fail_with

    async def accept(self, inbound: InboundMessage, subject_channel: str) -> list[Outgoing]:
        self.calls.append((inbound, subject_channel))
        if self.fail_with:
            raise self.fail_with
        message_id = str(uuid.uuid4())
        payload = {
            "event_id": str(uuid.uuid4()),
            "message_id": message_id,
            "correlation_id": message_id,
        }
        return [Outgoing(MESSAGE_NORMALIZED, payload["event_id"], payload)]


def intake_broker(service: FakeIntake) -> NatsBroker:
    settings = CarelineSettings(NATS_URL="nats://127.0.0.1:4222", CARELINE_MAX_DELIVER=2)
    broker = build_broker("intake", settings, tracer_provider=None)
    register(broker, service, settings)  # type: ignore[arg-type]
    return broker


async def test_inbound_message_is_handed_to_the_service_and_its_output_published() -> None:
    service = FakeIntake()
    broker = intake_broker(service)
    seen: list[dict] = []

    @broker.subscriber(MESSAGE_NORMALIZED, stream=JStream("CARELINE_MESSAGES", declare=False))
    async def normalized(body: dict) -> None:
        seen.append(body)

    async with TestNatsBroker(broker) as br:
        payload = {"channel": "chat", "sender": {"handle": "@a"}, "text": "привет"}
        await br.publish(payload, "inbound.chat")

    ((inbound, channel),) = service.calls
    assert channel == "chat" and inbound.text == "привет"
    assert len(seen) == 1


async def test_invalid_payload_goes_to_the_dead_letter_subject_with_the_reason() -> None:
    service = FakeIntake()
    broker = intake_broker(service)
    letters: list[dict] = []

    @broker.subscriber("dlq.intake", stream=JStream("CARELINE_DLQ", declare=False))
    async def dead(body: dict) -> None:
        letters.append(body)

    async with TestNatsBroker(broker) as br:
        await br.publish({"channel": "fax", "text": "x"}, "inbound.chat")

    assert service.calls == []
    (letter,) = letters
    assert letter["service"] == "intake"
    assert "channel" in letter["reason"] and "invalid payload" in letter["reason"]
    assert json.loads(letter["payload"]) == {"channel": "fax", "text": "x"}


async def test_permanent_error_from_the_service_is_dead_lettered_at_once() -> None:
    from shared.errors import PermanentError

    broker = intake_broker(FakeIntake(fail_with=PermanentError("email source has no From")))
    letters: list[dict] = []

    @broker.subscriber("dlq.intake", stream=JStream("CARELINE_DLQ", declare=False))
    async def dead(body: dict) -> None:
        letters.append(body)

    async with TestNatsBroker(broker) as br:
        await br.publish({"channel": "email", "raw_email": "Subject: x\n\nhi"}, "inbound.email")

    (letter,) = letters
    assert letter["error_type"] == "PermanentError"
    assert "no From" in letter["reason"]
