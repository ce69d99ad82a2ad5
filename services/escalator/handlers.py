"""Escalator's subscriber: verified message in; escalation events and notify commands out."""

from __future__ import annotations

from faststream.nats import NatsBroker

from shared.broker import publish_all, work_queue
from shared.contracts import EscalationChanged, IdentityVerified, SendNotification
from shared.settings import CarelineSettings
from shared.subjects import (
    ESCALATION_OPENED,
    ESCALATION_UPDATED,
    MESSAGE_VERIFIED,
    NOTIFY_REQUEST,
    STREAM_MESSAGES,
)
from shared.telemetry import tag_message

from .service import EscalatorService


def register(broker: NatsBroker, service: EscalatorService, settings: CarelineSettings) -> None:
    for subject, description in (
        (ESCALATION_OPENED, "A new escalation: rule, reason, signals with evidence, roles."),
        (ESCALATION_UPDATED, "A message merged into an open escalation of the same kind."),
    ):
        broker.publisher(subject, schema=EscalationChanged, title=subject, description=description)
    broker.publisher(
        NOTIFY_REQUEST,
        schema=SendNotification,
        title=NOTIFY_REQUEST,
        description="Deliver one message to one recipient (staff or client).",
    )

    @broker.subscriber(
        **work_queue(STREAM_MESSAGES, MESSAGE_VERIFIED, "escalator", settings),
        title="message.verified:escalator",
    )
    async def on_verified(body: IdentityVerified) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.handle(body))
