"""From a message to what to ask the CRM, and from the answers to a Candidate.

`lookup_for` is pure: the keys of every piece of evidence a message may carry. `gather`
asks the directory once per kind of key, however many keys there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts import MessageNormalized

from .domain import Candidate, Claims, CustomerFacts, NameKeys, email_domain
from .introductions import introductions
from .matching import (
    channel_key,
    document_key,
    email_key,
    handle_key,
    line_keys,
    phone_key,
    phones_in,
    signature_lines,
)
from .ports import CrmDirectory
from .settings import MatchingRules

DOCUMENT_KINDS = ("contract", "invoice", "account", "order")


@dataclass(frozen=True)
class Lookup:
    sender_channels: tuple[tuple[str, str], ...]
    mentioned_phones: tuple[tuple[str, str], ...]
    domain: str | None
    documents: tuple[tuple[str, str], ...]
    names: NameKeys
    claims: Claims


def lookup_for(message: MessageNormalized, rules: MatchingRules) -> Lookup:
    sender = message.sender
    own: list[tuple[str, str]] = []
    if sender.email:
        own.append(("email", email_key(sender.email)))
    if sender.phone:
        own.append(("phone", phone_key(sender.phone)))
    if sender.handle:
        own.append(("handle", handle_key(sender.handle)))
    phones = [e.value for e in message.entities if e.kind == "phone"]
    phones += phones_in(message.signature)
    mentioned = []
    for number in phones:
        key = ("phone", channel_key("phone", number))
        if key not in own and key not in mentioned:
            mentioned.append(key)
    refs = []
    for entity in message.entities:
        if entity.kind in DOCUMENT_KINDS:
            ref = (entity.kind, document_key(entity.value))
            if ref[1] and ref not in refs:
                refs.append(ref)
    lines = tuple(signature_lines(message.signature, rules.signature_lines))
    introduced = tuple(introductions(message.text, rules.introduction_lines))
    # Display name first: the bounds below keep what comes first.
    texts = [line_keys(text) for text in (sender.display_name or "", *lines, *introduced)]
    keys = sorted({k for text in texts for k in text.keys})
    # Pairs within one text only: words of two lines ("Андрей", "директор") name no one.
    pairs = dict.fromkeys(p for text in texts for p in text.pairs)
    companies = dict.fromkeys(k for text in texts for k in text.companies)
    return Lookup(
        sender_channels=tuple(own),
        mentioned_phones=tuple(mentioned),
        domain=email_domain(sender.email),
        documents=tuple(refs),
        names=NameKeys(
            keys=tuple(keys),
            pairs=tuple(sorted(list(pairs)[: rules.max_name_pairs])),
            companies=tuple(sorted(list(companies)[: rules.max_company_keys])),
        ),
        claims=Claims(
            display_name=sender.display_name, signature_lines=lines, introductions=introduced
        ),
    )


async def gather(crm: CrmDirectory, lookup: Lookup, rules: MatchingRules) -> Candidate:
    hits = await crm.channels_on_file([*lookup.sender_channels, *lookup.mentioned_phones])
    own = set(lookup.sender_channels)
    domain_customers = await crm.customers_with_domain(lookup.domain) if lookup.domain else []
    docs = await crm.documents_on_file(lookup.documents)
    people, companies = await crm.name_candidates(lookup.names, rules.max_name_candidates)
    return Candidate(
        channel_matches=tuple(h.match for h in hits if (h.kind, h.key) in own),
        domain=lookup.domain,
        domain_customers=tuple(domain_customers),
        documents=tuple(docs),
        mentioned_phones=tuple(h.match for h in hits if (h.kind, h.key) not in own),
        people=tuple(people),
        companies=tuple(companies),
        claims=lookup.claims,
    )


async def facts_for(crm: CrmDirectory, candidate: Candidate) -> dict[str, CustomerFacts]:
    """Facts of every customer the evidence could point at, in one lookup."""
    ids = {m.customer_id for m in candidate.channel_matches}
    ids |= {m.customer_id for m in candidate.mentioned_phones}
    ids |= set(candidate.domain_customers) | {d.customer_id for d in candidate.documents}
    ids |= {p.customer_id for p in candidate.people} | {c.customer_id for c in candidate.companies}
    return await crm.customer_facts(sorted(ids))
