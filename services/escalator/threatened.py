"""Whom of the staff a client's threat is aimed at, and what they are told. Pure.

Seed 003 ends with "the last one is let go, protecting the staff", and seed 002 sends
threats to the people who assess the risk. A threat often names the person it is aimed at:
the client's account manager, by name («Ольга, я знаю, где вы живёте», «передайте Ірині,
що я її знайду», "tell Anna I'll be waiting for her after work") or as "your manager"
(«вашему менеджеру не поздоровится»). The threat's rule tells security and the head of
support; the person threatened must hear it from us too, and not be left to answer the
client alone.

A staff member Careline knows for the client is the account manager the verifier's
identity carries, and the manager's deputy the CRM names (`account_manager.deputy`): the
one who stood in for a threatened manager is the next one a client threatens («А вашему
Игорю передайте, что я его найду»). Which words name them is staff_names.py's: case forms,
pet names, a common word (Надежда, Bill) not a name at a sentence's start. "Your manager"
is the account manager, unless the sentence names them by name already or the words are a
name's own title («вашему менеджеру Игорю» is the deputy Игорь): a deputy's name elsewhere
in the sentence does not hide them («Я знаю, где живёт ваш менеджер, Игорь подтвердит»
names both). Only a sentence that holds the threat's own evidence counts: «Ольга, добрый
день!» before a threat in the next sentence greets her, a signature names the writer, and a
name beside a threat of court (legal) is the lawyers' business, not a danger to her.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.contracts import (
    EscalationChanged,
    IdentityVerified,
    NotificationKind,
    SendNotification,
    Signal,
    StaffRef,
)

from .client_words import sentence_bounds
from .condition_facts import Fact
from .detection.lexicon import default_morphology
from .detection.morphology import Morphology
from .detection.text import fold
from .history import PastEscalation
from .policy import Decision
from .staff_language import StaffLanguages, on_their_clock
from .staff_names import name_keys, names_in
from .staff_notice import staff_notice

# What threatens a person: harm, pressure on them (blackmail), advances to them. An insult
# is the agent's to end (abuse-agent-guidance); a threat of court is legal's.
THREAT_SIGNALS = frozenset({"violence_threat", "reputation_threat", "harassment"})
THREATENED_KIND: NotificationKind = "staff_threatened"
# The decision facts that say whom a threat names (with_threatened).
THREAT_FACTS = frozenset(
    {
        "threatened_account_manager_name",
        "threatened_account_manager_role",
        "threatened_deputy_name",
        # Advances alone (harassment, seed 002 case 3) are no threat to name as one.
        "advances_account_manager_name",
        "advances_account_manager_role",
        "advances_deputy_name",
    }
)
# A person only advances name is told so, not that the client threatens them.
ADVANCES = ("harassment",)
# "your manager", «вашему личному менеджеру», «мій менеджер»: the client's account manager;
# in Latin letters too ("khay vash menedzher boyitsya", "vashemu menedzheru").
_YOUR_MANAGER = re.compile(
    r"\b(?:ваш\w{0,3}|мой|моего|моему|моим|моем|мій|мого|моєму|моїм|your|my"
    r"|vash\w{0,4}|moy|moj|moi|moego|moemu|miy|mij|mogo|moyemu)\s+"
    r"(?:\w+\s+)?(?:(?:аккаунт|акаунт|akkaunt|akaunt)-?)?"
    r"(?:менеджер\w*|manager|menedzh?er\w*|menedjer\w*)\b"
)

How = Literal["name", "role"]


@dataclass(frozen=True)
class Threatened:
    """A staff member a threat of the message names, and how; by which threats."""

    role: str
    staff_id: str
    name: str
    email: str
    by: How
    signals: tuple[str, ...]


def staff_of(manager: StaffRef | None) -> list[StaffRef]:
    """The staff Careline knows for the client: the account manager and their deputy."""
    if manager is None:
        return []
    return [manager, *([manager.deputy] if manager.deputy is not None else [])]


def threatened_staff(
    text: str,
    signals: Iterable[Signal],
    manager: StaffRef | None,
    morphology: Morphology | None = None,
) -> list[Threatened]:
    """The staff the threats of `text` (`signals`, as detected in it) name, in a sentence
    that holds a threat's evidence: the account manager (`manager`, the identity's) by name
    or as "your manager", and their deputy (`manager.deputy`) by name. "Your manager" in a
    sentence that names one of them by name is that one («вашему менеджеру Игорю»)."""
    threats = [s for s in signals if s.name in THREAT_SIGNALS]
    people = staff_of(manager)
    if not people or not threats:
        return []
    morph = morphology or default_morphology()
    names = [name_keys(person.name, morph) for person in people]
    hows: list[list[How]] = [[] for _ in people]
    named_by: list[list[str]] = [[] for _ in people]
    for signal in threats:
        spans = [(e.start, e.end) for e in signal.evidence if not e.rule.startswith("form.")]
        for sentence in _sentences_of(text, spans):
            found = _named_in(sentence, names, morph)
            for i, how in found.items():
                hows[i].append(how)
                if signal.name not in named_by[i]:
                    named_by[i].append(signal.name)
    return [
        Threatened(
            role=person.role,
            staff_id=person.id,
            name=person.name,
            email=person.email,
            by="name" if "name" in hows[i] else "role",
            signals=tuple(named_by[i]),
        )
        for i, person in enumerate(people)
        if hows[i]
    ]


def _sentences_of(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The sentences each span stands in (from the one it starts in to the one it ends in)."""
    if not spans:
        return []
    bounds = list(sentence_bounds(text, max(end for _, end in spans)))
    found: list[str] = []
    for start, end in spans:
        inside = [(a, b) for a, b in bounds if a < end and start < b] or [(start, end)]
        sentence = text[inside[0][0] : inside[-1][1]]
        if sentence not in found:
            found.append(sentence)
    return found


def _named_in(sentence: str, names: Sequence[frozenset[str]], morph: Morphology) -> dict[int, How]:
    """Who of the staff (by index of `names`; the account manager first) the sentence
    names: those whose names it holds, and the account manager as "your manager" unless
    that is a name's own title («вашему менеджеру Игорю», "your manager Igor": the one
    called so) or the account manager is named by name already."""
    spans = names_in(sentence, names, morph)
    found: dict[int, How] = dict.fromkeys(spans, "name")
    if 0 in found:
        return found
    named = [span for i in spans for span in spans[i]]
    for role in _YOUR_MANAGER.finditer(fold(sentence)):
        if not any(_beside(role.span(), span, sentence) for span in named):
            found[0] = "role"
    return dict(sorted(found.items()))


def _beside(role: tuple[int, int], name: tuple[int, int], sentence: str) -> bool:
    """Whether a name stands right beside "your manager", nothing but spaces between."""
    gap = sentence[role[1] : name[0]] if role[1] <= name[0] else sentence[name[1] : role[0]]
    return not gap.strip() and "\n" not in gap


def aimed_at(decision: Decision, people: Sequence[Threatened]) -> list[Threatened]:
    """The people one of the decision's own threats names."""
    own = {s.name for s in decision.signals}
    return [p for p in people if own & set(p.signals)]


def with_threatened(decision: Decision, people: Sequence[Threatened]) -> Decision:
    """The decision saying whom its threats name: a condition in every holder's notice
    (in their language) and in the escalation's reason (ids, no names: events and logs
    carry it)."""
    facts = tuple(threat_fact(p) for p in aimed_at(decision, people))
    if not facts:
        return decision
    reason = "; ".join([decision.reason, *(f.text for f in facts)])
    return dataclasses.replace(decision, facts=(*decision.facts, *facts), reason=reason)


def threat_fact(person: Threatened) -> Fact:
    how = "by name" if person.by == "name" else 'as "your manager"'
    advances = person.signals == ADVANCES
    return Fact(
        f"{'advances' if advances else 'threatened'}_{person.role}_{person.by}",
        f"the {'advances name' if advances else 'threat names'} the "
        f"{person.role.replace('_', ' ')} {person.staff_id} {how}: they "
        "are told personally not to answer the client alone; decide who handles the client",
        {"person": person.name, "staff": person.staff_id},
    )


def threatened_notices(
    people: Sequence[Threatened],
    decision: Decision,
    event: EscalationChanged,
    verified: IdentityVerified,
    languages: StaffLanguages,
    occasion: tuple[object, ...] = (),
) -> list[SendNotification]:
    """A notice of their own to each person the decision's threats name, in the language
    they read: a client threatens you personally; who holds the case (the rule's roles) and
    its reference; do not answer the client alone. Once per escalation and person (a
    reopening, `occasion`, is told again); not an acknowledgement request: the case is not
    theirs to take."""
    identity, message = verified.identity, verified.message
    notes = []
    for person in aimed_at(decision, people):
        data: dict[str, Any] = {
            "escalation_id": str(event.escalation_id),
            "kind": event.kind,
            "severity": event.severity,
            "customer": identity.customer.name if identity.customer else None,
            "customer_id": identity.customer.id if identity.customer else None,
            "channel": message.channel,
            "subject": message.subject,
            "received_at": message.received_at.isoformat(),
            "by": person.by,
            "signals": list(person.signals),
            "words": [
                e.text
                for s in decision.signals
                if s.name in person.signals
                for e in s.evidence
                if not e.rule.startswith("form.")
            ],
            "holders": list(decision.rule.roles),
            # A rule on the threats themselves (not one that counts them among others):
            # its case is the one the person is told of (one_each).
            "on_threats": bool(set(decision.rule.when.any_signals) & THREAT_SIGNALS),
        }
        notes.append(
            staff_notice(
                THREATENED_KIND,
                person.role,
                person.email,
                languages.of(person.email),
                on_their_clock(data, languages.zone_of(person.email)),
                (event.escalation_id, *occasion, "threatened", person.role, person.staff_id),
                message_id=event.message_id,
                correlation_id=event.correlation_id,
                occurred_at=event.occurred_at,
                escalation_id=event.escalation_id,
                severity=event.severity,
            )
        )
    return notes


def one_each(notes: Sequence[SendNotification]) -> list[SendNotification]:
    """One notice per person a message's threats name, however many of its escalations
    carry the threats (the violence rule's and a "fed up: five signals at once" failure's):
    the case of a rule on the threats themselves, the gravest, else the first one."""
    chosen: dict[str, SendNotification] = {}
    for note in notes:
        held = chosen.get(note.recipient.casefold())
        if held is None or _told_rank(note) < _told_rank(held):
            chosen[note.recipient.casefold()] = note
    return [n for n in notes if chosen[n.recipient.casefold()] is n]


def _told_rank(note: SendNotification) -> tuple[bool, str]:
    return (not note.data.get("on_threats"), note.severity or "P9")


def spared_staff(
    people: Sequence[Threatened], standing: Iterable[PastEscalation]
) -> frozenset[str]:
    """The staff ids given none of the client's cases now: those this message's threats
    name, and those named by the threats of a hold that still stands (the client who
    threatened their manager yesterday and writes calmly about a failure today, while the
    investigation waits, is not the manager's to answer)."""
    held = (e.hold.spares for e in standing if e.hold is not None)
    return frozenset({p.staff_id for p in people}.union(*held))


def is_spared(holder: Mapping[str, Any], spared: Collection[str], manager: StaffRef | None) -> bool:
    """Whether a holder of a case (its `notified` entry) is the spared account manager, or
    their deputy (the CRM's, standing in as `deputy`) when a threat named them."""
    address = str(holder.get("address", "")).casefold()
    return any(
        person.id in spared
        and holder.get("role") == person.role
        and address == person.email.casefold()
        for person in staff_of(manager)
    )


def unnamed_to_client(
    notes: Sequence[SendNotification], spared: Collection[str], manager: StaffRef | None
) -> list[SendNotification]:
    """The client's acknowledgements without the name of an account manager the client
    threatened ("your account manager Ольга Петрова has it"): the deputy holds its cases
    now, and the one threatening is not told whom to go after."""
    if manager is None or manager.id not in spared:
        return list(notes)
    return [
        n.model_copy(update={"data": {**n.data, "account_manager": None}})
        if n.data.get("account_manager")
        else n
        for n in notes
    ]
