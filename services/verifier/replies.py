"""What a registered contact's reply to a confirmation request said, when it was neither yes
nor no, as the reply's identity carries it. Pure.

«А кто это вообще? Мы вам ничего не писали?», "Who is this person?", "Call me about this":
the request stays pending, but the people holding the sender's cases must not read it as
"the client wrote again". The reply's identity carries `confirmation_unclear` evidence for
each request it answered so (its id, the address asked about), and the escalator tells
those cases' holders that the registered contact neither confirmed nor denied, what they
wrote, and to call them at the number on file (services/escalator/unclear.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.contracts import CONFIRMATION_UNCLEAR, Evidence, Identity


@dataclass(frozen=True)
class UnclearAnswer:
    """A pending request the reply answered without confirming or denying it."""

    confirmation_id: uuid.UUID
    customer_id: str
    channel_kind: str
    channel_address: str
    # "confirmed": the request was confirmed before, and this reply says it was not them
    # (the confirmation stands until a person checks; the holders are told to).
    settled: str | None = None
    # The request's code, said to staff for a settled one (spent: no yes can use it again),
    # so whoever calls the client can name the mail it answered.
    code: str | None = None


def with_unclear_answers(identity: Identity, answers: list[UnclearAnswer]) -> Identity:
    """The reply's `identity` with a `confirmation_unclear` item per request it left pending.
    Weight 0: it says nothing of who wrote the reply (a verified channel), only of the
    request. The address asked about is a value for the staff notice, never in the detail
    (the detail, like every evidence detail, names ids: decisions keep it for good)."""
    if not answers:
        return identity
    customer = identity.customer
    items = []
    for a in answers:
        values = {
            "confirmation_id": str(a.confirmation_id),
            "customer_id": a.customer_id,
            "channel": a.channel_kind,
            "address": a.channel_address,
        }
        if customer is not None and customer.id == a.customer_id and customer.name:
            values["customer_name"] = customer.name
        said = "without confirming or denying it: still pending"
        if a.settled:
            values["settled"] = a.settled
            if a.code:
                values["code"] = a.code
            said = f"with a no, after it was {a.settled}: it stands until a person checks"
        items.append(
            Evidence(
                kind=CONFIRMATION_UNCLEAR,
                detail=f"the registered contact answered confirmation {a.confirmation_id} of "
                f"customer {a.customer_id} {said}",
                weight=0.0,
                source="crm.confirmations",
                customer_id=a.customer_id,
                values=values,
            )
        )
    return identity.model_copy(update={"evidence": [*identity.evidence, *items]})
