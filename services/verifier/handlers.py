"""Verifier's subscribers: messages to identities, CRM changes to the mirror, confirmations."""

from __future__ import annotations

from faststream.nats import NatsBroker

from shared.broker import publish_all, work_queue
from shared.contracts import (
    ChannelConfirmed,
    ChannelRevoked,
    ConfirmationDenied,
    ConfirmationExpired,
    ConfirmationOutcome,
    ConfirmChannel,
    ContactRemoved,
    ContactUpserted,
    CustomerRemoved,
    CustomerUpserted,
    IdentityVerified,
    MessageNormalized,
)
from shared.settings import CarelineSettings
from shared.subjects import (
    CRM_CHANNEL_CONFIRMED,
    CRM_CHANNEL_REVOKED,
    CRM_CONFIRM,
    CRM_CONFIRMATION_DENIED,
    CRM_CONFIRMATION_EXPIRED,
    CRM_CONTACT_REMOVED,
    CRM_CONTACT_UPSERTED,
    CRM_CUSTOMER_REMOVED,
    CRM_CUSTOMER_UPSERTED,
    MESSAGE_NORMALIZED,
    MESSAGE_VERIFIED,
    STREAM_CRM,
    STREAM_MESSAGES,
)
from shared.telemetry import tag_message

from .mirror import CrmBatch, apply_batch, remove_contact, remove_customer, upsert_customer
from .service import CrmSyncService, VerifierService


def register(
    broker: NatsBroker,
    service: VerifierService,
    sync: CrmSyncService,
    settings: CarelineSettings,
) -> None:
    broker.publisher(
        MESSAGE_VERIFIED,
        schema=IdentityVerified,
        title="message.verified",
        description="The message with the sender's identity, evidence and disclosure level.",
    )
    broker.publisher(
        CRM_CHANNEL_CONFIRMED,
        schema=ChannelConfirmed,
        title=CRM_CHANNEL_CONFIRMED,
        description="A probable sender's address confirmed through the registered channel: "
        "now a verified channel; replies held for the message may be released to it.",
    )
    broker.publisher(
        CRM_CONFIRMATION_DENIED,
        schema=ConfirmationDenied,
        title=CRM_CONFIRMATION_DENIED,
        description="The registered channel answered that the request was not theirs.",
    )
    broker.publisher(
        CRM_CHANNEL_REVOKED,
        schema=ChannelRevoked,
        title=CRM_CHANNEL_REVOKED,
        description="Staff took back an address confirmed for a customer (`careline crm "
        "revoke`, published by the command with the verifier's credentials): no channel of "
        "the client's any more.",
    )
    broker.publisher(
        CRM_CONFIRMATION_EXPIRED,
        schema=ConfirmationExpired,
        title=CRM_CONFIRMATION_EXPIRED,
        description="Nobody confirmed in time: the confirmation can no longer succeed, and "
        "replies held for it are withdrawn.",
    )

    @broker.subscriber(
        **work_queue(STREAM_MESSAGES, MESSAGE_NORMALIZED, "verifier", settings),
        title="message.normalized:verifier",
    )
    async def on_normalized(body: MessageNormalized) -> None:
        tag_message(body.message_id)
        await publish_all(broker, await service.verify(body))

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CUSTOMER_UPSERTED, "verifier-crm-customer-upserted", settings),
        title=f"{CRM_CUSTOMER_UPSERTED}:verifier",
    )
    async def on_customer_upserted(body: CustomerUpserted) -> None:
        await sync.apply(
            str(body.event_id),
            lambda s: upsert_customer(s, body.customer, body.account_manager, body.occurred_at),
        )

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CUSTOMER_REMOVED, "verifier-crm-customer-removed", settings),
        title=f"{CRM_CUSTOMER_REMOVED}:verifier",
    )
    async def on_customer_removed(body: CustomerRemoved) -> None:
        await sync.apply(
            str(body.event_id), lambda s: remove_customer(s, body.customer_id, body.occurred_at)
        )

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CONTACT_UPSERTED, "verifier-crm-contact-upserted", settings),
        title=f"{CRM_CONTACT_UPSERTED}:verifier",
    )
    async def on_contact_upserted(body: ContactUpserted) -> None:
        await sync.apply(
            str(body.event_id),
            lambda s: apply_batch(s, CrmBatch(contacts=[body.contact]), body.occurred_at),
        )

    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CONTACT_REMOVED, "verifier-crm-contact-removed", settings),
        title=f"{CRM_CONTACT_REMOVED}:verifier",
    )
    async def on_contact_removed(body: ContactRemoved) -> None:
        await sync.apply(
            str(body.event_id), lambda s: remove_contact(s, body.contact_id, body.occurred_at)
        )

    # Request-reply over core NATS, shared by the replicas. The subject lies inside the
    # CARELINE_CRM stream, so JetStream also answers the request with a PubAck: requesters
    # take the reply that is a ConfirmationOutcome (see docs/crm.md, `careline crm confirm`).
    @broker.subscriber(CRM_CONFIRM, queue="verifier", title=f"{CRM_CONFIRM}:verifier")
    async def on_confirm(body: ConfirmChannel) -> ConfirmationOutcome:
        outcome, outputs = await service.confirm_link(body.token)
        await publish_all(broker, outputs)
        return outcome
