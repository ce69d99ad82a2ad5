"""What a denial on file says of a new message: the address it came from, or the customer it
names. Pure functions.

The registered contact answered "not us" to a request from some address (seed 000's loop,
the other way round): that address writing again is no client any more but a suspicious
sender, whatever else the message says or leaves out. "Ответьте же, счёт оплачен!" names
nobody and would be unknown, yet it is the impostor again: the identity carries the customer
whose contact disowned the address, so that its account manager hears of it, and the
client is not asked again (an impostor could otherwise make us mail the client at will).
Another address writing in the same client's name soon after stays probable, and is asked
about as before (the client may really have a new address), but whoever reads the identity
sees the denial beside it and how much less sure it makes us.

Staff taking a confirmation back (revoke.py) is a denial too, by them: its evidence says who
revoked it and when (`revoked_by_staff`, `revoked_recently`), never the contact whose reply
had confirmed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import Evidence, Identity, NamedCustomer

from .domain import CustomerFacts
from .settings import EvidenceWeights


@dataclass(frozen=True)
class Denial:
    """A confirmation the registered contact denied."""

    confirmation_id: uuid.UUID
    customer_id: str
    channel_kind: str
    match_key: str
    denied_at: datetime
    # The contact whose reply denied it, as the verifier identified that reply (and the
    # mirror's name of it); None when not on file.
    denied_by: str | None = None
    denied_by_name: str | None = None
    # Who of the staff took the confirmation back (`careline crm revoke`), when they did:
    # then no contact denied anything (the contact had confirmed it).
    revoked_by: str | None = None


def may_be_disowned(identity: Identity) -> bool:
    """Whether a denial of the sender's address could change `identity`: a registered
    (verified) channel cannot be denied, so what it decides stands; a sender suspicious
    already (a known address failing authentication) says so with its own reason."""
    return identity.status not in ("verified", "suspicious")


def denial_of_channel(
    identity: Identity, channel: tuple[str, str, str], denials: Sequence[Denial]
) -> Denial | None:
    """The denial (of `denials`, newest first) that disowns the very `channel` (kind,
    address, match key) the message came from: its own customer's if the identity names
    one, else the newest; None when none does or the identity stands as it is."""
    if not may_be_disowned(identity):
        return None
    kind, _, key = channel
    same = [d for d in denials if (d.channel_kind, d.match_key) == (kind, key)]
    if not same:
        return None
    own = identity.customer.id if identity.customer else None
    return next((d for d in same if d.customer_id == own), same[0])


def heed_denials(
    identity: Identity,
    disowned: Denial | None,
    denials: Sequence[Denial],
    weights: EvidenceWeights,
    facts: Mapping[str, CustomerFacts] | None = None,
) -> Identity:
    """The `identity` of a sender, given the recent denials of its channel and of the
    identity's customer (newest first), and `disowned`, the one of them that disowns the
    very channel it wrote from (`denial_of_channel`: the caller has it already, as it must
    know whose facts to read).

    `facts` are those of the customer that disowned the channel, when the identity does
    not name that customer already."""
    if disowned is not None:
        return _disowned(identity, disowned, weights, facts or {})
    customer = identity.customer
    if identity.status != "probable" or customer is None:
        return identity
    own = [d for d in denials if d.customer_id == customer.id]
    if not own:
        return identity
    latest = own[0]
    lowered = round(identity.confidence * (1 - weights.recent_denial), 4)
    said = (
        f"staff ({latest.revoked_by}) took back the confirmation of another "
        f"{latest.channel_kind} for customer {customer.id} on {latest.denied_at:%Y-%m-%d}"
        if latest.revoked_by
        else f"the registered contact{_by(latest)} of customer {customer.id} denied a request "
        f"from another {latest.channel_kind} on {latest.denied_at:%Y-%m-%d}"
    )
    evidence = _evidence(
        "revoked_recently" if latest.revoked_by else "denied_recently",
        f"{said} (confirmation {latest.confirmation_id})",
        lowered - identity.confidence,
        latest,
        customer.name,
    )
    return identity.model_copy(
        update={"confidence": lowered, "evidence": [*identity.evidence, evidence]}
    )


def _disowned(
    identity: Identity,
    denial: Denial,
    weights: EvidenceWeights,
    facts: Mapping[str, CustomerFacts],
) -> Identity:
    """Suspicious, in the name of the customer whose contact disowned the address."""
    update: dict[str, object] = {}
    customer = identity.customer
    if customer is None or customer.id != denial.customer_id:
        # Nobody named (a bare "answer me!"), another customer, several: the address is the
        # disowning customer's business, and its account manager is who must look.
        found = facts.get(denial.customer_id)
        update = {
            "customer": found.customer if found else None,
            "contact": None,
            "account_manager": found.account_manager if found else None,
            "authorized_channels": list(found.authorized_channels) if found else [],
        }
        if customer is not None:
            # One other customer named: the impostor uses its name, and its account manager
            # is warned (the escalator's impersonation.py); the disowner's handles the sender.
            named = NamedCustomer(customer=customer, account_manager=identity.account_manager)
            update["named_customer"] = named
        customer = found.customer if found else None
    detail = (
        f"staff ({denial.revoked_by}) took back the confirmation of this "
        f"{denial.channel_kind} for customer {denial.customer_id} on "
        f"{denial.denied_at:%Y-%m-%d}: not the client's"
        if denial.revoked_by
        else f"the registered contact{_by(denial)} of customer {denial.customer_id} denied "
        f"on {denial.denied_at:%Y-%m-%d} that this {denial.channel_kind} writes for them"
    )
    said = _evidence(
        # The escalator's word for a revoke too (revocation.EVIDENCE_REVOKED).
        "revoked_by_staff" if denial.revoked_by else "denied_before",
        f"{detail} (confirmation {denial.confirmation_id})",
        weights.denied_before - identity.confidence,
        denial,
        customer.name if customer else None,
    )
    # "Nothing matches the sender" is no longer so: the denial does.
    kept = [e for e in identity.evidence if e.kind != "no_match"]
    return identity.model_copy(
        update={
            **update,
            "status": "suspicious",
            "confidence": weights.denied_before,
            "disclosure": "none",
            "evidence": [*kept, said],
        }
    )


def _by(denial: Denial) -> str:
    return f" {denial.denied_by}" if denial.denied_by else ""


def _evidence(
    kind: str, detail: str, weight: float, denial: Denial, customer_name: str | None
) -> Evidence:
    values = {
        "customer_id": denial.customer_id,
        "channel": denial.channel_kind,
        "denied_at": f"{denial.denied_at:%Y-%m-%d}",
        "confirmation_id": str(denial.confirmation_id),
    }
    # Said to staff by name, as `domain.with_names` does (it ran before this); a name the
    # CRM lacks is left out and the notice says the id.
    if customer_name:
        values["customer_name"] = customer_name
    if denial.revoked_by:  # as the escalator's revoked_by_staff says it
        values |= {"by": denial.revoked_by, "revoked_at": values["denied_at"]}
    elif denial.denied_by:
        values["contact_id"] = denial.denied_by
        if denial.denied_by_name:
            values["contact_name"] = denial.denied_by_name
    return Evidence(
        kind=kind,
        detail=detail,
        weight=round(weight, 4),
        source="crm.confirmations",
        customer_id=denial.customer_id,
        values=values,
    )
