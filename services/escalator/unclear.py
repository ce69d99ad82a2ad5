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

A no after a yes («Это не мы» once the address was confirmed) whose sender has no open case
would tell nobody, while the address goes on as the client's verified channel: an
`identity_alert` goes to the client's account manager instead, else to the head of support
(`late_denial_alert`), with the request's code and what to do. A manager the client's
threats spare (seed 003) is not asked to call the client: whoever stands in for them is, and
reads why it is them and in which case the client threatened the manager (passed_over.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts import (
    CONFIRMATION_UNCLEAR,
    Identity,
    IdentityVerified,
    NotificationKind,
    SendNotification,
    StaffRef,
)

from .condition_facts import identity_unclear_fact
from .facts import excerpt
from .hold_notices import notices_to_holders
from .lifecycle import DEPUTY, Escalation
from .notifications import about_message, account_manager_stand_in, stands_in_for
from .passed_over import Sparing, staff_passed_over
from .policy import Policy
from .staff_language import StaffLanguages, on_their_clock
from .staff_notice import staff_notice

# A staff notice about who is speaking that no escalation holds (services/notifier/templates).
ALERT_KIND: NotificationKind = "identity_alert"


@dataclass(frozen=True)
class UnclearAnswer:
    """A confirmation request the reply answered without confirming or denying it."""

    confirmation_id: uuid.UUID
    address: str  # the address the request asked about ("" when the evidence lacks it)
    # "confirmed": a no after the request was confirmed (the confirmation stands: a person
    # checks), the verifier's `settled`
    settled: str | None = None
    code: str = ""  # the request's code, said for a settled one ("" when not said)


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
            confirmation_id,
            e.values.get("address", ""),
            e.values.get("settled") or None,
            e.values.get("code", ""),
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


def alert_reader(policy: Policy, manager: StaffRef | None) -> tuple[str, str] | None:
    """Who reads a staff alert no case holds, as (role, address): the client's account
    manager on file, else the head of support (no case means no acknowledgement and no
    climb: the one who answers for the whole queue), else whoever of the account manager's
    chain has an address (its stand-in elsewhere)."""
    if manager is not None:
        return "account_manager", manager.email
    head = policy.address("head_of_support")
    if head:
        return "head_of_support", head
    return account_manager_stand_in(policy, [])


def unheld_reader(
    policy: Policy,
    manager: StaffRef | None,
    spared: Collection[str] = (),
    sparings: Mapping[str, Sparing] | None = None,
) -> tuple[str, str, dict[str, Any]] | None:
    """Who reads a staff alert no case holds (role, address) and what it says of why them
    (`stand_in_for`, `passed_over`): `alert_reader`, unless the client's threats spare the
    account manager (`spared`, staff ids): then whoever stands in for them in their cases
    (the CRM's deputy, else the next of the chain), told in which case the client threatened
    them (`sparings`: the case whose hold, or whose threat, spares each). With nobody to
    stand in, the manager (it must reach someone)."""
    if manager is not None and manager.id in spared:
        stand_in = account_manager_stand_in(policy, [], manager, spared)
        if stand_in is not None:
            role, address = stand_in
            deputy = manager.deputy
            staff = [("account_manager", manager.id)]
            if deputy is not None and role != DEPUTY and deputy.id in spared:
                staff.append((DEPUTY, deputy.id))
            said = {
                "stand_in_for": stands_in_for(role, manager, spared),
                "passed_over": staff_passed_over(staff, sparings or {}),
            }
            return role, address, said
    reader = alert_reader(policy, manager)
    if reader is None:
        return None
    role, address = reader
    stand_in_for = "account_manager" if role != "account_manager" else None
    return role, address, {"stand_in_for": stand_in_for, "passed_over": []}


def late_denial_alert(
    policy: Policy,
    verified: IdentityVerified,
    answer: UnclearAnswer,
    languages: StaffLanguages,
    now: datetime,
    spared: Collection[str] = (),
    sparings: Mapping[str, Sparing] | None = None,
) -> SendNotification | None:
    """The registered contact said no after the address was confirmed, and no open case of
    the sender heard it: an `identity_alert` to `unheld_reader` (the account manager, or who
    stands in for one nobody knows or the client's threats spare: `spared`, `sparings`), in
    their language, with the request's code and id, what they wrote, and what to do. None
    when the policy names nobody to read it. Once per reply and request (a redelivery makes
    the same ids)."""
    reader = unheld_reader(policy, verified.identity.account_manager, spared, sparings)
    if reader is None:
        return None
    role, address, why = reader
    identity, message = verified.identity, verified.message
    language = languages.of(address)
    answered_by = message.sender.email or message.sender.phone or message.sender.handle
    data = {
        "customer": identity.customer.name if identity.customer else None,
        "customer_id": identity.customer.id if identity.customer else None,
        "address": answer.address,
        "confirmation_id": str(answer.confirmation_id),
        "confirmation_code": answer.code or None,
        "answered_by": answered_by,
        "said": excerpt(message.text) or excerpt(message.subject or "") or "…",
        "subject": message.subject or "",
        "received_at": message.received_at.isoformat(),
        "team_timezone": policy.team_timezone,
        **why,
        **on_their_clock({}, languages.zone_of(address)),
    }
    once = ("identity-alert", verified.message_id, answer.confirmation_id, role, address)
    return staff_notice(
        ALERT_KIND,
        role,
        address,
        language,
        data,
        once,
        message_id=verified.message_id,
        correlation_id=verified.correlation_id,
        occurred_at=now,
    )
