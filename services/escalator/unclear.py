"""The registered contact answered a confirmation request with neither yes nor no. Pure.

Seed 000 and invoice fraud: the verifier asked the client's registered contact whether an
address not on file writes for them; the contact wrote back «А кто это вообще? Мы вам
ничего не писали?», "Who is this person?", "Call me about this". The request stays pending
(the verifier confirms only a yes and denies only a no), so nothing settles it, and as a
plain follow-up the holders read "the client wrote again", or nothing at all (an identity
confirmation takes no follow-ups). The verifier puts `confirmation_unclear` evidence on the
reply's identity, one item per request so answered (services/verifier/replies.py); every
escalation a message of that sender was placed in hears it as such: who answered, about
which address, what they wrote, and to call them at the number on file.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts import CONFIRMATION_UNCLEAR, Identity, IdentityVerified, SendNotification

from .condition_facts import identity_unclear_fact
from .facts import excerpt
from .hold_notices import notices_to_holders
from .lifecycle import Escalation
from .notifications import about_message
from .staff_language import StaffLanguages


@dataclass(frozen=True)
class UnclearAnswer:
    """A confirmation request the reply answered without confirming or denying it."""

    confirmation_id: uuid.UUID
    address: str  # the address the request asked about ("" when the evidence lacks it)
    # "confirmed": a no after the request was confirmed (the confirmation stands: a person
    # checks), the verifier's `settled`
    settled: str | None = None


def unclear_answers(identity: Identity) -> list[UnclearAnswer]:
    """The requests the message answered unclearly, as its evidence says; only a verified
    channel's answer counts (the verifier reads replies from those only)."""
    if identity.status != "verified":
        return []
    found: dict[uuid.UUID, UnclearAnswer] = {}
    for e in identity.evidence:
        if e.kind != CONFIRMATION_UNCLEAR:
            continue
        try:
            confirmation_id = uuid.UUID(e.values.get("confirmation_id", ""))
        except ValueError:
            continue
        answer = UnclearAnswer(
            confirmation_id, e.values.get("address", ""), e.values.get("settled") or None
        )
        found.setdefault(confirmation_id, answer)
    return list(found.values())


def unclear_notices(
    e: Escalation,
    verified: IdentityVerified,
    answer: UnclearAnswer,
    facts: Mapping[str, Any],
    languages: StaffLanguages,
    now: datetime,
) -> list[SendNotification]:
    """A notice to each holder of `e`, about the reply (who wrote it, its evidence, the fact
    pack), saying it answered the request without settling it; once per reply and request."""
    message = verified.message
    # A reply with no text of its own (a forwarded request, an empty body) is quoted by its
    # subject, or said to hold none, not as «».
    said = excerpt(message.text) or excerpt(message.subject or "") or "…"
    fact = identity_unclear_fact(answer.address, said, answer.settled)
    return notices_to_holders(
        e,
        fact.kind,
        fact,
        ("identity-unclear", verified.message_id, answer.confirmation_id),
        (verified.message_id, verified.correlation_id),
        languages,
        now,
        # The rule's conditions were the opening message's: not this reply's.
        {**about_message(verified), "fact_pack": facts, "condition_items": []},
    )
