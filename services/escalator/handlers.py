"""Escalator's subscribers: verified messages in (JetStream work queue), staff commands in
(core NATS request-reply); escalation events and notify commands out."""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker
from pydantic import ValidationError

from shared.broker import publish_all, work_queue
from shared.contracts import (
    AcknowledgeEscalation,
    EscalationActed,
    EscalationChanged,
    EscalationCommand,
    EscalationCommandResult,
    IdentityVerified,
    ReassignEscalation,
    RecordClientReply,
    RecordWarning,
    ResolveEscalation,
    SendNotification,
)
from shared.errors import validation_problems
from shared.settings import CarelineSettings
from shared.subjects import (
    ESCALATION_ACKNOWLEDGED,
    ESCALATION_CMD_ACKNOWLEDGE,
    ESCALATION_CMD_CLIENT_REPLY,
    ESCALATION_CMD_REASSIGN,
    ESCALATION_CMD_RESOLVE,
    ESCALATION_CMD_WARNED,
    ESCALATION_ESCALATED,
    ESCALATION_OPENED,
    ESCALATION_REASSIGNED,
    ESCALATION_REOPENED,
    ESCALATION_RESOLVED,
    ESCALATION_UPDATED,
    MESSAGE_VERIFIED,
    NOTIFY_REQUEST,
    STREAM_MESSAGES,
)
from shared.telemetry import tag_message

from .service import EscalatorService
from .staff import StaffCommands

_EVENTS = (
    (ESCALATION_OPENED, EscalationChanged, "A new escalation: rule, reason, signals, roles."),
    (
        ESCALATION_UPDATED,
        EscalationChanged,
        "A message merged into an open escalation, or lifted its hold.",
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

    # Staff commands: request-reply over core NATS (outside every stream), shared by the
    # replicas. An unreadable request is answered `invalid`, never left to time out.
    async def run(model: type[EscalationCommand], body: dict[str, Any]) -> EscalationCommandResult:
        try:
            command = model.model_validate(body)
        except ValidationError as exc:
            detail = "; ".join(validation_problems(exc, whole="request"))
            return EscalationCommandResult(outcome="invalid", detail=detail)
        return await lifecycle.command(command)

    @broker.subscriber(
        ESCALATION_CMD_ACKNOWLEDGE,
        queue="escalator",
        title=f"{ESCALATION_CMD_ACKNOWLEDGE}:escalator",
        description="AcknowledgeEscalation in, EscalationCommandResult back.",
    )
    async def on_acknowledge(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(AcknowledgeEscalation, body)

    @broker.subscriber(
        ESCALATION_CMD_RESOLVE,
        queue="escalator",
        title=f"{ESCALATION_CMD_RESOLVE}:escalator",
        description="ResolveEscalation in, EscalationCommandResult back.",
    )
    async def on_resolve(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(ResolveEscalation, body)

    @broker.subscriber(
        ESCALATION_CMD_REASSIGN,
        queue="escalator",
        title=f"{ESCALATION_CMD_REASSIGN}:escalator",
        description="ReassignEscalation in, EscalationCommandResult back.",
    )
    async def on_reassign(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(ReassignEscalation, body)

    @broker.subscriber(
        ESCALATION_CMD_CLIENT_REPLY,
        queue="escalator",
        title=f"{ESCALATION_CMD_CLIENT_REPLY}:escalator",
        description="RecordClientReply in, EscalationCommandResult back.",
    )
    async def on_client_reply(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(RecordClientReply, body)

    @broker.subscriber(
        ESCALATION_CMD_WARNED,
        queue="escalator",
        title=f"{ESCALATION_CMD_WARNED}:escalator",
        description="RecordWarning in, EscalationCommandResult back.",
    )
    async def on_warned(body: dict[str, Any]) -> EscalationCommandResult:
        return await run(RecordWarning, body)
