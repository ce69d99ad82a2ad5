"""Requesting `crm.confirm` over NATS request-reply, as `careline crm confirm` does.

`crm.confirm` lies outside every stream (shared/data/streams.yaml), so the only answer is
the verifier's outcome, never a JetStream PubAck.
"""

from __future__ import annotations

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from shared.broker import connect
from shared.contracts import ConfirmationOutcome, ConfirmChannel
from shared.settings import CarelineSettings
from shared.subjects import CRM_CONFIRM


async def request_outcome(
    settings: CarelineSettings, request: ConfirmChannel, timeout: float
) -> ConfirmationOutcome:
    nc = await connect(settings, patient=False)
    try:
        reply = await nc.request(CRM_CONFIRM, request.model_dump_json().encode(), timeout=timeout)
    except (NatsTimeout, NoRespondersError) as exc:
        raise TimeoutError(f"no verifier answered on {CRM_CONFIRM} within {timeout}s") from exc
    finally:
        await nc.close()
    return ConfirmationOutcome.model_validate_json(reply.data)
