"""Verifier's subscriber: normalized message in, verified message out."""

from __future__ import annotations

from faststream.nats import NatsBroker

from shared.broker import publish_all, work_queue
from shared.contracts import IdentityVerified, MessageNormalized
from shared.settings import CarelineSettings
from shared.subjects import MESSAGE_NORMALIZED, MESSAGE_VERIFIED, STREAM_MESSAGES
from shared.telemetry import tag_message

from .service import VerifierService


def register(broker: NatsBroker, service: VerifierService, settings: CarelineSettings) -> None:
    broker.publisher(
        MESSAGE_VERIFIED,
        schema=IdentityVerified,
        title="message.verified",
        description="The message with the sender's identity, evidence and disclosure level.",
    )

    @broker.subscriber(
        **work_queue(STREAM_MESSAGES, MESSAGE_NORMALIZED, "verifier", settings),
        title="message.normalized:verifier",
    )
    async def on_normalized(body: MessageNormalized) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.verify(body))
