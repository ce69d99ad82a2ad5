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
Игорю передайте, что я его найду»). A word names them when it is their first name or
surname in any case form, through the pymorphy3 dictionaries the detector reads with
(Ольга, Ольге, Ольгу, Ользі; Олег, Олегу; Петровой), a pet name of the first name (Оля, Олю
for Ольга; Сашко for Олександр: data/diminutives.yaml), or the same Latin word (Anna,
Anna's); a name that is also a common word (Надежда, Вера; Will, Hope) counts only written
with a capital letter, and a Latin name always so. "Your manager" is the account manager,
unless the sentence names one of them by name. Only a sentence that holds the threat's own
evidence counts: «Ольга, добрый день!» before a threat in the next sentence greets her, a
signature names the writer, and a name beside a threat of court (legal) is the lawyers'
business, not a danger to her.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

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
from .detection.text import WORD, fold, is_cyrillic
from .history import PastEscalation
from .policy import Decision
from .staff_language import StaffLanguages
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
    }
)
_NAME_TAGS = ("Name", "Surn", "Patr")
# "your manager", «вашему личному менеджеру», «мій менеджер»: the client's account manager;
# in Latin letters too ("khay vash menedzher boyitsya", "vashemu menedzheru").
_YOUR_MANAGER = re.compile(
    r"\b(?:ваш\w{0,3}|мой|моего|моему|моим|моем|мій|мого|моєму|моїм|your|my"
    r"|vash\w{0,4}|moy|moj|moi|moego|moemu|miy|mij|mogo|moyemu)\s+"
    r"(?:\w+\s+)?(?:(?:аккаунт|акаунт|akkaunt|akaunt)-?)?"
    r"(?:менеджер\w*|manager|menedzh?er\w*|menedjer\w*)\b"
)

How = Literal["name", "role"]

# Pet names of the first names (Ольга: Оля; Олександр: Сашко), by lemma.
DIMINUTIVES_FILE = Path(__file__).parent / "data" / "diminutives.yaml"
DIMINUTIVES: dict[str, frozenset[str]] = {
    str(name): frozenset(str(pet) for pet in pets)
    for name, pets in yaml.safe_load(DIMINUTIVES_FILE.read_text(encoding="utf-8")).items()
}


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
    names = [_name_keys(person.name, morph) for person in people]
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
    names: those whose names it holds, else the account manager as "your manager"."""
    words = WORD.findall(sentence)
    found: dict[int, How] = {
        i: "name" for i, keys in enumerate(names) if any(_is_name(w, keys, morph) for w in words)
    }
    if not found and _YOUR_MANAGER.search(fold(sentence)):
        found[0] = "role"
    return found


def _is_name(word: str, names: frozenset[str], morph: Morphology) -> bool:
    folded = _bare(word)
    if len(folded) < 2:
        return False
    matched = _name_lemmas(folded, morph) & names
    if not matched:
        return False
    if word[:1].isupper():
        return True
    if not is_cyrillic(folded):
        return False  # "will", "hope", "mark": a Latin name is written with a capital
    # «надежды нет» is no Надежда: a common word of the same lemma needs the capital.
    return not any(
        _plain(p.normal_form) in matched and not any(t in p.tag for t in _NAME_TAGS)
        for analyzer in morph.analyzers.values()
        if analyzer.word_is_known(folded)
        for p in analyzer.parse(folded)
    )


def _name_keys(name: str, morph: Morphology) -> frozenset[str]:
    """What the words of a staff member's name are matched as: each word (an initial is
    not), its lemmas as a first name, surname or patronymic, and the pet names of those
    (data/diminutives.yaml: Ольга is written to as Оля, Олександр as Сашко)."""
    keys: set[str] = set()
    for word in WORD.findall(name):
        folded = _bare(word)
        if len(folded) >= 2:
            keys |= _name_lemmas(folded, morph)
    return frozenset(keys.union(*(DIMINUTIVES.get(key, ()) for key in keys)))


def _name_lemmas(folded: str, morph: Morphology) -> set[str]:
    """The word itself and, in Cyrillic, the lemmas of its parses as a name (Ольге: ольга;
    Петровой: петров), not of its other parses (Ірині is also an adjective «ірин»). A
    Latin word is also read in Cyrillic as the detector reads it ("pust vasha Marina hodit i
    oglyadyvaetsya" names Марина; "Olegu": Олег)."""
    lemmas = {folded}
    cyrillic = [folded] if is_cyrillic(folded) else []
    if not cyrillic and folded.isascii() and folded.isalpha():
        cyrillic = [reading for reading, known in morph.reader.word(folded).values() if known]
    for word in cyrillic:
        for analyzer in morph.analyzers.values():
            for parse in analyzer.parse(word):
                if any(t in parse.tag for t in _NAME_TAGS):
                    lemmas.add(_plain(parse.normal_form))
    return lemmas


def _bare(word: str) -> str:
    folded = fold(word)
    return folded[:-2] if folded.endswith("'s") else folded


def _plain(lemma: str) -> str:
    return lemma.replace("ё", "е").replace("’", "'")


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
    return Fact(
        f"threatened_{person.role}_{person.by}",
        f"the threat names the {person.role.replace('_', ' ')} {person.staff_id} {how}: they "
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
        }
        notes.append(
            staff_notice(
                THREATENED_KIND,
                person.role,
                person.email,
                languages.of(person.email),
                data,
                (event.escalation_id, *occasion, "threatened", person.role, person.staff_id),
                message_id=event.message_id,
                correlation_id=event.correlation_id,
                occurred_at=event.occurred_at,
                escalation_id=event.escalation_id,
                severity=event.severity,
            )
        )
    return notes


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
