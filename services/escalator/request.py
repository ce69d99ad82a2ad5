"""Asking the escalator to act: one staff command over NATS request-reply (escalation.cmd.*).

The command subjects lie outside every stream, so the only answer is the escalator's. The
command id stays the same across retries, so a retry after a lost answer changes nothing.
"""

from __future__ import annotations

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from shared.broker import connect
from shared.contracts import (
    AcknowledgeEscalation,
    EscalationCommand,
    EscalationCommandResult,
    ReassignEscalation,
    RecordClientReply,
    RecordWarning,
    ResolveEscalation,
)
from shared.settings import CarelineSettings
from shared.subjects import (
    ESCALATION_CMD_ACKNOWLEDGE,
    ESCALATION_CMD_CLIENT_REPLY,
    ESCALATION_CMD_REASSIGN,
    ESCALATION_CMD_RESOLVE,
    ESCALATION_CMD_WARNED,
)

SUBJECT_OF: dict[type[EscalationCommand], str] = {
    AcknowledgeEscalation: ESCALATION_CMD_ACKNOWLEDGE,
    ResolveEscalation: ESCALATION_CMD_RESOLVE,
    ReassignEscalation: ESCALATION_CMD_REASSIGN,
    RecordClientReply: ESCALATION_CMD_CLIENT_REPLY,
    RecordWarning: ESCALATION_CMD_WARNED,
}


async def request_command(
    settings: CarelineSettings, command: EscalationCommand, timeout: float, attempts: int = 3
) -> EscalationCommandResult:
    nc = await connect(settings, patient=False)
    try:
        payload = command.model_dump_json().encode()
        for attempt in range(1, attempts + 1):
            try:
                reply = await nc.request(SUBJECT_OF[type(command)], payload, timeout=timeout)
            except (NatsTimeout, NoRespondersError) as exc:
                if attempt == attempts:
                    raise TimeoutError(
                        f"no escalator answered on {SUBJECT_OF[type(command)]}"
                    ) from exc
                continue
            return EscalationCommandResult.model_validate_json(reply.data)
        raise AssertionError("unreachable")
    finally:
        await nc.close()
