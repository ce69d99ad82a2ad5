"""The routing policy: a declarative rule file that maps what a message says, who sent it,
where and when, and what the sender did before, to escalations.

Rules are data (`data/policy.yaml`), validated at load (their shape: `policy_rules`).
`evaluate` is pure: the clock, the channel and the subject's `History` come in as a
`Situation`. Every rule whose conditions hold matches; of the rules of one kind, the gravest
decides (the first in the file among equals) and the others are kept as `superseded`, so a
rule can be written as a stronger variant of another ("abuse, repeated"). Each Decision
says which rule fired and why: the signals with their words, and the channel, time,
marker and history facts that made it match.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import yaml

from shared.contracts import Identity, Signal

from .condition_facts import Fact
from .guessed import guessed_names, guessed_words, is_guess
from .history import History, PastEscalation, SeenMessage, standing_holds
from .policy_rules import (
    STAFF_ROLES,
    ClientContact,
    Location,
    Notify,
    Policy,
    Rule,
    TeamLanguage,
    When,
    consistency_problems,
)

__all__ = [
    "POLICY_PATH",
    "STAFF_ROLES",
    "ClientContact",
    "Decision",
    "Location",
    "Notify",
    "Policy",
    "Rule",
    "Situation",
    "When",
    "consistency_problems",
    "evaluate",
    "guarded_asks",
    "load_policy",
    "parse_policy",
    "sender_silence",
    "silent_to_sender",
]

STAFF_LANGUAGES: tuple[str, ...] = get_args(TeamLanguage)
POLICY_PATH = Path(__file__).parent / "data" / "policy.yaml"


def parse_policy(text: str) -> Policy:
    return Policy.model_validate(yaml.safe_load(text))


@lru_cache(maxsize=4)
def load_policy(path: Path = POLICY_PATH) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Situation:
    """What a rule may look at besides the signals and the identity."""

    at: datetime | None = None  # the clock's now; time and history conditions need it
    channel: str | None = None
    text: str = ""  # subject and text, for the policy's markers
    history: History = field(default_factory=History)


@dataclass(frozen=True)
class Decision:
    rule: Rule
    signals: tuple[Signal, ...]
    reason: str
    facts: tuple[Fact, ...] = ()  # the channel, time, marker and history facts
    superseded: tuple[Rule, ...] = ()  # matching rules of the same kind, less grave


def hold_stands(history: History, lifted: list[PastEscalation], decisions: list[Decision]) -> bool:
    """Whether a hold stands once this message is placed: one placed before that it keeps
    (it still threatens: not `lifted`), or one a rule of it places (placed if none is
    active). The escalator withholds some client contacts then; `policy explain` says so.
    A hold that only spares the staff its threats named (harassment) withholds nothing."""
    standing = (e.hold for e in standing_holds(history, lifted) if e.hold is not None)
    return any(not h.spares_only for h in standing) or any(
        d.rule.hold and not d.rule.hold.spares_only for d in decisions
    )


def admission_barred(policy: Policy, history: History, decisions: list[Decision]) -> bool:
    """Whether the client may get no automatic admission of fault now: an escalation of a
    `no_admission_while` kind (legal) is open, or this message opens one."""
    kinds = set(policy.no_admission_while)
    return any(d.rule.kind in kinds for d in decisions) or any(
        e.kind in kinds for e in history.open_escalations()
    )


def silent_to_sender(
    policy: Policy,
    identity: Identity,
    history: History,
    decisions: list[Decision],
    sender: str = "",
) -> bool:
    """Whether nothing automatic goes back to the sender now: it is not verified (a
    probable, unknown, conflicting or suspicious one), and the message opens an escalation
    of a `no_reply_to_unverified_while` kind (payment details), or one is open, or this
    `sender` asked for one before (its earlier messages in the history: the case may be
    closed, the forger is not answered for it). Seed 000's impostor side: the sender of an
    invoice-fraud mail may be the forger, and we do not tell it what we did (whom we asked,
    that staff have it)."""
    return sender_silence(policy, identity, history, decisions, sender)[0]


def sender_silence(
    policy: Policy,
    identity: Identity,
    history: History,
    decisions: list[Decision],
    sender: str = "",
) -> tuple[bool, list[str]]:
    """`silent_to_sender`, and then what the registered contact's confirmation request says
    the sender asked (`guarded_asks`, worked out once: both scan the sender's history)."""
    if identity.status == "verified":
        return False, []
    asks = guarded_asks(policy, decisions, history, sender)
    kinds = set(policy.no_reply_to_unverified_while)
    return bool(asks) or any(e.kind in kinds for e in history.open_escalations()), asks


def guarded_asks(
    policy: Policy, decisions: list[Decision], history: History, sender: str
) -> list[str]:
    """What of `no_reply_to_unverified_while` this sender asked for: by this message (the
    kinds of its decisions), or by an earlier one of its in the subject's history (a
    signal of a rule of the kind): the registered contact's confirmation request says so
    ("someone writing from ... asked to change your payment details"), whichever message
    of the sender's the request goes with."""
    guarded = policy.no_reply_to_unverified_while
    asked = {d.rule.kind for d in decisions if d.rule.kind in guarded}
    asked |= _asked_before(policy, history, sender)
    return [kind for kind in guarded if kind in asked]


def _asked_before(policy: Policy, history: History, sender: str) -> set[str]:
    """The `no_reply_to_unverified_while` kinds this sender's earlier messages in the
    history asked for (a signal of a rule of the kind)."""
    who = sender.strip().casefold()
    earlier = [m for m in history.messages if who and m.sender.strip().casefold() == who]
    return {
        rule.kind
        for rule in policy.rules
        if rule.kind in policy.no_reply_to_unverified_while
        and any(_fires_on(rule, m.signals) for m in earlier)
    }


def _fires_on(rule: Rule, signals: dict[str, float]) -> bool:
    """Whether a past message's signals carry what the rule's signal conditions name."""
    named = [*rule.when.any_signals, *rule.when.all_signals]
    return any(signals.get(name, 0.0) >= rule.when.min_score for name in named)


def evaluate(
    policy: Policy, signals: list[Signal], identity: Identity, situation: Situation | None = None
) -> list[Decision]:
    situation = situation or Situation()
    if situation.channel in policy.history_only_channels:
        return []
    current = SeenMessage(
        message_id="",
        at=situation.at or datetime.min.replace(tzinfo=UTC),
        channel=situation.channel or "",
        signals={s.name: s.score for s in signals},
        guessed=guessed_names(signals),
        markers=policy.markers_in(situation.text, signals),
    )
    by_kind: dict[str, list[tuple[Rule, list[Signal], list[Fact]]]] = {}
    for rule in policy.rules:
        found = _match(policy, rule, signals, identity, situation, current)
        if found is not None:
            by_kind.setdefault(rule.kind, []).append((rule, *found))
    decisions = []
    for matches in by_kind.values():
        rule, matched, facts = min(matches, key=lambda m: m[0].severity)
        decisions.append(
            Decision(
                rule,
                tuple(matched),
                _reason(rule, matched, facts, identity),
                tuple(facts),
                tuple(r for r, _, _ in matches if r is not rule),
            )
        )
    return fold_guesses(decisions)


def fold_guesses(decisions: list[Decision]) -> list[Decision]:
    """A rule that fired on the second opinion's guess alone (guessed.py) opens no case of
    its own when the message opens one on the lexicon's evidence at least as grave: the
    gravest such case says the guess in its reasons (`second_opinion_also`), so staff check
    it there («Сайт опять не работает, уже третий раз за месяц»: one failure case, no P4
    abuse case for a message without an insult). A guess graver than anything the lexicon
    found (a threat beside a failure) keeps its case: a guess never hides a graver thing.
    Alone, a guess still opens its case, said as one (`second_opinion_only`): staff check
    the message; it is warned of to nobody and counts in no history."""
    sure = [d for d in decisions if not _guessed(d)]
    gravest = min(sure, key=lambda d: d.rule.severity, default=None)
    folded = [
        d for d in decisions if gravest and _guessed(d) and d.rule.severity >= gravest.rule.severity
    ]
    kept = []
    for d in decisions:
        if any(d is f for f in folded):
            continue
        if d is gravest and folded:
            d = _with_fact(d, _guess_fact("second_opinion_also", folded))
        elif _guessed(d):
            d = _with_fact(d, _guess_fact("second_opinion_only", [d]))
        kept.append(d)
    return kept


def _guessed(decision: Decision) -> bool:
    return bool(decision.signals) and all(is_guess(s) for s in decision.signals)


def _guess_fact(kind: str, guesses: list[Decision]) -> Fact:
    names = list(dict.fromkeys(s.name for d in guesses for s in d.signals))
    words = guessed_words(s for d in guesses for s in d.signals)
    if kind == "second_opinion_also":
        text = (
            f"the second opinion alone also read {'/'.join(names)} ({words}); "
            "no case of its own: check the message"
        )
    else:
        text = (
            f"only the second opinion read {'/'.join(names)} ({words}), no lexicon evidence: "
            "check the message before acting; nobody is warned, no history counts it"
        )
    return Fact(kind, text, {"names": names, "words": words})


def _with_fact(decision: Decision, fact: Fact) -> Decision:
    reason = f"{decision.reason}; {fact.text}"
    return replace(decision, facts=(*decision.facts, fact), reason=reason)


def _match(
    policy: Policy,
    rule: Rule,
    signals: list[Signal],
    identity: Identity,
    situation: Situation,
    current: SeenMessage,
) -> tuple[list[Signal], list[Fact]] | None:
    """(the signals that made it match, the other facts that did), or None."""
    when = rule.when
    present = {s.name: s for s in signals if s.score >= when.min_score}
    matched: list[Signal] = []
    if when.any_signals:
        matched = [present[n] for n in when.any_signals if n in present]
        if not matched:
            return None
    if when.all_signals:
        if not all(n in present for n in when.all_signals):
            return None
        matched += [present[n] for n in when.all_signals if present[n] not in matched]
    if any(n in present for n in when.none_signals):
        return None
    facts: list[Fact] = []
    if when.min_signals:
        if len(present) < when.min_signals:
            return None
        matched += [s for s in present.values() if s not in matched]
        facts.append(
            Fact(
                "signals_at_once",
                f"{len(present)} signals at once (at least {when.min_signals})",
                {"count": len(present), "at_least": when.min_signals},
            )
        )
    if when.identity_status:
        if identity.status not in when.identity_status:
            return None
        # Said, so a rule about who is speaking has a reason when no signal fired.
        status = identity.status
        facts.append(Fact("identity", f"sender's identity {status}", {"status": status}))
    if when.tiers:
        tier = identity.customer.tier if identity.customer else None
        if tier not in when.tiers:
            return None
        facts.append(Fact("tier", f"tier {tier}", {"tier": tier}))
    if when.channels:
        if situation.channel not in when.channels:
            return None
        channel = situation.channel
        facts.append(Fact("channel", f"channel {channel}", {"channel": channel}))
    if when.time:
        if situation.at is None or not set(when.time) & policy.calendar.periods(situation.at):
            return None
        calendar = policy.calendar
        facts.append(
            Fact("time", f"time {calendar.describe(situation.at)}", calendar.moment(situation.at))
        )
    if when.markers:
        named = [m for m in when.markers if m in current.markers]
        if not named:
            return None
        text = f"this message mentions {', '.join(named)}"
        facts.append(Fact("markers", text, {"markers": named, **_said(policy, named)}))
    if when.all_markers:
        if not all(m in current.markers for m in when.all_markers):
            return None
        named = list(when.all_markers)
        text = f"this message mentions {', '.join(named)}"
        facts.append(Fact("markers", text, {"markers": named, **_said(policy, named)}))
    if any(m in current.markers for m in when.none_markers):
        return None
    for condition in when.history:
        if situation.at is None:
            return None
        fact = condition.check(
            situation.history, current, situation.at, policy.history_lookback, when.min_score
        )
        if fact is None:
            return None
        if fact.kind == "history_markers":  # said as the notices call them
            said = _said(policy, list(fact.values["names"]))
            fact = Fact(fact.kind, fact.text, {**fact.values, **said})
        facts.append(fact)
    return matched, facts


def _said(policy: Policy, markers: list[str]) -> dict[str, Any]:
    """The markers as the team's notices call them (`said`), and as each language's do
    (`said_in`: a staff member may read another language, staff_language.in_language)."""
    return {
        "said": policy.marker_names(markers),
        "said_in": {lang: policy.marker_names(markers, lang) for lang in STAFF_LANGUAGES},
    }


def _reason(rule: Rule, matched: list[Signal], facts: list[Fact], identity: Identity) -> str:
    parts = []
    for signal in matched:
        words = ", ".join(f"«{e.text}»" for e in signal.evidence if not e.rule.startswith("form."))
        parts.append(f"{signal.name} {signal.score:.2f} ({words})")
    who = f"identity {identity.status}"
    if identity.customer:
        who += f" as customer {identity.customer.id} (tier {identity.customer.tier})"
    if identity.evidence:
        who += "; " + "; ".join(e.detail for e in identity.evidence)
    what = "; ".join(parts) if parts else "no threat signals"
    return "; ".join([f"rule {rule.id}: {what}", *(f.text for f in facts), who])
