"""What a probable sender's confirmation came to, as the escalations of its message take it.
Pure: confirmations.py applies it in a transaction.

The outcome as the verifier announced it (`Settlement`), the identity an escalation shows
after it, whether it closes the escalation (a confirmed identity confirmation has done its
work), and the notices its holders get (the outcome first; not the conditions and the
confirmation playbook it settles).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    SendNotification,
)

from .condition_facts import identity_settled_fact
from .digest import staff_digests
from .history import CONFIRMATION_KIND
from .hold_notices import notices_to_holders
from .lifecycle import Escalation
from .staff_language import StaffLanguages

Outcome = Literal["confirmed", "denied", "expired"]

# The sender's identity as the escalation shows it from now on: confirmed by the client,
# or claimed and disowned by it; an expired request leaves it probable.
IDENTITY_AFTER: dict[str, str] = {"confirmed": "verified", "denied": "suspicious"}
# As sure as the verifier is of a verified channel on file (its weight), and of an address
# the client disowned (its `denied_before` weight): what staff read beside the identity.
CONFIDENCE_AFTER: dict[str, float] = {"confirmed": 0.95, "denied": 0.05}
# The evidence the outcome adds, first in the list; the outcome event names no contact (the
# verifier's own `denied_before` of a later message does), so only the customer is named.
EVIDENCE_AFTER: dict[str, str] = {
    "confirmed": "confirmed_by_contact",
    "denied": "disowned_by_contact",
}
# Who settled it, as the timeline and the resolution name the actor: the verifier's
# confirmation loop.
VERIFIER = {"role": "verifier", "address": "verifier"}


@dataclass(frozen=True)
class Settlement:
    """One confirmation's outcome, as the verifier announced it."""

    event_id: uuid.UUID
    confirmation_id: uuid.UUID
    message_id: uuid.UUID
    correlation_id: str
    outcome: Outcome
    at: datetime
    channel: ChannelRef | None
    via: str | None = None

    @classmethod
    def confirmed(cls, event: ChannelConfirmed) -> Settlement:
        return cls._of(event, "confirmed", event.confirmed_at, event.channel, event.via)

    @classmethod
    def denied(cls, event: ConfirmationDenied) -> Settlement:
        # Ids only on the bus: the holders' first notice has the sender.
        return cls._of(event, "denied", event.denied_at)

    @classmethod
    def expired(cls, event: ConfirmationExpired) -> Settlement:
        return cls._of(event, "expired", event.expired_at)

    @classmethod
    def _of(
        cls,
        event: ChannelConfirmed | ConfirmationDenied | ConfirmationExpired,
        outcome: Outcome,
        at: datetime,
        channel: ChannelRef | None = None,
        via: str | None = None,
    ) -> Settlement:
        ids = (event.event_id, event.confirmation_id, event.message_id, event.correlation_id)
        return cls(*ids, outcome, at, channel, via)


def as_settled(e: Escalation, s: Settlement) -> Escalation:
    """The escalation with the sender's identity as the outcome left it: its status, the
    confidence that goes with it (not the probable sender's 0.80 beside "suspicious") and
    the outcome first among its evidence (who settled it, and when); and its promise owed
    where the outcome leaves it (`promise_owed`)."""
    identity = IDENTITY_AFTER.get(s.outcome)
    if identity is None or e.briefing.get("identity_status") != "probable":
        return e  # shown as the escalation's first message found it: not this sender's
    item = _outcome_item(e, s)
    # The details for readers of the words (webhooks), the items for the notifier's phrases
    # (a briefing of before has details only: they are said as they are).
    details = e.briefing.get("identity_evidence") or []
    items = e.briefing.get("identity_evidence_items") or details
    briefing = {
        **e.briefing,
        "identity_status": identity,
        "identity_confidence": CONFIDENCE_AFTER[s.outcome],
        "identity_evidence": [item["detail"], *details],
        "identity_evidence_items": [item, *items],
    }
    return replace(e, briefing=briefing, promise_to=promise_owed(e.promise_to, s))


def _outcome_item(e: Escalation, s: Settlement) -> dict[str, Any]:
    """The evidence the outcome adds: who settled it (the customer's contact), and when."""
    return {
        "kind": EVIDENCE_AFTER[s.outcome],
        "detail": f"the registered contact {s.outcome} this sender on {s.at:%Y-%m-%d}",
        "values": {
            "customer_id": e.briefing.get("customer_id"),
            "customer_name": e.briefing.get("customer"),
            f"{s.outcome}_at": f"{s.at:%Y-%m-%d}",
        },
    }


def settled_sender(e: Escalation, s: Settlement) -> dict[str, Any] | None:
    """What the outcome's notice says of who is speaking in an escalation another message
    opened (`as_settled` leaves its identity as that message found it): the settled
    sender's identity as the outcome left it (its status, confidence and the outcome as
    evidence) and, confirmed, its address. None for the escalation the sender's message
    opened (its briefing is the sender's) and for an expiry (nothing settled).

    Seed 000: a case opened by an address the client disowned showed «подозрительная» to
    billing in the notice saying the client's other address was confirmed, the opening
    sender's identity beside the news of another."""
    identity = IDENTITY_AFTER.get(s.outcome)
    if identity is None or e.message_id == s.message_id:
        return None
    item = _outcome_item(e, s)
    sender: dict[str, str | None] | None = None
    if s.channel is not None and s.channel.kind in ("email", "phone", "handle"):
        sender = {"email": None, "phone": None, "handle": None, "display_name": None}
        sender[s.channel.kind] = s.channel.address
    return {
        "identity_status": identity,
        "identity_confidence": CONFIDENCE_AFTER[s.outcome],
        "identity_evidence": [item["detail"]],
        "identity_evidence_items": [item],
        "sender": sender,
        "subject": "",
    }


def promise_owed(promise_to: dict[str, Any] | None, s: Settlement) -> dict[str, Any] | None:
    """Where a promise made while this sender waited is owned up to once the confirmation
    settled (for an escalation its waiting sender opened: `as_settled`).

    The promising answer went to the registered contact at once, naming the sender, and the
    same answer with the same date was held for the sender. Confirmed: the held answer went
    to the sender's address, the client's verified channel now and the one that asked, so
    a delay is told there (in the same language, on the same clock, with the same names).
    Denied: the registered contact disowned the request the promise answered, and was told
    we answer no stranger's request; nobody is told of a delay automatically (`recipient`
    None; the promise stays for the holders and the climb). An expiry changes nothing: the
    registered contact had the promise and disowned nothing.

    A confirmed move keeps where the promise was (`moved_from`): should staff take the
    address back (`careline crm revoke`), the promise goes back there (revocation.py)."""
    if promise_to is None:
        return None
    if s.outcome == "denied":
        return {**promise_to, "recipient": None}
    if s.outcome == "confirmed" and s.channel is not None and s.channel.kind == "email":
        moved_from = promise_to.get("moved_from") or promise_to.get("recipient")
        return {
            **promise_to,
            "recipient": s.channel.address,
            "moved_from": moved_from,
            # The confirmation decided the address is the client's (a revoke of it: revocation.py).
            "identity_decided_at": s.at.isoformat(),
        }
    return promise_to


def closes(e: Escalation, s: Settlement) -> bool:
    """Whether the outcome ends the escalation: an identity confirmation whose sender is
    confirmed has done its work (a denial or an expiry leaves the staff work to do)."""
    return e.kind == CONFIRMATION_KIND and e.status == "open" and s.outcome == "confirmed"


def settlement_notices(
    escalations: list[Escalation], s: Settlement, languages: StaffLanguages, now: datetime
) -> list[SendNotification]:
    """Each holder of the open ones hears what the confirmation came to, once per
    confirmation: one notice per person, a digest for one holding several (the account
    manager holds the identity escalation and most others)."""
    address = s.channel.address if s.channel else None
    fact = identity_settled_fact(s.outcome, address, s.via)
    notes = [
        _as_told(note, e, closes(e, s))
        for e in escalations
        if e.status == "open"
        for note in notices_to_holders(
            as_settled(e, s),
            f"identity_{s.outcome}",
            fact,
            ("identity-settled", s.confirmation_id),
            (s.message_id, s.correlation_id),
            languages,
            now,
            settled_sender(e, s),
        )
    ]
    return staff_digests(notes)


def _as_told(note: SendNotification, e: Escalation, closed: bool) -> SendNotification:
    """The outcome is the news, and what the rule saw before it is not: its conditions
    ("identity: probable") would contradict it, and the confirmation rule's playbook ("a
    request went to the registered address: reach out") is done with. One it resolves asks
    nobody to acknowledge it."""
    data: dict[str, Any] = {**note.data, "condition_items": []}
    if closed:
        data["resolved"] = True
    if e.kind == CONFIRMATION_KIND:
        data |= {"playbook": "", "playbook_client": "", "playbooks": {}}
    return note.model_copy(update={"data": data})
