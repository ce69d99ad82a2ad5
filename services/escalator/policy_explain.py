"""`careline policy explain`: which rules a message would fire, and what made them fire.

The same detection and `evaluate` the escalator runs on `message.verified`, on a message
given as JSON: an IdentityVerified (the identity it carries) or a bare MessageNormalized
(identity unknown unless one is given). The time is the moment given (`--at`, default now)
and the history is the one given: a `History` JSON file (`--history`), the subject's
history in the escalator's database (`--db`), or none (an empty history, said so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.contracts import Identity, IdentityVerified, MessageNormalized, Signal

from .detection import SecondOpinion, detect
from .digest import UNVERIFIED_SENDER, withheld_kinds
from .history import History, PastEscalation, calm_from, holds_to_lift
from .notifications import (
    CONFIRMATION,
    PANIC_ACK,
    STRANGER_KIND,
    WARNING,
    guessed_only,
    leaves_stranger_unanswered,
    stranger_reach,
)
from .policy import (
    Decision,
    Policy,
    Rule,
    Situation,
    admission_barred,
    evaluate,
    hold_stands,
    sender_silence,
)
from .policy_rules import Hold as RuleHold
from .team_calendar import describe_duration
from .threatened import threatened_staff, with_threatened

UNKNOWN = Identity(status="unknown", confidence=0.0)
# A moment past every hold's calm_for: which holds a calm message would lift in time.
_NEVER = datetime.max.replace(tzinfo=UTC)


class NotAMessage(ValueError):
    """The JSON is neither an IdentityVerified nor a MessageNormalized."""


@dataclass(frozen=True)
class Explanation:
    signals: list[Signal]
    identity: Identity
    decisions: list[Decision]
    at: datetime | None = None
    channel: str | None = None
    time: str | None = None  # the moment in the team's calendar, in words
    markers: tuple[str, ...] = ()
    history: History | None = None
    history_source: str = "none given: an empty history"
    lifted: tuple[str, ...] = ()  # holds this message would lift
    # Holds this calm message does not lift yet (their calm_for), with when one would.
    kept: tuple[str, ...] = ()
    under_hold: bool = False  # a hold stands or is placed: some client contacts are withheld
    legal_claim: bool = False  # the lawyers weigh a claim: no admission of fault goes
    # An unknown sender's explanation (policy stranger_explanation): "goes", why it does
    # not reach the sender (notifications.stranger_reach), or "off" in the policy.
    stranger: str = "off"
    # Invoice fraud from a sender not verified (policy no_reply_to_unverified_while):
    # nothing goes back to it, and the confirmation request names what it asked.
    silent_sender: bool = False
    asks: tuple[str, ...] = ()


def read_input(data: Any, identity: Identity | None = None) -> tuple[MessageNormalized, Identity]:
    """(message, identity) of an IdentityVerified or a MessageNormalized JSON document."""
    if not isinstance(data, dict):
        raise NotAMessage("expected a JSON object (IdentityVerified or MessageNormalized)")
    if "message" in data and "identity" in data:
        verified = IdentityVerified.model_validate(data)
        return verified.message, identity or verified.identity
    return MessageNormalized.model_validate(data), identity or UNKNOWN


def as_verified(message: MessageNormalized, identity: Identity) -> IdentityVerified:
    return IdentityVerified(
        event_id=message.event_id,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        occurred_at=message.occurred_at,
        message=message,
        identity=identity,
    )


def explain(
    policy: Policy,
    message: MessageNormalized,
    identity: Identity,
    at: datetime | None = None,
    history: History | None = None,
    history_source: str = "none given: an empty history",
    opinions: Mapping[str, SecondOpinion] | None = None,
) -> Explanation:
    signals = detect(message.text, language=message.language, opinions=opinions)
    text = f"{message.subject}\n{message.text}"
    situation = Situation(at, message.channel, text, history or History())
    sender = message.sender.email or message.sender.phone or message.sender.handle or ""
    lifted: list[PastEscalation] = []
    kept: tuple[str, ...] = ()
    if message.channel not in policy.history_only_channels:
        scores = {s.name: s.score for s in signals}
        lifted = holds_to_lift(
            situation.history, scores, sender=sender, at=at or message.received_at, text=text
        )
        # Calm, from whoever threatened, but too soon after the threats: said so.
        calm = holds_to_lift(situation.history, scores, sender=sender, at=_NEVER)
        kept = tuple(
            f"{e.kind} {e.id}: a message without the threats lifts it from "
            f"{calm_from(e.hold, situation.history):%Y-%m-%d %H:%M %Z}, "
            + ("or sooner one taking them back" if e.hold.apology_lifts else "not sooner")
            for e in calm
            if e not in lifted and e.hold is not None
        )
    decisions = evaluate(policy, signals, identity, situation)
    # A threat naming the account manager says so, as the escalator's decision does.
    people = threatened_staff(message.text, signals, identity.account_manager)
    decisions = [with_threatened(d, people) for d in decisions]
    silent, asks = sender_silence(policy, identity, situation.history, decisions, sender)
    return Explanation(
        signals,
        identity,
        decisions,
        at,
        message.channel,
        policy.calendar.describe(at) if at else None,
        tuple(policy.markers_in(text, signals)),
        history,
        history_source,
        tuple(f"{e.kind} {e.id}" for e in lifted),
        kept,
        hold_stands(situation.history, lifted, decisions),
        admission_barred(policy, situation.history, decisions),
        (stranger_reach(message) or "goes") if policy.stranger_explanation else "off",
        silent,
        tuple(asks),
    )


def _words(signal: Signal) -> str:
    words = [f"«{e.text}»" for e in signal.evidence]
    return ", ".join(dict.fromkeys(words)) or "-"


def render(explanation: Explanation) -> str:
    lines = []
    if explanation.channel:
        lines.append(f"channel: {explanation.channel}")
    if explanation.time:
        lines.append(f"time: {explanation.time}")
    lines.append(f"markers: {', '.join(explanation.markers) or 'none'}")
    lines.append("signals:")
    for s in explanation.signals or []:
        lines.append(f"  {s.name} {s.score:.2f}: {_words(s)}")
    if not explanation.signals:
        lines.append("  none")
    lines += _identity(explanation.identity)
    lines += _history(explanation)
    if not explanation.decisions:
        lines.append("rules matched: none (no escalation)")
        return "\n".join(lines)
    lines.append(f"rules matched: {len(explanation.decisions)}")
    for d in explanation.decisions:
        suspicious = explanation.identity.status == "suspicious"
        stranger = None
        if explanation.stranger != "off" and leaves_stranger_unanswered(
            d.rule, explanation.identity
        ):
            stranger = explanation.stranger
        lines += _decision(
            d,
            explanation.under_hold,
            explanation.legal_claim,
            suspicious,
            stranger,
            explanation.silent_sender,
            explanation.asks,
            _unreached(explanation),
        )
    return "\n".join(lines)


def _unreached(e: Explanation) -> str | None:
    """Why an unknown sender would not be answered at all (its From may be forged, or no
    reply reaches its channel); None when it would, or the sender is known."""
    if e.identity.status != "unknown" or e.stranger in ("off", "goes"):
        return None
    return e.stranger


def _identity(identity: Identity) -> list[str]:
    lines = ["identity:", f"  status {identity.status}, confidence {identity.confidence:.2f}"]
    if identity.customer:
        c = identity.customer
        lines.append(f"  customer {c.id} ({c.name}), tier {c.tier}")
        for contract in c.contracts:
            plan = f", plan {contract.plan}" if contract.plan else ""
            free = [i.service for i in contract.included if i.free]
            lines.append(
                f"  contract {contract.number} ({contract.status}{plan})"
                + (f"; free: {', '.join(free)}" if free else "")
            )
    if identity.account_manager:
        lines.append(f"  account manager {identity.account_manager.id}")
    for evidence in identity.evidence:
        lines.append(f"  evidence {evidence.kind}: {evidence.detail}")
    return lines


def _history(explanation: Explanation) -> list[str]:
    history = explanation.history or History()
    lines = [f"history ({explanation.history_source}):"]
    for m in history.messages:
        signals = ", ".join(f"{k} {v:.2f}" for k, v in m.signals.items()) or "no signals"
        marks = "".join(f"; {mark.kind} {mark.name}" for mark in m.marks)
        markers = f"; mentions {', '.join(m.markers)}" if m.markers else ""
        lines.append(f"  message {m.at:%Y-%m-%d %H:%M} {m.channel}: {signals}{markers}{marks}")
    for e in history.escalations:
        hold = f"; hold {'active' if e.hold.active else 'lifted'}" if e.hold else ""
        lines.append(f"  escalation {e.kind} {e.severity} {e.status} {e.opened_at:%Y-%m-%d}{hold}")
    if not (history.messages or history.escalations):
        lines.append("  nothing")
    for lifted in explanation.lifted:
        lines.append(f"  this message lifts the hold of {lifted}")
    for kept in explanation.kept:
        lines.append(f"  the hold of {kept}")
    return lines


def _ends(hold: RuleHold) -> str:
    """How a rule's hold is lifted, and what it does besides sparing the named staff."""
    calm = describe_duration(hold.calm_for)
    ends = (
        "lifted by the threatener's first message without the threats"
        if not hold.calm_for
        else f"lifted by the threatener's message without the threats {calm} after the last"
    )
    if hold.calm_for and hold.apology_lifts:
        ends += ", or sooner by one taking them back"
    if hold.spares_only:
        ends += "; only when the threats name staff, who are spared; answers not withheld"
    return ends


def _conditions(rule: Rule) -> list[str]:
    when = rule.when
    conditions = []
    if when.any_signals:
        conditions.append(f"any of {when.any_signals}")
    if when.all_signals:
        conditions.append(f"all of {when.all_signals}")
    if when.none_signals:
        conditions.append(f"none of {when.none_signals}")
    if when.min_signals:
        conditions.append(f"at least {when.min_signals} signals")
    if when.any_signals or when.all_signals or when.min_signals:
        conditions.append(f"score >= {when.min_score}")
    if when.identity_status:
        conditions.append(f"identity in {when.identity_status}")
    if when.tiers:
        conditions.append(f"tier in {when.tiers}")
    if when.channels:
        conditions.append(f"channel in {when.channels}")
    if when.time:
        conditions.append(f"time in {when.time}")
    if when.markers:
        conditions.append(f"mentions {when.markers}")
    if when.all_markers:
        conditions.append(f"mentions all of {when.all_markers}")
    if when.none_markers:
        conditions.append(f"mentions none of {when.none_markers}")
    for h in when.history:
        conditions.append(f"history {h.question} {h.names} at least {h.at_least}")
    return conditions


# Why an unknown sender's explanation does not go (notifications.stranger_reach).
def _minutes_said(minutes: float | None) -> str:
    """What a panic_ack promises: the rule's own minutes, else "shortly"."""
    return (
        f"a specialist contacts you within {math.ceil(minutes)} minutes"
        if minutes
        else ("a specialist contacts you shortly")
    )


_STRANGER = {
    "unauthenticated": "; not sent: the mail passed neither DMARC nor SPF, its From may be forged",
    "no_way_back": "; not sent: no reply reaches a sender on this channel",
}

_WITHHELD = {
    "hold": " (withheld: a hold stands)",
    "legal": " (withheld: the lawyers weigh a claim; no admission of fault)",
    "suspicious": " (withheld: the sender is suspicious)",
    UNVERIFIED_SENDER: " (withheld: the sender is not verified and asks what impostors ask)",
}


def _decision(
    d: Decision,
    under_hold: bool,
    legal_claim: bool = False,
    suspicious: bool = False,
    stranger: str | None = None,
    silent_sender: bool = False,
    asks: tuple[str, ...] = (),
    unreached: str | None = None,
) -> list[str]:
    """The rule's lines; `stranger`: an unknown sender none of its contacts reaches is
    explained how to be matched ("goes"), or why that does not go; `silent_sender`:
    nothing goes back to the sender (invoice fraud), and the confirmation request says
    what it asked (`asks`); `unreached`: why an unknown sender gets no panic_ack."""
    rule = d.rule
    roles = ", ".join(rule.roles)
    later = "".join(f", {n.role} (level {n.level})" for n in rule.later)
    lines = [f"- {rule.id}: {rule.kind} {rule.severity} -> {roles}{later}"]
    lines.append(f"    when: {'; '.join(_conditions(rule))}")
    for s in d.signals:
        lines.append(f"    signal {s.name} {s.score:.2f}: {_words(s)}")
    for fact in d.facts:
        lines.append(f"    {fact}")
    if rule.ack_minutes:
        lines.append(f"    acknowledge within {rule.ack_minutes:g} minutes")
    barred = withheld_kinds(under_hold, legal_claim, suspicious)
    if silent_sender:  # every contact to the sender itself; a kind barred already says why
        barred = {
            c.kind: UNVERIFIED_SENDER for c in rule.client_contacts if c.to == "sender"
        } | barred
    guessed = guessed_only(d)
    for contact in rule.client_contacts:
        withheld = _WITHHELD.get(barred.get(contact.kind, ""), "")
        if contact.kind == CONFIRMATION and asks:
            withheld += f" (says the sender asked: {', '.join(asks)})"
        if contact.kind == WARNING and guessed:
            withheld += " (not sent: the second opinion alone saw it, no lexicon evidence)"
        if contact.kind == PANIC_ACK and not withheld:
            # An unknown sender's unauthenticated From is answered by nothing (backscatter).
            if unreached is not None:
                withheld += f" ({_STRANGER.get(unreached, unreached).strip('; ')})"
            else:
                withheld += f" (says: {_minutes_said(rule.ack_minutes)})"
        lines.append(f"    client contact: {contact.kind} to {contact.to}{withheld}")
    if stranger is not None:
        why = _STRANGER.get(stranger, "")
        if stranger == "goes" and STRANGER_KIND in barred:
            why = "; " + _WITHHELD[barred[STRANGER_KIND]].strip(" ()")
        elif stranger == "goes" and silent_sender:
            why = "; " + _WITHHELD[UNVERIFIED_SENDER].strip(" ()")
        lines.append(f"    client contact: {STRANGER_KIND} to sender (policy: unknown sender{why})")
    if rule.warn and not guessed:
        lines.append("    records a warning")
    if rule.hold:
        lines.append(f"    hold: {next(iter(rule.hold.reason.values()))} ({_ends(rule.hold)})")
    for flag in rule.flag:
        lines.append(f"    flags the contact: {flag}")
    for other in d.superseded:
        lines.append(f"    also matched, less grave: {other.id} ({other.severity})")
    lines.append(f"    reason: {d.reason}")
    return lines
