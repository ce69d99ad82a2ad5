"""The CRM mirror (schema `crm`): tables, the directory the verifier reads, the importer."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    MetaData,
    String,
    Table,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import ChannelRef, CustomerRef, Identity, StaffRef
from shared.outbox import processed_table

from .domain import ChannelMatch, CustomerFacts

metadata = MetaData(schema="crm")
account_managers = Table(
    "account_managers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("email", String, nullable=False),
    Column("phone", String),
    Column("deputy_id", String),
)
customers = Table(
    "customers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("tier", String, nullable=False),
    Column("status", String, nullable=False),
    Column("account_manager_id", String, ForeignKey("crm.account_managers.id")),
)
contacts = Table(
    "contacts",
    metadata,
    Column("id", String, primary_key=True),
    Column("customer_id", String, ForeignKey("crm.customers.id"), nullable=False),
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),
)
contact_channels = Table(
    "contact_channels",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("contact_id", String, ForeignKey("crm.contacts.id"), nullable=False),
    Column("kind", String, nullable=False),
    Column("address", String, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("source", String, nullable=False),
)
domains = Table(
    "domains",
    metadata,
    Column("domain", String, primary_key=True),
    Column("customer_id", String, ForeignKey("crm.customers.id"), primary_key=True),
)
identity_decisions = Table(
    "identity_decisions",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("status", String, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("customer_id", String),
    Column("evidence", JSONB, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
processed = processed_table(metadata)


class SqlCrmDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def channel_matches(self, kind: str, address: str) -> list[ChannelMatch]:
        rows = await self.session.execute(
            select(
                contacts.c.customer_id,
                contacts.c.id,
                contacts.c.name,
                contact_channels.c.kind,
                contact_channels.c.verified,
            )
            .join(contacts, contacts.c.id == contact_channels.c.contact_id)
            .join(customers, customers.c.id == contacts.c.customer_id)
            .where(
                contact_channels.c.kind == kind,
                contact_channels.c.address == address,
                customers.c.status == "active",
            )
        )
        return [ChannelMatch(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def customers_with_domain(self, domain: str) -> list[str]:
        rows = await self.session.scalars(
            select(domains.c.customer_id)
            .join(customers, customers.c.id == domains.c.customer_id)
            .where(domains.c.domain == domain, customers.c.status == "active")
            .order_by(domains.c.customer_id)
        )
        return list(rows)

    async def customer_facts(self, customer_id: str) -> CustomerFacts | None:
        row = (
            (
                await self.session.execute(
                    select(
                        customers,
                        account_managers.c.name.label("am_name"),
                        account_managers.c.email.label("am_email"),
                    )
                    .outerjoin(
                        account_managers, account_managers.c.id == customers.c.account_manager_id
                    )
                    .where(customers.c.id == customer_id)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        channels = await self.session.execute(
            select(contact_channels.c.kind, contact_channels.c.address)
            .join(contacts, contacts.c.id == contact_channels.c.contact_id)
            .where(contacts.c.customer_id == customer_id, contact_channels.c.verified.is_(True))
            .order_by(contact_channels.c.id)
        )
        manager = None
        if row["account_manager_id"]:
            manager = StaffRef(
                id=row["account_manager_id"], name=row["am_name"], email=row["am_email"]
            )
        return CustomerFacts(
            customer=CustomerRef(id=row["id"], name=row["name"], tier=row["tier"]),
            account_manager=manager,
            authorized_channels=tuple(
                ChannelRef(kind=k, address=a, verified=True) for k, a in channels
            ),
        )


async def record_decision(
    session: AsyncSession, message_id: Any, identity: Identity, at: datetime
) -> None:
    await session.execute(
        insert(identity_decisions)
        .values(
            message_id=message_id,
            status=identity.status,
            confidence=identity.confidence,
            customer_id=identity.customer.id if identity.customer else None,
            evidence=[e.model_dump(mode="json") for e in identity.evidence],
            decided_at=at,
        )
        .on_conflict_do_nothing()
    )


async def upsert_crm(session: AsyncSession, data: dict[str, Any]) -> None:
    """Idempotent upsert of account managers, customers, contacts, channels and domains."""
    for am in data.get("account_managers", []):
        values = {k: am.get(k) for k in ("id", "name", "email", "phone", "deputy_id")}
        await session.execute(
            insert(account_managers)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
            )
        )
    for cust in data.get("customers", []):
        values = {
            "id": cust["id"],
            "name": cust["name"],
            "tier": cust.get("tier", "standard"),
            "status": cust.get("status", "active"),
            "account_manager_id": cust.get("account_manager_id"),
        }
        await session.execute(
            insert(customers)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
            )
        )
        for domain in cust.get("domains", []):
            await session.execute(
                insert(domains)
                .values(domain=domain.lower(), customer_id=cust["id"])
                .on_conflict_do_nothing()
            )
        for contact in cust.get("contacts", []):
            cvalues = {
                "id": contact["id"],
                "customer_id": cust["id"],
                "name": contact["name"],
                "role": contact.get("role", ""),
            }
            await session.execute(
                insert(contacts)
                .values(**cvalues)
                .on_conflict_do_update(
                    index_elements=["id"], set_={k: v for k, v in cvalues.items() if k != "id"}
                )
            )
            for ch in contact.get("channels", []):
                await session.execute(
                    insert(contact_channels)
                    .values(
                        contact_id=contact["id"],
                        kind=ch["kind"],
                        address=normalize_address(ch["kind"], ch["address"]),
                        verified=bool(ch.get("verified", False)),
                        source=ch.get("source", "crm"),
                    )
                    .on_conflict_do_update(
                        constraint="uq_contact_channel",
                        set_={
                            "verified": bool(ch.get("verified", False)),
                            "source": ch.get("source", "crm"),
                        },
                    )
                )


def normalize_address(kind: str, address: str) -> str:
    address = address.strip()
    if kind == "email":
        return address.lower()
    if kind == "handle":
        return address.lower() if address.startswith("@") else "@" + address.lower()
    return address


def demo_crm() -> dict[str, Any]:
    path = Path(__file__).parent / "data" / "demo_crm.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
