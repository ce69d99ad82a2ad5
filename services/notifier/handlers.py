"""Notifier's subscriber: a notify command in, accepted into the outbox (or refused at once)."""

from __future__ import annotations

from faststream.nats import NatsBroker

from shared.broker import publish_all, work_queue
from shared.contracts import NotificationDelivered, NotificationFailed, SendNotification
from shared.settings import CarelineSettings
from shared.subjects import NOTIFY_FAILED, NOTIFY_REQUEST, NOTIFY_SENT, STREAM_NOTIFY
from shared.telemetry import tag_message

from .service import NotifierService


def register(broker: NatsBroker, service: NotifierService, settings: CarelineSettings) -> None:
    broker.publisher(
        NOTIFY_SENT,
        schema=NotificationDelivered,
        title=NOTIFY_SENT,
        description="A notification was delivered (once; a re-send carries the same key).",
    )
    broker.publisher(
        NOTIFY_FAILED,
        schema=NotificationFailed,
        title=NOTIFY_FAILED,
        description="A notification was refused or could not be delivered, with the reason.",
    )

    @broker.subscriber(
        **work_queue(STREAM_NOTIFY, NOTIFY_REQUEST, "notifier", settings),
        title="notify.request:notifier",
    )
    async def on_request(body: SendNotification) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.accept(body))
