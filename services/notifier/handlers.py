"""Notifier's subscribers: a notify command in, accepted into the outbox (or refused at once);
a confirmation's outcome in, the answers held for it released or withdrawn; a confirmed
address taken back by staff, what is not yet sent to it withdrawn."""

from __future__ import annotations

from faststream.nats import NatsBroker

from shared.broker import publish_all, work_queue
from shared.contracts import (
    ChannelConfirmed,
    ChannelRevoked,
    ConfirmationDenied,
    ConfirmationExpired,
    NotificationDelivered,
    NotificationFailed,
    SendNotification,
)
from shared.settings import CarelineSettings
from shared.subjects import (
    CRM_CHANNEL_CONFIRMED,
    CRM_CHANNEL_REVOKED,
    CRM_CONFIRMATION_DENIED,
    CRM_CONFIRMATION_EXPIRED,
    NOTIFY_FAILED,
    NOTIFY_REQUEST,
    NOTIFY_SENT,
    STREAM_CRM,
    STREAM_NOTIFY,
)
from shared.telemetry import tag_message

from .holds import Resolution
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
        description="A notification was refused, withdrawn (a held answer whose confirmation "
        "was denied or expired) or could not be delivered, with the reason.",
    )

    @broker.subscriber(
        **work_queue(STREAM_NOTIFY, NOTIFY_REQUEST, "notifier", settings),
        title="notify.request:notifier",
    )
    async def on_request(body: SendNotification) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.accept(body))

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CHANNEL_CONFIRMED, "notifier-crm-channel-confirmed", settings),
        title=f"{CRM_CHANNEL_CONFIRMED}:notifier",
        description="Releases the answers held for the confirmation to the address it verified.",
    )
    async def on_confirmed(body: ChannelConfirmed) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.settle_confirmation(Resolution.confirmed(body)))

    @broker.subscriber(
        **work_queue(
            STREAM_CRM, CRM_CONFIRMATION_DENIED, "notifier-crm-confirmation-denied", settings
        ),
        title=f"{CRM_CONFIRMATION_DENIED}:notifier",
        description="Withdraws the answers held for the confirmation.",
    )
    async def on_denied(body: ConfirmationDenied) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.settle_confirmation(Resolution.denied(body)))

    @broker.subscriber(
        **work_queue(
            STREAM_CRM, CRM_CONFIRMATION_EXPIRED, "notifier-crm-confirmation-expired", settings
        ),
        title=f"{CRM_CONFIRMATION_EXPIRED}:notifier",
        description="Withdraws the answers held for the confirmation.",
    )
    async def on_expired(body: ConfirmationExpired) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.settle_confirmation(Resolution.expired(body)))

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CHANNEL_REVOKED, "notifier-crm-channel-revoked", settings),
        title=f"{CRM_CHANNEL_REVOKED}:notifier",
        description="Withdraws account content not yet sent to the address staff took back.",
    )
    async def on_revoked(body: ChannelRevoked) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.revoke_channel(Resolution.revoked(body)))
