"""`careline policy explain`: which rules a message would fire, and what made them fire.

The same detection and `evaluate` the escalator runs on `message.verified`, on a message
given as JSON: an IdentityVerified (the identity it carries) or a bare MessageNormalized
(identity unknown unless one is given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.contracts import Identity, IdentityVerified, MessageNormalized, Signal

from .detection import detect
from .policy import Decision, Policy, evaluate

UNKNOWN = Identity(status="unknown", confidence=0.0)


class NotAMessage(ValueError):
    """The JSON is neither an IdentityVerified nor a MessageNormalized."""


@dataclass(frozen=True)
class Explanation:
    signals: list[Signal]
    identity: Identity
    decisions: list[Decision]


def read_input(data: Any, identity: Identity | None = None) -> tuple[MessageNormalized, Identity]:
    """(message, identity) of an IdentityVerified or a MessageNormalized JSON document."""
    if not isinstance(data, dict):
        raise NotAMessage("expected a JSON object (IdentityVerified or MessageNormalized)")
    if "message" in data and "identity" in data:
        verified = IdentityVerified.model_validate(data)
        return verified.message, identity or verified.identity
    return MessageNormalized.model_validate(data), identity or UNKNOWN


def explain(policy: Policy, message: MessageNormalized, identity: Identity) -> Explanation:
    signals = detect(message.text, language=message.language)
    return Explanation(signals, identity, evaluate(policy, signals, identity))


def _words(signal: Signal) -> str:
    words = [f"«{e.text}»" for e in signal.evidence]
    return ", ".join(dict.fromkeys(words)) or "-"


def render(explanation: Explanation) -> str:
    lines = ["signals:"]
    for s in explanation.signals or []:
        lines.append(f"  {s.name} {s.score:.2f}: {_words(s)}")
    if not explanation.signals:
        lines.append("  none")
    identity = explanation.identity
    lines.append("identity:")
    lines.append(f"  status {identity.status}, confidence {identity.confidence:.2f}")
    if identity.customer:
        c = identity.customer
        lines.append(f"  customer {c.id} ({c.name}), tier {c.tier}")
    if identity.account_manager:
        lines.append(f"  account manager {identity.account_manager.id}")
    for evidence in identity.evidence:
        lines.append(f"  evidence {evidence.kind}: {evidence.detail}")
    if not explanation.decisions:
        lines.append("rules matched: none (no escalation)")
        return "\n".join(lines)
    lines.append(f"rules matched: {len(explanation.decisions)}")
    for d in explanation.decisions:
        rule = d.rule
        lines.append(f"- {rule.id}: {rule.kind} {rule.severity} -> {', '.join(rule.notify)}")
        conditions = []
        if rule.when.any_signals:
            conditions.append(f"any of {rule.when.any_signals}")
        if rule.when.all_signals:
            conditions.append(f"all of {rule.when.all_signals}")
        if rule.when.any_signals or rule.when.all_signals:
            conditions.append(f"score >= {rule.when.min_score}")
        if rule.when.identity_status:
            conditions.append(f"identity in {rule.when.identity_status}")
        if rule.when.tiers:
            conditions.append(f"tier in {rule.when.tiers}")
        lines.append(f"    when: {'; '.join(conditions)}")
        for s in d.signals:
            lines.append(f"    signal {s.name} {s.score:.2f}: {_words(s)}")
        for contact in rule.client_contacts:
            lines.append(f"    client contact: {contact.kind} to {contact.to}")
        lines.append(f"    reason: {d.reason}")
    return "\n".join(lines)
