"""The fact pack: what a person needs to act on an escalation without digging. Pure.

Built when a message opens, joins or reopens an escalation; stored on it (`facts`) and sent
in every staff notification (legal reads it to assess the risk). It holds the client's
recent messages (excerpts, ids, times, channels, senders), the subject's previous escalations with
their outcomes, the evidence spans of the signals, the identity and its evidence, the
marks the policy recorded (warnings, flags), and the CRM facts that came with the identity
(tier, account manager, the contracts with their terms, and the contract services the
message names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from shared.contracts import ContractTerms, IdentityVerified, Signal, StaffRef

from .guessed import guessed_names
from .history import History, Hold, Mark, SeenMessage
from .privacy import mask_card_numbers
from .terms import named_services

EXCERPT_CHARS = 280
RECENT_MESSAGES = 5
PREVIOUS_ESCALATIONS = 5


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a message, flattened, for the history staff are shown (card numbers
    masked: see privacy.py)."""
    flat = mask_card_numbers(re.sub(r"\s+", " ", text).strip())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def pack_of_case(facts: dict[str, Any], escalation_id: object) -> dict[str, Any]:
    """The fact pack as a notice about an open escalation tells it: the subject's other
    escalations, not the case itself (it is no history of its own)."""
    previous = facts.get("previous_escalations", [])
    return {**facts, "previous_escalations": [e for e in previous if e["id"] != str(escalation_id)]}


def seen_message(
    verified: IdentityVerified, signals: list[Signal], markers: list[str], marks: list[Mark]
) -> SeenMessage:
    """What the history keeps of this message."""
    message = verified.message
    return SeenMessage(
        message_id=str(verified.message_id),
        at=message.received_at,
        channel=message.channel,
        sender=message.sender.email or message.sender.phone or message.sender.handle or "",
        excerpt=excerpt(message.text),
        signals={s.name: s.score for s in signals},
        guessed=guessed_names(signals),
        markers=markers,
        marks=marks,
    )


def _staff_record(person: StaffRef) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        **({"language": person.language} if person.language else {}),
        **({"timezone": person.timezone} if person.timezone else {}),
    }


def fact_pack(
    verified: IdentityVerified, signals: tuple[Signal, ...], current: SeenMessage, history: History
) -> dict[str, Any]:
    identity = verified.identity
    customer, manager = identity.customer, identity.account_manager
    contracts = customer.contracts if customer else []
    recent = [current, *history.messages][:RECENT_MESSAGES]
    return {
        "recent_messages": [
            {
                "message_id": m.message_id,
                "at": m.at.isoformat(),
                "channel": m.channel,
                "sender": m.sender,
                "excerpt": m.excerpt,
                "signals": sorted(m.signals),
            }
            for m in recent
        ],
        "previous_escalations": [
            {
                "id": e.id,
                "kind": e.kind,
                "severity": e.severity,
                "status": e.status,
                "opened_at": e.opened_at.isoformat(),
                "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
                "outcome": e.resolution_note,
            }
            for e in history.escalations[:PREVIOUS_ESCALATIONS]
        ],
        "evidence": [
            {"signal": s.name, "text": e.text, "start": e.start, "end": e.end, "rule": e.rule}
            for s in signals
            for e in s.evidence
            if not e.rule.startswith("form.")
        ],
        "identity": {
            "status": identity.status,
            "confidence": identity.confidence,
            "contact": identity.contact.name if identity.contact else None,
            "evidence": [
                {"kind": e.kind, "detail": e.detail, "source": e.source} for e in identity.evidence
            ],
        },
        "marks": [
            {"kind": mark.kind, "name": mark.name, "at": m.at.isoformat()}
            for m in history.messages
            for mark in m.marks
        ][:RECENT_MESSAGES],
        "crm": {
            "customer": customer.name if customer else None,
            "customer_id": customer.id if customer else None,
            "tier": customer.tier if customer else None,
            # With the language the CRM says the manager reads, if it says one: their
            # notices are in it (staff_language).
            "account_manager": _staff_record(manager) if manager else None,
            # The CRM's deputy of the manager, when on file: who stands in for a threatened
            # manager, told later in their language too (staff_language.of_escalations), and
            # whom the case climbs to as the `deputy` role (lifecycle.deputy_on_file; the id
            # says whether a hold spares them).
            **(
                {"deputy": {"id": manager.deputy.id, **_staff_record(manager.deputy)}}
                if manager is not None and manager.deputy is not None
                else {}
            ),
            # Where the client can be reached for sure (seed 000: "contact the client itself
            # through the registered channel"): a playbook that says so is followed with them.
            "registered": [
                {"kind": c.kind, "address": c.address}
                for c in identity.authorized_channels
                if c.verified
            ],
            "contracts": [_contract(c, verified.message.received_at.date()) for c in contracts],
            # The documents the client names, as the CRM has them (seed 000: paid).
            "documents": [
                d.model_dump(mode="json", exclude_none=True)
                for d in (customer.documents if customer else [])
            ],
            "named_services": named_services(
                f"{verified.message.subject or ''}\n{verified.message.text}", contracts
            ),
        },
    }


def _contract(terms: ContractTerms, on: date) -> dict[str, Any]:
    """A contract as staff read it: what the CRM gave, and whether in force on the day."""
    view = terms.model_dump(mode="json", exclude_none=True)
    if not view["included"]:
        del view["included"]
    if terms.valid_from or terms.valid_until:
        view["in_force"] = (terms.valid_from or on) <= on <= (terms.valid_until or on)
    return view


def hold_record(
    rule_id: str,
    reason: dict[str, str],
    while_signals: list[str],
    verified: IdentityVerified,
    at: datetime,
    team_language: str,
    spares: list[str] | None = None,
    ends: Mapping[str, Any] | None = None,
    spared_names: list[str] | None = None,
) -> dict[str, Any]:
    """The hold as the escalation stores it (see history.Hold); `ends`: the rule's
    `calm_for`, `apology_lifts` and `spares_only`; `spared_names`: the names of `spares`."""
    return Hold(
        rule=rule_id,
        reason=reason,
        text=reason.get(team_language) or next(iter(reason.values()), ""),
        while_signals=while_signals,
        since=at,
        message_id=str(verified.message_id),
        spares=spares or [],
        spared_names=spared_names or [],
        **(ends or {}),
    ).model_dump(mode="json")


def hold_view(hold: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """What staff are shown of a hold, in `language` (the reasons in all the rule wrote:
    staff_language.hold_in says it in another reader's). A hold that only spares the staff
    its signals named (`spares_only`) is no pause: the notices say whom it spares (`spared`,
    by name) and over what (`over`: the client's advances or threats), not "a hold stands"."""
    if not hold:
        return None
    reason = hold.get("reason") or {}
    view = {
        "reason": reason.get(language) or next(iter(reason.values()), ""),
        "reasons": dict(reason),
        "since": hold.get("since"),
        "active": not hold.get("lifted_at"),
        "lifted_at": hold.get("lifted_at"),
        "lifted_by": hold.get("lifted_by"),
    }
    if hold.get("spares_only"):
        view |= {
            "spares_only": True,
            "spared": list(hold.get("spared_names") or []),
            "over": sparing_over(hold.get("while_signals") or []),
        }
    return view


def sparing_over(while_signals: Sequence[str]) -> str:
    """What a sparing hold keeps the named staff from: the client's advances (harassment),
    else the client's threats."""
    return "advances" if "harassment" in while_signals else "threats"
