"""Intake's subscriber: validate the contract, call the service, publish what it produced."""

from __future__ import annotations

from faststream.nats import NatsBroker, NatsMessage

from shared.broker import publish_all, work_queue
from shared.contracts import InboundMessage, MessageNormalized
from shared.settings import CarelineSettings
from shared.subjects import MESSAGE_NORMALIZED, STREAM_INBOUND
from shared.telemetry import tag_message

from .service import IntakeService


def register(broker: NatsBroker, service: IntakeService, settings: CarelineSettings) -> None:
    broker.publisher(
        MESSAGE_NORMALIZED,
        schema=MessageNormalized,
        title="message.normalized",
        description="One canonical message per client message, duplicates collapsed.",
    )

    @broker.subscriber(
        **work_queue(STREAM_INBOUND, "inbound.*", "intake", settings),
        title="inbound.<channel>",
        description="Raw client messages from publishers: an RFC 5322 source or text.",
    )
    async def on_inbound(body: InboundMessage) -> None:
        # From the context, not a `msg: NatsMessage` argument: FastDepends resolves such an
        # argument in a worker thread, a thread hop per message.
        msg: NatsMessage = broker.context.get_local("message")
        channel = msg.raw_message.subject.rsplit(".", 1)[-1]
        outputs = await service.accept(body, channel)
        tag_message(outputs[0].payload["message_id"])
        await publish_all(broker, outputs)
