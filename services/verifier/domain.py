"""Identity decisions: who is speaking, how sure we are, what a reply may disclose. No I/O.

The ladder: the sender's own channel on file decides first (verified, or suspicious when a
known address fails email authentication; two customers' channels are a conflict). Without
one, evidence is gathered per customer: corporate domain, document numbers quoted in the
message, phones on file written in it, the signature's and display name's person and
company. Each customer's evidence combines as 1 - Π(1 - weight); one customer above the
threshold is probable, several close together are a conflict, none is unknown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from math import prod
from pathlib import Path
from typing import TypeVar

from shared.contracts import (
    AuthResults,
    ChannelRef,
    CustomerRef,
    Evidence,
    Identity,
    IdentityStatus,
    Party,
    QuotedDocument,
    StaffRef,
)

from .matching import company_similarity, name_similarity
from .settings import EvidenceWeights, MatchingRules

_DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def free_mail_domains() -> frozenset[str]:
    lines = (_DATA / "free_mail_domains.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


@dataclass(frozen=True)
class ChannelMatch:
    customer_id: str
    contact_id: str
    contact_name: str
    kind: str
    verified: bool


@dataclass(frozen=True)
class DocumentMatch:
    customer_id: str
    kind: str
    number: str
    # As the CRM has it (staff see a quoted invoice's status: seed 000's was paid).
    status: str | None = None
    amount: Decimal | str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class PersonOnFile:
    customer_id: str
    contact_id: str
    name: str


@dataclass(frozen=True)
class NameKeys:
    """What a message's names are looked up by (matching): the search key of each word,
    pairs of keys of one line (two words of one name), company keys of its lines."""

    keys: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    companies: tuple[str, ...] = ()


T = TypeVar("T")


def named_first(
    named: Sequence[T], sharing: Sequence[T], limit: int, key: Callable[[T], str]
) -> list[T]:
    """Name candidates: those the lookup names closely, then the first others sharing a key.

    `sharing` is the first `limit` sharing any key, in id order: whatever of it is not
    named is, in order, the first of those not named (see ports.CrmDirectory). `key` is
    the id: the two lists come from two statements, and a row may change between them."""
    first = list(named[:limit])
    taken = {key(p) for p in first}
    return first + [p for p in sharing if key(p) not in taken][: limit - len(first)]


def person_id(person: PersonOnFile) -> str:
    return person.contact_id


def company_id(company: CompanyOnFile) -> str:
    return company.customer_id


@dataclass(frozen=True)
class CompanyOnFile:
    customer_id: str
    name: str


@dataclass(frozen=True)
class CustomerFacts:
    customer: CustomerRef
    account_manager: StaffRef | None
    authorized_channels: tuple[ChannelRef, ...] = field(default_factory=tuple)
    # Contact id -> IANA zone, for contacts whose zone is on file (it wins over the customer's).
    contact_timezones: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Claims:
    """What the message says about its writer: names anyone could type."""

    display_name: str | None = None
    signature_lines: tuple[str, ...] = ()
    introductions: tuple[str, ...] = ()  # the body's "меня зовут …" (introductions.py)


@dataclass(frozen=True)
class Candidate:
    """What the CRM said about a sender: filled by the service, decided on here."""

    channel_matches: tuple[ChannelMatch, ...] = ()
    domain: str | None = None
    domain_customers: tuple[str, ...] = ()
    documents: tuple[DocumentMatch, ...] = ()
    mentioned_phones: tuple[ChannelMatch, ...] = ()
    people: tuple[PersonOnFile, ...] = ()
    companies: tuple[CompanyOnFile, ...] = ()
    claims: Claims = Claims()


def email_domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].lower()


def is_corporate(domain: str | None) -> bool:
    return bool(domain) and domain not in free_mail_domains()


def _auth_failed(auth: AuthResults) -> list[str]:
    """The checks that say the mail is not the From domain's: DMARC failing, or SPF failing
    where DMARC did not pass. A DMARC pass (RFC 7489) means an aligned DKIM signature or SPF
    authenticated the From's domain; an SPF fail beside it is a forwarding hop (a client's
    gateway, a mailing list) re-sending the mail from a server the envelope's domain does not
    list, not a forger, who cannot sign as the client's domain."""
    failed = ["dmarc"] if auth.dmarc == "fail" else []
    if auth.spf == "fail" and auth.dmarc != "pass":
        failed.append("spf")
    return failed


def combined(weights: list[float]) -> float:
    """Independent pieces of evidence: each removes a share of the remaining doubt."""
    return round(1.0 - prod(1.0 - w for w in weights), 4)


def decide_identity(
    candidate: Candidate,
    auth: AuthResults,
    facts: dict[str, CustomerFacts],
    weights: EvidenceWeights,
    probable_threshold: float,
    rules: MatchingRules | None = None,
) -> Identity:
    identity = _decide(candidate, auth, facts, weights, probable_threshold, rules)
    return with_quoted_documents(with_names(identity, candidate, facts), candidate.documents)


# The evidence values that carry a CRM name, not an id (with_names).
NAME_VALUES = ("contact_name", "customer_name")
# The evidence values said to staff only: the names, an address a confirmation asked about
# and its code (replies.py); the decisions on file keep the ids.
STAFF_ONLY_VALUES = (*NAME_VALUES, "address", "code")


def with_names(
    identity: Identity, candidate: Candidate, facts: Mapping[str, CustomerFacts]
) -> Identity:
    """The identity with the CRM's names of the contact and the customer beside their ids
    in each evidence item's values (`contact_name`, `customer_name`): a manager reads
    "Андрей Соколов of ООО «СтройМонтаж»", not "ct-sokolov of cust-stroymontazh". The ids
    stay (machines and the CLI use them), and so does the detail: ids only, as the contract
    says. A name the CRM does not have (empty, or a customer without facts) is left out, and
    the notice says the id."""
    contacts = {m.contact_id: m.contact_name for m in candidate.channel_matches}
    contacts |= {m.contact_id: m.contact_name for m in candidate.mentioned_phones}
    contacts |= {p.contact_id: p.name for p in candidate.people}
    customers = {cid: f.customer.name for cid, f in facts.items()}
    evidence = []
    for item in identity.evidence:
        names: dict[str, str] = {}
        if contacts.get(item.values.get("contact_id", "")):
            names["contact_name"] = contacts[item.values["contact_id"]]
        if customers.get(item.values.get("customer_id", "")):
            names["customer_name"] = customers[item.values["customer_id"]]
        evidence.append(
            item.model_copy(update={"values": {**item.values, **names}}) if names else item
        )
    return identity.model_copy(update={"evidence": evidence})


def with_quoted_documents(identity: Identity, found: Sequence[DocumentMatch]) -> Identity:
    """The identity with the documents of its customer that the message quotes, as the CRM
    has them (for staff: the invoice the client says he paid, and whether it is paid)."""
    customer = identity.customer
    if customer is None:
        return identity
    quoted = [
        QuotedDocument(
            kind=d.kind,  # type: ignore[arg-type]
            number=d.number,
            status=d.status,
            amount=None if d.amount is None else str(d.amount),
            currency=d.currency,
        )
        for d in sorted(set(found), key=lambda d: (d.kind, d.number))
        if d.customer_id == customer.id
    ]
    if not quoted:
        return identity
    return identity.model_copy(
        update={"customer": customer.model_copy(update={"documents": quoted})}
    )


def _decide(
    candidate: Candidate,
    auth: AuthResults,
    facts: dict[str, CustomerFacts],
    weights: EvidenceWeights,
    probable_threshold: float,
    rules: MatchingRules | None = None,
) -> Identity:
    rules = rules or MatchingRules()
    matches = candidate.channel_matches
    if len({m.customer_id for m in matches}) > 1:
        evidence = [_channel_evidence(m, weights) for m in matches]
        return Identity(status="conflict", confidence=0.0, evidence=evidence, disclosure="none")
    if matches:
        return _by_channel(candidate, auth, facts, weights, rules)
    return _by_corroboration(candidate, auth, facts, weights, probable_threshold, rules)


def _by_channel(
    candidate: Candidate,
    auth: AuthResults,
    facts: dict[str, CustomerFacts],
    weights: EvidenceWeights,
    rules: MatchingRules,
) -> Identity:
    best = max(candidate.channel_matches, key=lambda m: m.verified)
    channel = _channel_evidence(best, weights)
    customer = facts.get(best.customer_id)
    contact = Party(id=best.contact_id, name=best.contact_name)
    failed = _auth_failed(auth) if best.kind == "email" else []
    if failed:
        spoofing = Evidence(
            kind="authentication_failed",
            detail=f"{', '.join(failed).upper()} failed for a known address: possible spoofing",
            weight=weights.failed_authentication - channel.weight,
            source="email.Authentication-Results",
            customer_id=best.customer_id,
            values={"checks": ", ".join(failed).upper()},
        )
        return _identity(
            "suspicious", weights.failed_authentication, customer, contact, [channel, spoofing]
        )
    if best.verified:
        return _identity("verified", weights.verified_channel, customer, contact, [channel])
    # A channel on file but never verified: the other evidence of the same customer adds up.
    gathered = _gather(candidate, auth, weights, rules)
    evidence = [channel, *gathered.evidence.get(best.customer_id, [])]
    return _identity(
        "probable", combined([e.weight for e in evidence]), customer, contact, evidence
    )


def _by_corroboration(
    candidate: Candidate,
    auth: AuthResults,
    facts: dict[str, CustomerFacts],
    weights: EvidenceWeights,
    threshold: float,
    rules: MatchingRules,
) -> Identity:
    gathered = _gather(candidate, auth, weights, rules)
    notes = _notes(candidate)
    scores = {cid: combined([e.weight for e in ev]) for cid, ev in gathered.evidence.items()}
    above = sorted((c for c, s in scores.items() if s >= threshold), key=lambda c: -scores[c])
    if len(above) > 1 and scores[above[0]] - scores[above[1]] < rules.conflict_margin:
        evidence = [e for cid in above for e in gathered.evidence[cid]]
        return Identity(status="conflict", confidence=0.0, evidence=evidence + notes)
    if above:
        cid = above[0]
        return _identity(
            "probable",
            scores[cid],
            facts.get(cid),
            gathered.contacts.get(cid),
            gathered.evidence[cid] + notes,
        )
    evidence = [e for ev in gathered.evidence.values() for e in ev] + notes
    if not evidence:
        # "Unknown" is a decision too: say what was looked for, so the reason is never empty.
        evidence.append(
            Evidence(
                kind="no_match",
                detail="no channel on file, no customer's corporate domain, document number, "
                "phone or name matches the sender",
                weight=0.0,
                source="crm",
            )
        )
    return Identity(status="unknown", confidence=0.0, evidence=evidence, disclosure="none")


@dataclass
class _Gathered:
    evidence: dict[str, list[Evidence]] = field(default_factory=lambda: defaultdict(list))
    contacts: dict[str, Party] = field(default_factory=dict)


def _gather(
    candidate: Candidate, auth: AuthResults, weights: EvidenceWeights, rules: MatchingRules
) -> _Gathered:
    out = _Gathered()
    if is_corporate(candidate.domain):
        failed = _auth_failed(auth)
        for cid in candidate.domain_customers:
            detail = f"sender's domain {candidate.domain} is the corporate domain of customer {cid}"
            if failed:
                detail += f", and {', '.join(failed).upper()} failed: the domain proves nothing"
            out.evidence[cid].append(
                Evidence(
                    kind="corporate_domain",
                    detail=detail,
                    weight=0.0 if failed else weights.corporate_domain,
                    source="sender.email",
                    customer_id=cid,
                    values={
                        "domain": candidate.domain or "",
                        "customer_id": cid,
                        "failed": ", ".join(failed).upper(),
                    },
                )
            )
    for doc in sorted(set(candidate.documents), key=lambda d: (d.customer_id, d.kind, d.number)):
        out.evidence[doc.customer_id].append(
            Evidence(
                kind="document",
                detail=f"{doc.kind} number quoted in the message is on file for customer "
                f"{doc.customer_id}",
                weight=weights.document,
                source="message.entities",
                customer_id=doc.customer_id,
                values={"document": doc.kind, "customer_id": doc.customer_id},
            )
        )
    for match in _best_per_customer(candidate.mentioned_phones):
        state = "verified" if match.verified else "unverified"
        out.evidence[match.customer_id].append(
            Evidence(
                kind="mentioned_phone",
                detail=f"a phone written in the message is the {state} phone of contact "
                f"{match.contact_id} of customer {match.customer_id}",
                weight=weights.mentioned_phone,
                source="message.text",
                customer_id=match.customer_id,
                values={
                    "state": state,
                    "contact_id": match.contact_id,
                    "customer_id": match.customer_id,
                },
            )
        )
    sources = [
        ("signature_name", "message.signature", line) for line in candidate.claims.signature_lines
    ]
    if candidate.claims.display_name:
        sources.append(("display_name", "sender.display_name", candidate.claims.display_name))
    sources += [
        ("introduction_name", "message.text", line) for line in candidate.claims.introductions
    ]
    _names(out, candidate.people, sources, weights, rules)
    _companies(out, candidate.companies, sources, weights, rules)
    return out


def _names(
    out: _Gathered,
    people: tuple[PersonOnFile, ...],
    sources: list[tuple[str, str, str]],
    weights: EvidenceWeights,
    rules: MatchingRules,
) -> None:
    # Per customer and source only the best person counts: one claim is one piece of evidence.
    best: dict[tuple[str, str], tuple[float, PersonOnFile, str]] = {}
    for kind, source, text in sources:
        for person in people:
            score = name_similarity(person.name, text)
            key = (person.customer_id, kind)
            if score >= rules.name_similarity and score > best.get(key, (0.0,))[0]:
                best[key] = (score, person, source)
    for (cid, kind), (score, person, source) in sorted(best.items()):
        if kind == "introduction_name" and {(cid, "signature_name"), (cid, "display_name")} & set(
            best
        ):
            continue  # the same claim as the signature's or the display name's: counted once
        out.evidence[cid].append(
            Evidence(
                kind=kind,
                detail=f"{_NAMED_BY[kind]} names contact {person.contact_id} of customer {cid} "
                f"(similarity {score:.0f})",
                weight=round(getattr(weights, kind) * score / 100, 4),
                source=source,
                customer_id=cid,
                values={
                    "contact_id": person.contact_id,
                    "customer_id": cid,
                    "similarity": f"{score:.0f}",
                },
            )
        )
        if cid not in out.contacts or kind == "signature_name":
            out.contacts[cid] = Party(id=person.contact_id, name=person.name)


_NAMED_BY = {
    "signature_name": "signature",
    "display_name": "display name",
    "introduction_name": "the writer's introduction in the text",
}


def _companies(
    out: _Gathered,
    companies: tuple[CompanyOnFile, ...],
    sources: list[tuple[str, str, str]],
    weights: EvidenceWeights,
    rules: MatchingRules,
) -> None:
    for company in companies:
        scored = [(company_similarity(company.name, text), source) for _, source, text in sources]
        score, source = max(scored, default=(0.0, ""))
        if score < rules.company_similarity:
            continue
        out.evidence[company.customer_id].append(
            Evidence(
                kind="company_name",
                detail=f"the message names customer {company.customer_id} as the company "
                f"(similarity {score:.0f})",
                weight=round(weights.company_name * score / 100, 4),
                source=source,
                customer_id=company.customer_id,
                values={"customer_id": company.customer_id, "similarity": f"{score:.0f}"},
            )
        )


def _best_per_customer(matches: tuple[ChannelMatch, ...]) -> list[ChannelMatch]:
    best: dict[str, ChannelMatch] = {}
    for m in sorted(matches, key=lambda m: (m.customer_id, not m.verified, m.contact_id)):
        best.setdefault(m.customer_id, m)
    return list(best.values())


def _notes(candidate: Candidate) -> list[Evidence]:
    if candidate.domain and not is_corporate(candidate.domain):
        return [
            Evidence(
                kind="free_mail_domain",
                detail=f"{candidate.domain} is a public mail provider: proves no company",
                weight=0.0,
                source="sender.email",
                values={"domain": candidate.domain},
            )
        ]
    return []


def _channel_evidence(match: ChannelMatch, weights: EvidenceWeights) -> Evidence:
    state = "verified" if match.verified else "unverified"
    return Evidence(
        kind=f"{state}_channel",
        detail=f"sender {match.kind} is on file as a {state} channel of contact {match.contact_id} "
        f"of customer {match.customer_id}",
        weight=weights.verified_channel if match.verified else weights.unverified_channel,
        source=f"sender.{match.kind}",
        customer_id=match.customer_id,
        values={
            "channel": match.kind,
            "contact_id": match.contact_id,
            "customer_id": match.customer_id,
        },
    )


_DISCLOSURE = {"verified": "account", "probable": "general"}


def _identity(
    status: IdentityStatus,
    confidence: float,
    facts: CustomerFacts | None,
    contact: Party | None,
    evidence: list[Evidence],
) -> Identity:
    customer = facts.customer if facts else None
    zone = facts.contact_timezones.get(contact.id) if facts and contact else None
    if customer is not None and zone:
        customer = customer.model_copy(update={"timezone": zone})
    return Identity(
        status=status,
        confidence=confidence,
        customer=customer,
        contact=contact,
        account_manager=facts.account_manager if facts else None,
        authorized_channels=list(facts.authorized_channels) if facts else [],
        disclosure=_DISCLOSURE.get(status, "none"),  # type: ignore[arg-type]
        evidence=evidence,
    )
