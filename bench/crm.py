"""A synthetic CRM large enough to matter: customers, contacts, channels, domains."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verifier.matching import channel_key, company_key, name_keys


@dataclass(frozen=True)
class Sender:
    kind: str  # verified | probable | unknown
    email: str
    name: str


@dataclass
class SyntheticCrm:
    customers: int
    contacts: int
    verified: list[Sender]
    probable: list[Sender]
    unknown: list[Sender]


FIRST = [
    "Андрей",
    "Ольга",
    "Тарас",
    "Олена",
    "James",
    "Emily",
    "Игорь",
    "Марина",
    "Dmytro",
    "Sarah",
    "Виктор",
    "Анна",
]
LAST = [
    "Соколов",
    "Петрова",
    "Коваленко",
    "Шевчук",
    "Miller",
    "Carter",
    "Орлов",
    "Белова",
    "Bondarenko",
    "Smith",
    "Лебедев",
    "Іваненко",
]


async def load_crm(
    database_url: str, customers: int = 10_000, per_customer: int = 3, seed: int = 7
) -> SyntheticCrm:
    """Bulk-insert the CRM (executemany, one transaction) with the search keys the verifier
    computes for its mirror (services/verifier/matching.py), then ANALYZE; returns senders."""
    rng = random.Random(seed)
    managers = [
        {"id": f"bench-am-{i}", "name": f"Manager {i}", "email": f"am{i}@careline.example"}
        for i in range(50)
    ]
    rows_customers, rows_contacts, rows_channels, rows_domains = [], [], [], []
    verified, probable = [], []
    for c in range(customers):
        cid = f"bench-c{c}"
        domain = f"company{c}.example"
        rows_customers.append(
            {
                "id": cid,
                "name": f"Company {c}",
                "tier": rng.choice(["standard", "standard", "silver", "gold", "platinum"]),
                "status": "active",
                "am": managers[c % len(managers)]["id"],
                "keys": name_keys(f"Company {c}"),
                "company_key": company_key(f"Company {c}"),
            }
        )
        rows_domains.append({"domain": domain, "customer_id": cid})
        for k in range(per_customer):
            ct = f"{cid}-p{k}"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            email = f"person{k}@{domain}"
            rows_contacts.append(
                {
                    "id": ct,
                    "customer_id": cid,
                    "name": name,
                    "role": "staff",
                    "keys": name_keys(name),
                }
            )
            rows_channels.append(
                {
                    "contact_id": ct,
                    "kind": "email",
                    "address": email,
                    "key": channel_key("email", email),
                    "verified": k != 2,
                    "source": "bench",
                }
            )
            phone = f"+7495{c:05d}{k:02d}"
            rows_channels.append(
                {
                    "contact_id": ct,
                    "kind": "phone",
                    "address": phone,
                    "key": channel_key("phone", phone),
                    "verified": True,
                    "source": "bench",
                }
            )
            if k == 0:
                verified.append(Sender("verified", email, name))
        probable.append(Sender("probable", f"someone.new@{domain}", "Новый Сотрудник"))
    unknown = [Sender("unknown", f"user{i}@gmail.com", "Stranger") for i in range(5_000)]

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO crm.account_managers (id, name, email) "
                    "VALUES (:id, :name, :email) ON CONFLICT DO NOTHING"
                ),
                managers,
            )
            await conn.execute(
                text(
                    "INSERT INTO crm.customers (id, name, tier, status, account_manager_id, "
                    "name_keys, company_key) "
                    "VALUES (:id, :name, :tier, :status, :am, :keys, :company_key) "
                    "ON CONFLICT DO NOTHING"
                ),
                rows_customers,
            )
            await conn.execute(
                text(
                    "INSERT INTO crm.domains (domain, customer_id) VALUES (:domain, :customer_id) "
                    "ON CONFLICT DO NOTHING"
                ),
                rows_domains,
            )
            await conn.execute(
                text(
                    "INSERT INTO crm.contacts (id, customer_id, name, role, name_keys) "
                    "VALUES (:id, :customer_id, :name, :role, :keys) ON CONFLICT DO NOTHING"
                ),
                rows_contacts,
            )
            await conn.execute(
                text(
                    "INSERT INTO crm.contact_channels "
                    "(contact_id, kind, address, match_key, verified, source) "
                    "VALUES (:contact_id, :kind, :address, :key, :verified, :source) "
                    "ON CONFLICT DO NOTHING"
                ),
                rows_channels,
            )
        # As after any bulk load (autovacuum would, a minute later): statistics, so the
        # planner uses the indexes, and the GIN indexes' pending lists merged, so a name
        # lookup does not scan them.
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (
                "customers",
                "contacts",
                "contact_channels",
                "domains",
                "account_managers",
            ):
                await conn.execute(text(f"VACUUM ANALYZE crm.{table}"))
    finally:
        await engine.dispose()
    return SyntheticCrm(customers, len(rows_contacts), verified, probable, unknown)
