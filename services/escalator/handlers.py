"""Escalator's subscribers: verified messages in (JetStream work queue), staff commands in
(core NATS request-reply); escalation events and notify commands out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from pydantic import ValidationError

from shared.broker import publish_all, work_queue
from shared.contracts import (
    ChannelConfirmed,
    ChannelRevoked,
    ConfirmationDenied,
    ConfirmationExpired,
    EscalationActed,
    EscalationChanged,
    EscalationCommand,
    EscalationCommandResult,
    IdentityVerified,
    SendNotification,
)
from shared.errors import validation_problems
from shared.settings import CarelineSettings
from shared.subjects import (
    CRM_CHANNEL_CONFIRMED,
    CRM_CHANNEL_REVOKED,
    CRM_CONFIRMATION_DENIED,
    CRM_CONFIRMATION_EXPIRED,
    ESCALATION_ACKNOWLEDGED,
    ESCALATION_ESCALATED,
    ESCALATION_OPENED,
    ESCALATION_REASSIGNED,
    ESCALATION_REOPENED,
    ESCALATION_RESOLVED,
    ESCALATION_UPDATED,
    MESSAGE_VERIFIED,
    NOTIFY_REQUEST,
    STREAM_CRM,
    STREAM_MESSAGES,
)
from shared.telemetry import tag_message

from .confirmations import ConfirmationOutcomes
from .request import SUBJECT_OF
from .revocation import Revocation
from .revocations import ChannelRevocations
from .service import EscalatorService
from .settlement import Settlement
from .staff import StaffCommands

_EVENTS = (
    (ESCALATION_OPENED, EscalationChanged, "A new escalation: rule, reason, signals, roles."),
    (
        ESCALATION_UPDATED,
        EscalationChanged,
        "A message merged into an open escalation or lifted its hold, or staff took back "
        "the address it was written from or promised to.",
    ),
    (ESCALATION_REOPENED, EscalationChanged, "A message after resolution reopened it."),
    (ESCALATION_ACKNOWLEDGED, EscalationActed, "A notified person acknowledged it."),
    (ESCALATION_RESOLVED, EscalationActed, "A notified person resolved it, with a note."),
    (ESCALATION_REASSIGNED, EscalationActed, "Handed to another role, notified anew."),
    (ESCALATION_ESCALATED, EscalationActed, "A deadline passed: the next level was notified."),
)


def register(
    broker: NatsBroker,
    service: EscalatorService,
    lifecycle: StaffCommands,
    outcomes: ConfirmationOutcomes,
    revocations: ChannelRevocations,
    settings: CarelineSettings,
) -> None:
    for subject, schema, description in _EVENTS:
        broker.publisher(subject, schema=schema, title=subject, description=description)
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

    # What a probable sender's confirmation came to: the holders of the message's
    # escalations are told (seed 000: only they can answer the question itself).
    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CHANNEL_CONFIRMED, "escalator-channel-confirmed", settings),
        title=f"{CRM_CHANNEL_CONFIRMED}:escalator",
        description="The sender is the client: its escalations' holders answer it there.",
    )
    async def on_confirmed(body: ChannelConfirmed) -> None:
        tag_message(body.message_id)
        await outcomes.settle(Settlement.confirmed(body))

    @broker.subscriber(
        **work_queue(
            STREAM_CRM, CRM_CONFIRMATION_DENIED, "escalator-confirmation-denied", settings
        ),
        title=f"{CRM_CONFIRMATION_DENIED}:escalator",
        description="The registered contact disowned the request: its holders are warned.",
    )
    async def on_denied(body: ConfirmationDenied) -> None:
        tag_message(body.message_id)
        await outcomes.settle(Settlement.denied(body))

    @broker.subscriber(
        **work_queue(
            STREAM_CRM, CRM_CONFIRMATION_EXPIRED, "escalator-confirmation-expired", settings
        ),
        title=f"{CRM_CONFIRMATION_EXPIRED}:escalator",
        description="Nobody confirmed in time: its holders reach the client themselves.",
    )
    async def on_expired(body: ConfirmationExpired) -> None:
        tag_message(body.message_id)
        await outcomes.settle(Settlement.expired(body))

    # Staff took a confirmed address back: the cases it touched stop treating it as the
    # client's, and their holders hear it (revocations.py).
    @broker.subscriber(
        **work_queue(STREAM_CRM, CRM_CHANNEL_REVOKED, "escalator-channel-revoked", settings),
        title=f"{CRM_CHANNEL_REVOKED}:escalator",
        description="The address is not the client's after all: its cases' holders are "
        "alerted, a promise moved there goes back to the registered contact.",
    )
    async def on_revoked(body: ChannelRevoked) -> None:
        tag_message(body.message_id)
        await revocations.revoke(Revocation.of(body))

    # Staff commands: request-reply over core NATS (outside every stream), shared by the
    # replicas. An unreadable request is answered `invalid`, never left to time out.
    async def run(model: type[EscalationCommand], body: dict[str, Any]) -> EscalationCommandResult:
        try:
            command = model.model_validate(body)
        except ValidationError as exc:
            detail = "; ".join(validation_problems(exc, whole="request"))
            return EscalationCommandResult(outcome="invalid", detail=detail)
        return await lifecycle.command(command)

    for model, subject in SUBJECT_OF.items():
        _answer(broker, model, subject, run)


def _answer(
    broker: NatsBroker,
    model: type[EscalationCommand],
    subject: str,
    run: Callable[[type[EscalationCommand], dict[str, Any]], Awaitable[EscalationCommandResult]],
) -> None:
    """One staff command's subscriber: the request's model, on the subject the CLI and the
    ack links send it to (request.SUBJECT_OF, the one table of both)."""

    @broker.subscriber(
        subject,
        queue="escalator",
        title=f"{subject}:escalator",
        description=f"{model.__name__} in, EscalationCommandResult back.",
    )
    async def on_command(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(model, body)
