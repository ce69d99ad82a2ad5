"""Writing the CRM mirror: import batches, the real CRM's change events, the demo CRM.

Upserts are idempotent and batched (one statement per table, not per row). Changes from
events are applied only when newer than what is on file (`updated_at`), so a late or
redelivered event never undoes a newer one; removals are tombstones for the same reason.
Channels confirmed through Careline (source "confirmation") survive the CRM's updates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, bindparam, delete, not_, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import (
    TERMS_FIELDS,
    CrmAccountManager,
    CrmContact,
    CrmCustomer,
    CrmDocument,
)

from .adapters import (
    account_managers,
    contact_channels,
    contacts,
    customers,
    documents,
    domains,
)
from .matching import channel_key, company_key, document_key, name_keys

CONFIRMED = "confirmation"


@dataclass
class CrmBatch:
    """Records to upsert together; documents carry their customer id."""

    account_managers: list[CrmAccountManager] = field(default_factory=list)
    customers: list[CrmCustomer] = field(default_factory=list)
    contacts: list[CrmContact] = field(default_factory=list)
    documents: list[tuple[str, CrmDocument]] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.account_managers)
            + len(self.customers)
            + len(self.contacts)
            + len(self.documents)
        )


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _newer(table: Any, at: datetime) -> Any:
    return or_(table.c.updated_at.is_(None), table.c.updated_at <= at)


async def apply_batch(session: AsyncSession, batch: CrmBatch, at: datetime) -> None:
    """Upsert everything in the batch, parents first, as of `at`."""
    if batch.account_managers:
        await _upsert_managers(session, batch.account_managers, at)
    if batch.customers:
        await _upsert_customers(session, batch.customers, at)
    if batch.contacts:
        await _upsert_contacts(session, batch.contacts, at)
    if batch.documents:
        await _insert_documents(session, batch.documents, at)


# The optional fields an upsert leaves as they are on file when it does not name them: a
# CRM exporter older than a field (a manager's language, a customer's or contact's time
# zone came late) would otherwise wipe it on every change, and a CSV row's empty cell is
# "not given". An explicit null still clears one. Names, emails, tiers, statuses and
# customers' documents and domains (null keeps those) are as before.
MANAGER_KEPT_WHEN_OMITTED = ("phone", "handle", "deputy_id", "language", "timezone")
CUSTOMER_KEPT_WHEN_OMITTED = ("value", "account_manager_id", "timezone")
CONTACT_KEPT_WHEN_OMITTED = ("role", "timezone")


def omitted(record: BaseModel, kept: tuple[str, ...]) -> frozenset[str]:
    """Those of the `kept` optional fields the record (or its event's JSON) left out."""
    return frozenset(name for name in kept if name not in record.model_fields_set)


async def _upsert_keeping(
    session: AsyncSession,
    table: Any,
    rows: list[tuple[frozenset[str], dict[str, Any]]],
    at: datetime,
) -> set[str]:
    """Insert or update each row, its omitted columns not written over a row on file; one
    statement per set of columns omitted (usually one: a CRM sends one shape). The ids the
    upsert applied (newer than what is on file)."""
    by_omitted: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for left_out, row in rows:
        by_omitted[left_out].append(row)
    applied: set[str] = set()
    for left_out, same in by_omitted.items():
        stmt = insert(table)
        result = await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={k: stmt.excluded[k] for k in same[0] if k != "id" and k not in left_out},
                where=_newer(table, at),
            ).returning(table.c.id),
            same,
        )
        applied |= {r[0] for r in result}
    return applied


async def _upsert_managers(
    session: AsyncSession, managers: list[CrmAccountManager], at: datetime
) -> None:
    rows = [
        (
            omitted(m, MANAGER_KEPT_WHEN_OMITTED),
            {**m.model_dump(), "email": m.email.strip().lower(), "updated_at": at},
        )
        for m in managers
    ]
    await _upsert_keeping(session, account_managers, rows, at)


async def _upsert_customers(session: AsyncSession, items: list[CrmCustomer], at: datetime) -> None:
    rows = [
        (
            omitted(c, CUSTOMER_KEPT_WHEN_OMITTED),
            {
                "id": c.id,
                "name": c.name,
                "tier": c.tier,
                "value": _decimal(c.value),
                "status": c.status,
                "account_manager_id": c.account_manager_id,
                "name_keys": name_keys(c.name),
                "company_key": company_key(c.name),
                "timezone": c.timezone,
                "updated_at": at,
                "removed_at": None,
            },
        )
        for c in items
    ]
    applied = await _upsert_keeping(session, customers, rows, at)
    changed = [c for c in items if c.id in applied]
    with_domains = [c for c in changed if c.domains is not None]
    if with_domains:
        await session.execute(
            delete(domains).where(domains.c.customer_id.in_([c.id for c in with_domains]))
        )
        pairs = {(d.strip().lower(), c.id) for c in with_domains for d in c.domains or []}
        if pairs:
            await session.execute(
                insert(domains).on_conflict_do_nothing(),
                [{"domain": d, "customer_id": cid} for d, cid in sorted(pairs)],
            )
    with_documents = [c for c in changed if c.documents is not None]
    if with_documents:
        await session.execute(
            delete(documents).where(documents.c.customer_id.in_([c.id for c in with_documents]))
        )
        docs = [(c.id, d) for c in with_documents for d in c.documents or []]
        if docs:
            await _insert_documents(session, docs, at)


async def _insert_documents(
    session: AsyncSession, docs: list[tuple[str, CrmDocument]], at: datetime
) -> None:
    rows = {
        (cid, d.kind, document_key(d.number)): {
            "customer_id": cid,
            "kind": d.kind,
            "number": d.number,
            "number_key": document_key(d.number),
            "status": d.status,
            "amount": _decimal(d.amount),
            "currency": d.currency,
            **d.model_dump(include=set(TERMS_FIELDS)),
            "updated_at": at,
        }
        for cid, d in docs
    }
    stmt = insert(documents)
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_document",
            set_={
                k: stmt.excluded[k]
                for k in ("number", "status", "amount", "currency", *TERMS_FIELDS, "updated_at")
            },
        ),
        list(rows.values()),
    )


async def _upsert_contacts(session: AsyncSession, items: list[CrmContact], at: datetime) -> None:
    rows = [
        (
            omitted(c, CONTACT_KEPT_WHEN_OMITTED),
            {
                "id": c.id,
                "customer_id": c.customer_id,
                "name": c.name,
                "role": c.role,
                "name_keys": name_keys(c.name),
                "timezone": c.timezone,
                "updated_at": at,
                "removed_at": None,
            },
        )
        for c in items
    ]
    applied = await _upsert_keeping(session, contacts, rows, at)
    changed = [c for c in items if c.id in applied]
    if not changed:
        return
    wanted = {
        (c.id, ch.kind, _address(ch.kind, ch.address)): (c.id, ch)
        for c in changed
        for ch in c.channels
    }
    # The CRM's list replaces the CRM's channels; what a client confirmed stays.
    keep = [and_(contact_channels.c.source == CONFIRMED)]
    if wanted:
        keep.append(
            tuple_(
                contact_channels.c.contact_id, contact_channels.c.kind, contact_channels.c.address
            ).in_(list(wanted))
        )
    await session.execute(
        delete(contact_channels).where(
            contact_channels.c.contact_id.in_([c.id for c in changed]), not_(or_(*keep))
        )
    )
    if wanted:
        stmt = insert(contact_channels)
        await session.execute(
            stmt.on_conflict_do_update(
                constraint="uq_contact_channel",
                set_={k: stmt.excluded[k] for k in ("verified", "source", "match_key")},
                where=contact_channels.c.source != CONFIRMED,
            ),
            [
                {
                    "contact_id": cid,
                    "kind": kind,
                    "address": address,
                    "match_key": channel_key(kind, address),
                    "verified": ch.verified,
                    "source": ch.source,
                }
                for (cid, kind, address), (_, ch) in wanted.items()
            ],
        )


def _address(kind: str, address: str) -> str:
    """How a channel is stored: as given for email (lower-cased), canonical otherwise."""
    address = address.strip()
    return address.lower() if kind == "email" else channel_key(kind, address)


async def upsert_customer(
    session: AsyncSession,
    customer: CrmCustomer,
    manager: CrmAccountManager | None,
    at: datetime,
) -> None:
    await apply_batch(
        session, CrmBatch(account_managers=[manager] if manager else [], customers=[customer]), at
    )


async def remove_customer(session: AsyncSession, customer_id: str, at: datetime) -> bool:
    """Tombstone: the customer stops counting for identity; history stays for audit."""
    result = await session.execute(
        update(customers)
        .where(customers.c.id == customer_id, _newer(customers, at))
        .values(status="inactive", removed_at=at, updated_at=at)
        .returning(customers.c.id)
    )
    return result.first() is not None


async def remove_contact(session: AsyncSession, contact_id: str, at: datetime) -> bool:
    result = await session.execute(
        update(contacts)
        .where(contacts.c.id == contact_id, _newer(contacts, at))
        .values(removed_at=at, updated_at=at)
        .returning(contacts.c.id)
    )
    return result.first() is not None


async def existing_ids(session: AsyncSession, table: Any, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(await session.scalars(select(table.c.id).where(table.c.id.in_(sorted(ids)))))


async def refresh_keys(session: AsyncSession) -> int:
    """Search keys for rows that predate them (migrations 0002, 0011) or were written by
    hand, one statement per kind of key."""
    names = [(t, t.c.name_keys, name_keys) for t in (customers, contacts)]
    count = 0
    for table, column, key_of in [*names, (customers, customers.c.company_key, company_key)]:
        rows = await session.execute(select(table.c.id, table.c.name).where(column.is_(None)))
        count += await _set_keys(session, table, column, [(i, key_of(n)) for i, n in rows])
    channels = await session.execute(
        select(contact_channels.c.id, contact_channels.c.kind, contact_channels.c.address).where(
            contact_channels.c.match_key.is_(None)
        )
    )
    keys = [(row_id, channel_key(kind, address)) for row_id, kind, address in channels]
    return count + await _set_keys(session, contact_channels, contact_channels.c.match_key, keys)


async def _set_keys(
    session: AsyncSession, table: Any, column: Any, keys: list[tuple[Any, Any]]
) -> int:
    if keys:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({column.name: bindparam("key")}),
            [{"row_id": row_id, "key": key} for row_id, key in keys],
        )
    return len(keys)


def demo_batch() -> CrmBatch:
    """The demo CRM (services/verifier/data/demo_crm.json) as one batch."""
    data = json.loads((Path(__file__).parent / "data" / "demo_crm.json").read_text("utf-8"))
    return nested_batch(data)


def nested_batch(data: dict[str, Any]) -> CrmBatch:
    """A batch from the nested form: customers holding their contacts and documents."""
    batch = CrmBatch(
        account_managers=[
            CrmAccountManager.model_validate(m) for m in data.get("account_managers", [])
        ]
    )
    for raw in data.get("customers", []):
        batch.customers.append(CrmCustomer.model_validate(raw))
        for contact in raw.get("contacts", []):
            batch.contacts.append(CrmContact.model_validate({**contact, "customer_id": raw["id"]}))
    return batch
