"""What a denial on file says of a new message in the customer's name. Pure functions.

The registered contact answered "not us" to a request from some address (seed 000's loop,
the other way round): that address writing again in the client's name is no probable
client any more but a suspicious sender, and the client is not asked again (an impostor
could otherwise make us mail the client at will). Another address writing in the same
client's name soon after stays probable, and is asked about as before (the client may
really have a new address), but whoever reads the identity sees the denial beside it and
how much less sure it makes us.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import Evidence, Identity

from .settings import EvidenceWeights


@dataclass(frozen=True)
class Denial:
    """A confirmation the registered contact denied."""

    confirmation_id: uuid.UUID
    customer_id: str
    channel_kind: str
    match_key: str
    denied_at: datetime


def heed_denials(
    identity: Identity,
    channel: tuple[str, str, str],
    denials: Sequence[Denial],
    weights: EvidenceWeights,
) -> Identity:
    """The probable `identity` of a sender writing from `channel` (kind, address, match
    key), given the customer's recent denials (newest first)."""
    customer = identity.customer
    if identity.status != "probable" or customer is None:
        return identity
    own = [d for d in denials if d.customer_id == customer.id]
    if not own:
        return identity
    kind, _, key = channel
    same = next((d for d in own if (d.channel_kind, d.match_key) == (kind, key)), None)
    if same is not None:
        evidence = _evidence(
            "denied_before",
            f"the registered contact of customer {customer.id} denied on "
            f"{same.denied_at:%Y-%m-%d} that this {kind} writes for them "
            f"(confirmation {same.confirmation_id})",
            weights.denied_before - identity.confidence,
            same,
            customer.name,
        )
        return identity.model_copy(
            update={
                "status": "suspicious",
                "confidence": weights.denied_before,
                "evidence": [*identity.evidence, evidence],
            }
        )
    latest = own[0]
    lowered = round(identity.confidence * (1 - weights.recent_denial), 4)
    evidence = _evidence(
        "denied_recently",
        f"the registered contact of customer {customer.id} denied a request from another "
        f"{latest.channel_kind} on {latest.denied_at:%Y-%m-%d} "
        f"(confirmation {latest.confirmation_id})",
        lowered - identity.confidence,
        latest,
        customer.name,
    )
    return identity.model_copy(
        update={"confidence": lowered, "evidence": [*identity.evidence, evidence]}
    )


def _evidence(
    kind: str, detail: str, weight: float, denial: Denial, customer_name: str
) -> Evidence:
    return Evidence(
        kind=kind,
        detail=detail,
        weight=round(weight, 4),
        source="crm.confirmations",
        customer_id=denial.customer_id,
        values={
            "customer_id": denial.customer_id,
            # Said to staff by name (decide_identity's `with_names` ran before this).
            "customer_name": customer_name,
            "channel": denial.channel_kind,
            "denied_at": f"{denial.denied_at:%Y-%m-%d}",
            "confirmation_id": str(denial.confirmation_id),
        },
    )
