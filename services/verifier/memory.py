"""The CRM held in memory as a CrmDirectory: `careline verify --crm FILE` and tests.

Built from the same records as the mirror and indexed with the same keys, so it answers
exactly as the Postgres mirror would for the same data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from shared.contracts import ChannelRef, CrmAccountManager, CustomerRef, StaffRef

from .domain import (
    ChannelMatch,
    CompanyOnFile,
    CustomerFacts,
    DocumentMatch,
    NameKeys,
    PersonOnFile,
    company_id,
    named_first,
    person_id,
)
from .matching import channel_key, company_key, document_key, name_keys
from .mirror import CrmBatch
from .ports import ChannelHit
from .terms import carried_contracts, terms_of


class InMemoryCrm:
    def __init__(self, batch: CrmBatch) -> None:
        active = {c.id: c for c in batch.customers if c.status == "active"}
        managers = {m.id: m for m in batch.account_managers}
        self.calls: list[str] = []
        self._channels: dict[tuple[str, str], list[ChannelMatch]] = defaultdict(list)
        self._domains: dict[str, list[str]] = defaultdict(list)
        self._documents: dict[tuple[str, str], list[DocumentMatch]] = defaultdict(list)
        self._people: list[tuple[set[str], PersonOnFile]] = []
        self._companies = [
            (set(name_keys(c.name)), company_key(c.name), CompanyOnFile(c.id, c.name))
            for c in active.values()
        ]
        authorized: dict[str, list[ChannelRef]] = defaultdict(list)
        contact_zones: dict[str, dict[str, str]] = defaultdict(dict)
        for contact in batch.contacts:
            if contact.customer_id not in active:
                continue
            if contact.timezone:
                contact_zones[contact.customer_id][contact.id] = contact.timezone
            person = PersonOnFile(contact.customer_id, contact.id, contact.name)
            self._people.append((set(name_keys(contact.name)), person))
            for ch in contact.channels:
                key = channel_key(ch.kind, ch.address)
                self._channels[(ch.kind, key)].append(
                    ChannelMatch(
                        contact.customer_id, contact.id, contact.name, ch.kind, ch.verified
                    )
                )
                if ch.verified:
                    address = ch.address.strip().lower() if ch.kind == "email" else key
                    authorized[contact.customer_id].append(
                        ChannelRef(kind=ch.kind, address=address, verified=True)
                    )
        documents = [(c.id, d) for c in active.values() for d in c.documents or []]
        contracts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for cid, doc in [*documents, *batch.documents]:
            if cid in active:
                if doc.kind == "contract":
                    contracts[cid].append(terms_of(doc))
                self._documents[(doc.kind, document_key(doc.number))].append(
                    DocumentMatch(cid, doc.kind, doc.number, doc.status, doc.amount, doc.currency)
                )
        self._facts = {}
        for cid, c in active.items():
            for domain in c.domains or []:
                self._domains[domain.strip().lower()].append(cid)
            m = managers.get(c.account_manager_id or "")
            self._facts[cid] = CustomerFacts(
                customer=CustomerRef(
                    id=cid,
                    name=c.name,
                    tier=c.tier,
                    timezone=c.timezone,
                    contracts=carried_contracts(contracts[cid]),
                ),
                account_manager=_staff(m, managers) if m else None,
                authorized_channels=tuple(authorized[cid]),
                contact_timezones=dict(contact_zones[cid]),
            )

    async def channels_on_file(self, keys: Sequence[tuple[str, str]]) -> list[ChannelHit]:
        self.calls.append("channels_on_file")
        return [ChannelHit(k, v, m) for k, v in keys for m in self._channels.get((k, v), [])]

    async def customers_with_domain(self, domain: str) -> list[str]:
        self.calls.append("customers_with_domain")
        return sorted(self._domains.get(domain, []))

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        self.calls.append("documents_on_file")
        return [d for ref in refs for d in self._documents.get(ref, [])]

    async def name_candidates(
        self, names: NameKeys, limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        self.calls.append("name_candidates")
        wanted = set(names.keys)
        people = [(k, p) for k, p in self._people if k & wanted]
        paired = [p for k, p in people if any(set(pair) <= k for pair in names.pairs)]
        companies = [c for keys, _, c in self._companies if keys & wanted]
        # Named by its company key whether or not a word's key is shared ("Эко Строй").
        named = [c for _, key, c in self._companies if key in names.companies]
        return (
            named_first(paired, [p for _, p in people][:limit], limit, person_id),
            named_first(named, companies[:limit], limit, company_id),
        )

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        self.calls.append("customer_facts")
        return {cid: self._facts[cid] for cid in customer_ids if cid in self._facts}


def _staff(m: CrmAccountManager, managers: dict[str, CrmAccountManager]) -> StaffRef:
    """The account manager as the identity carries them, with their deputy on file."""
    d = managers.get(m.deputy_id or "") if m.deputy_id != m.id else None
    return StaffRef(
        id=m.id,
        name=m.name,
        email=m.email,
        language=m.language,
        timezone=m.timezone,
        deputy=(
            StaffRef(
                id=d.id,
                name=d.name,
                email=d.email,
                role="deputy",
                language=d.language,
                timezone=d.timezone,
            )
            if d
            else None
        ),
    )
