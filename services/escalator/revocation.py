"""Staff took back a confirmed address: what the escalations it touched become. Pure.

Seed 000: the registered contact confirmed a stranger's address (a forger's, a former
employee's), and later a person found it is not the client's and ran `careline crm revoke`
(the verifier announces `crm.channel.revoked`). Until then Careline treated the address as
the client's: answers about the account went there, a promise to the client moved there
(settlement.promise_owed), and cases opened by its messages show it as verified. Now:
- the escalations the confirmation touched, and the open ones the address's messages were
  placed in, keep the revoke in their timeline (revocations.py writes it);
- an open one's promise goes back to the registered contact (`promise_back`), and its
  identity shows the sender as disowned by staff (`as_revoked`);
- each person holding one of the open ones hears it once (revocation_alerts.py).
The verifier announces one revoke per confirmation of the address; a case an earlier one
took the address back from is not taken back, told or alerted about again (`newly_revoked`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, get_args

from shared.contracts import (
    ChannelRevoked,
    EscalationChanged,
    IdentityStatus,
    StaffRef,
    TakenBack,
    derived_id,
)

from .hold_said import hold_said
from .lifecycle import Escalation

# As sure as the verifier is of an address the client disowned (settlement.CONFIDENCE_AFTER).
CONFIDENCE_REVOKED = 0.05
EVIDENCE_REVOKED = "revoked_by_staff"


@dataclass(frozen=True)
class Revocation:
    """One confirmation staff took back, as the verifier announced it."""

    event_id: uuid.UUID
    confirmation_id: uuid.UUID
    message_id: uuid.UUID  # the message that started the confirmation
    correlation_id: str
    customer_id: str
    kind: str  # the channel's: email, phone, handle
    address: str
    by: str
    at: datetime
    # The customer's account manager on file: told when no open case has a holder to be.
    account_manager: StaffRef | None = None
    # Every confirmation the same command took back (this one among them; empty from an
    # older verifier): the alerts name them all.
    taken_back: tuple[TakenBack, ...] = ()

    @classmethod
    def of(cls, event: ChannelRevoked) -> Revocation:
        return cls(
            event.event_id,
            event.confirmation_id,
            event.message_id,
            event.correlation_id,
            event.customer_id,
            event.channel.kind,
            event.channel.address,
            event.revoked_by,
            event.revoked_at,
            event.account_manager,
            tuple(event.taken_back),
        )

    @property
    def confirmations(self) -> list[dict[str, str | None]]:
        """The confirmations taken back, as an alert lists them: address, when confirmed (None:
        not said) and id; this one alone when the event lists none."""
        taken = self.taken_back or (
            TakenBack(confirmation_id=self.confirmation_id, address=self.address),
        )
        return [
            {
                "address": t.address,
                "confirmed_at": t.confirmed_at.isoformat() if t.confirmed_at else None,
                "confirmation_id": str(t.confirmation_id),
            }
            for t in taken
        ]

    @property
    def actor(self) -> dict[str, str]:
        """Who took it back, as the timeline names an actor."""
        return {"role": "staff", "address": self.by}


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and str(a).strip().casefold() == str(b).strip().casefold()


def registered_contacts(briefing: dict[str, Any], address: str) -> list[dict[str, str]]:
    """The client's verified channels the escalation's fact pack had (facts.fact_pack), but
    the address taken back: where the client can be reached for sure."""
    crm = (briefing.get("fact_pack") or {}).get("crm") or {}
    return [
        {"kind": str(c.get("kind", "")), "address": str(c.get("address", ""))}
        for c in crm.get("registered") or []
        if isinstance(c, dict) and c.get("address") and not same_address(c["address"], address)
    ]


def promise_back(e: Escalation, r: Revocation) -> dict[str, Any] | None:
    """Where the escalation's promise to the client is owned up to once the address is
    taken back: a promise kept at the address goes back to where it was before the
    confirmation moved it (`moved_from`), else to the client's registered email on file,
    else nowhere automatically (`recipient` None: the holders and the climb own it, as
    after a denial). Any other promise stays as it is."""
    to = e.promise_to
    if to is None or not same_address(to.get("recipient"), r.address):
        return to
    back = to.get("moved_from")
    if not back or same_address(back, r.address):
        emails = [c["address"] for c in registered_contacts(e.briefing, r.address)]
        emails = [a for a in emails if "@" in a]
        back = emails[0] if emails else None
    # Not the confirmation's time any more: the address it goes back to is the CRM's.
    kept = {k: v for k, v in to.items() if k not in ("moved_from", "identity_decided_at")}
    return {**kept, "recipient": back}


def wrote_from(e: Escalation, address: str) -> bool:
    """Whether the message that opened the escalation came from `address`."""
    sender = e.briefing.get("sender") or {}
    return isinstance(sender, dict) and any(
        same_address(sender.get(k), address) for k in ("email", "phone", "handle")
    )


def as_revoked(e: Escalation, r: Revocation) -> Escalation:
    """The escalation once the address is taken back: its promise where `promise_back`
    says, and, when its sender was that address, the identity its notices show from now
    on: disowned by staff, who and when first among the evidence (not "verified", nor the
    confirmation it had)."""
    changed = replace(e, promise_to=promise_back(e, r))
    if not wrote_from(e, r.address) or e.briefing.get("identity_status") == "suspicious":
        return changed
    detail = f"staff ({r.by}) took back the confirmation of this address on {r.at:%Y-%m-%d}"
    item = {
        "kind": EVIDENCE_REVOKED,
        "detail": detail,
        "values": {
            "by": r.by,
            "revoked_at": f"{r.at:%Y-%m-%d}",
            "customer_id": e.briefing.get("customer_id") or r.customer_id,
            "customer_name": e.briefing.get("customer"),
        },
    }
    details = e.briefing.get("identity_evidence") or []
    items = e.briefing.get("identity_evidence_items") or details
    briefing = {
        **e.briefing,
        "identity_status": "suspicious",
        "identity_confidence": CONFIDENCE_REVOKED,
        "identity_evidence": [detail, *details],
        "identity_evidence_items": [item, *items],
    }
    return replace(changed, briefing=briefing)


def newly_revoked(before: Escalation, after: Escalation, revoked_before: bool) -> bool:
    """Whether this revoke takes the address back from the escalation (`after`: as_revoked).
    The verifier announces one revoke per confirmation of the address (confirmed twice, taken
    back by one command; or taken back, confirmed again, taken back again), and each finds the
    address's open cases. One a revoke of the address already took it back from
    (`revoked_before`: and the address, confirmed anew, wrote nothing into it as the client
    since), and that nothing else gave back to the address since (a confirmation moving its
    promise there again, or showing its sender as the client's), is left as it is: no second
    timeline entry, update or alert. Its holders heard it once."""
    changed = after.promise_to != before.promise_to or after.briefing != before.briefing
    return not revoked_before or changed


def timeline_detail(before: Escalation, after: Escalation, r: Revocation) -> dict[str, Any]:
    """What the timeline's `identity_revoked` entry says: which confirmation, which address,
    who and when; where a delay is told from now on, when the promise moved."""
    detail: dict[str, Any] = {
        "confirmation_id": str(r.confirmation_id),
        "address": r.address,
        "by": r.by,
        "at": r.at.isoformat(),
    }
    if after.promise_to != before.promise_to:
        detail["promise_to"] = (after.promise_to or {}).get("recipient")
    return detail


def revoked_update(
    before: Escalation, after: Escalation, r: Revocation, team_language: str, now: datetime
) -> EscalationChanged:
    """`escalation.updated` (change `identity_revoked`) of an open escalation the revoke took
    the address back from: whoever watches the escalations (a manager's view) learns its
    sender shows as disowned and where its promise is told now, as the timeline records it.
    Ids only in the reason; once per escalation and confirmation (a redelivery publishes the
    same id, which JetStream takes once)."""
    status = after.briefing.get("identity_status")
    moved = after.promise_to != before.promise_to
    return EscalationChanged(
        event_id=derived_id("escalation-identity-revoked", after.id, r.confirmation_id),
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        occurred_at=now,
        escalation_id=after.id,
        change="identity_revoked",
        kind=after.kind,
        severity=after.severity,  # type: ignore[arg-type]
        rule=str(after.briefing.get("rule") or ""),
        reason=f"staff ({r.by}) took back confirmation {r.confirmation_id}: the address it "
        "confirmed is not the client's"
        + ("; the promise to the client moved off it" if moved else ""),
        customer_id=after.briefing.get("customer_id") or r.customer_id,
        identity_status=status if status in get_args(IdentityStatus) else "unknown",
        signals=[],
        roles=[],
        ack_deadline=after.ack_deadline,
        hold=hold_said(after.hold, team_language),
        client_reply_by=after.client_reply_by,
    )
