"""The CRM mirror (schema `crm`): its tables and the directory the verifier reads.

Every lookup takes all the keys of one message at once, so a message costs the same few
queries however many identifiers, numbers and names it carries (no N+1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy import Float as SqlFloat
from sqlalchemy.dialects.postgresql import (
    ARRAY,
    JSONB,
    UUID,
    Insert,
    aggregate_order_by,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import (
    TERMS_FIELDS,
    ChannelRef,
    CustomerRef,
    Evidence,
    Identity,
    StaffRef,
)
from shared.outbox import processed_table

from .domain import (
    STAFF_ONLY_VALUES,
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
from .ports import ChannelHit
from .terms import ACTIVE, MAX_CARRIED_CONTRACTS, carried_contracts

TZ = DateTime(timezone=True)
metadata = MetaData(schema="crm")
account_managers = Table(
    "account_managers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("email", String, nullable=False),
    Column("phone", String),
    Column("handle", String),
    Column("deputy_id", String),
    Column("language", String),  # ru | uk | en (CrmAccountManager.language); NULL: none said
    Column("timezone", String),  # migration 0027; NULL: the team's clock
    Column("updated_at", TZ),
)
# The account managers once more, as the deputies of those a customer has.
deputies = account_managers.alias("deputies")
customers = Table(
    "customers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("tier", String, nullable=False),
    Column("value", Numeric(18, 2)),
    Column("status", String, nullable=False),
    Column("account_manager_id", String, ForeignKey("crm.account_managers.id")),
    Column("name_keys", ARRAY(String)),
    Column("company_key", String),  # matching.company_key; NULL: not computed yet
    Column("timezone", String),
    Column("updated_at", TZ),
    Column("removed_at", TZ),
)
contacts = Table(
    "contacts",
    metadata,
    Column("id", String, primary_key=True),
    Column("customer_id", String, ForeignKey("crm.customers.id"), nullable=False),
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),
    Column("name_keys", ARRAY(String)),
    Column("timezone", String),
    Column("updated_at", TZ),
    Column("removed_at", TZ),
)
contact_channels = Table(
    "contact_channels",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("contact_id", String, ForeignKey("crm.contacts.id"), nullable=False),
    Column("kind", String, nullable=False),
    Column("address", String, nullable=False),
    Column("match_key", String),
    Column("verified", Boolean, nullable=False),
    Column("source", String, nullable=False),
    Column("added_at", TZ),
)
domains = Table(
    "domains",
    metadata,
    Column("domain", String, primary_key=True),
    Column("customer_id", String, ForeignKey("crm.customers.id"), primary_key=True),
)
documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", String, ForeignKey("crm.customers.id"), nullable=False),
    Column("kind", String, nullable=False),
    Column("number", String, nullable=False),
    Column("number_key", String, nullable=False),
    Column("status", String, nullable=False),
    Column("amount", Numeric(18, 2)),
    Column("currency", String),
    # A contract's terms (migration 0009); other kinds leave them empty.
    Column("plan", String),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("included", JSONB, nullable=False, server_default="[]"),
    Column("notes", Text),
    Column("updated_at", TZ),
)
identity_decisions = Table(
    "identity_decisions",
    metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("status", String, nullable=False),
    Column("confidence", SqlFloat, nullable=False),
    Column("customer_id", String),
    Column("contact_id", String),
    Column("disclosure", String),
    Column("confirmation_id", UUID(as_uuid=True)),
    Column("evidence", JSONB, nullable=False),
    Column("decided_at", TZ, nullable=False),
)
confirmations = Table(
    "confirmations",
    metadata,
    Column("confirmation_id", UUID(as_uuid=True), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False),
    Column("correlation_id", String, nullable=False),
    Column("customer_id", String, ForeignKey("crm.customers.id"), nullable=False),
    Column("contact_id", String),
    Column("channel_kind", String, nullable=False),
    Column("channel_address", String, nullable=False),
    Column("match_key", String, nullable=False),
    Column("claimed_name", String),
    Column("code", String, nullable=False),
    Column("status", String, nullable=False),
    Column("requested_at", TZ, nullable=False),
    Column("expires_at", TZ, nullable=False),
    Column("resolved_at", TZ),
    Column("resolved_via", String),
    Column("resolved_by_message_id", UUID(as_uuid=True)),
    Column("linked_contact_id", String),
)
confirmation_log = Table(
    "confirmation_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("confirmation_id", UUID(as_uuid=True)),
    Column("entry", String, nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("at", TZ, nullable=False),
)
processed = processed_table(metadata)

# A customer the lookups may point at (here and in mirror_batch): active, not removed.
ACTIVE_CUSTOMER = (customers.c.status == "active", customers.c.removed_at.is_(None))
# A document as `DocumentMatch` takes it, in its fields' order (here and in mirror_batch).
DOCUMENT_MATCH = (
    documents.c.customer_id,
    documents.c.kind,
    documents.c.number,
    documents.c.status,
    documents.c.amount,
    documents.c.currency,
)


def in_id_order(id_column: Any) -> Any:
    """ORDER BY an id, written so that PostgreSQL does not walk the id's index to get it.

    With a LIMIT and a `name_keys && ...` filter whose matches it cannot estimate, the
    planner walked the primary key in order and filtered every row: when nothing matched,
    the whole table per message (EXPLAIN ANALYZE with the benchmark's CRM: 1.9 ms a message
    over 10,000 customers, and growing with the CRM). Ordered by an expression it finds the
    few rows through the GIN index on name_keys and sorts them: the same order, a few index
    pages. Right where matches are few (company names, company keys, both words of a
    person's name); not for a person's single key, which a first name shares with
    thousands (see mirror_batch._people).
    """
    return id_column.op("||")(literal_column("''"))


def _people_where(names_match: Any) -> Any:
    """Active contacts of active customers whose name keys match, as name candidates."""
    return (
        select(contacts.c.customer_id, contacts.c.id, contacts.c.name)
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(names_match, contacts.c.removed_at.is_(None), *ACTIVE_CUSTOMER)
    )


def _companies_where(names_match: Any) -> Any:
    """Active customers whose name keys match, as name candidates."""
    return select(customers.c.id, customers.c.name).where(names_match, *ACTIVE_CUSTOMER)


class SqlCrmDirectory:
    """The Postgres mirror as a CrmDirectory: one query per kind of lookup."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def channels_on_file(self, keys: Sequence[tuple[str, str]]) -> list[ChannelHit]:
        if not keys:
            return []
        rows = await self.session.execute(
            select(
                contact_channels.c.kind,
                contact_channels.c.match_key,
                contacts.c.customer_id,
                contacts.c.id,
                contacts.c.name,
                contact_channels.c.verified,
            )
            .join(contacts, contacts.c.id == contact_channels.c.contact_id)
            .join(customers, customers.c.id == contacts.c.customer_id)
            .where(
                tuple_(contact_channels.c.kind, contact_channels.c.match_key).in_(list(keys)),
                contacts.c.removed_at.is_(None),
                *ACTIVE_CUSTOMER,
            )
            .order_by(contacts.c.customer_id, contacts.c.id)
        )
        return [
            ChannelHit(kind, key, ChannelMatch(cid, ctid, name, kind, verified))
            for kind, key, cid, ctid, name, verified in rows
        ]

    async def customers_with_domain(self, domain: str) -> list[str]:
        rows = await self.session.scalars(
            select(domains.c.customer_id)
            .join(customers, customers.c.id == domains.c.customer_id)
            .where(domains.c.domain == domain, *ACTIVE_CUSTOMER)
            .order_by(domains.c.customer_id)
        )
        return list(rows)

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        if not refs:
            return []
        rows = await self.session.execute(
            select(*DOCUMENT_MATCH)
            .join(customers, customers.c.id == documents.c.customer_id)
            .where(
                tuple_(documents.c.kind, documents.c.number_key).in_(list(refs)),
                *ACTIVE_CUSTOMER,
            )
            .order_by(documents.c.customer_id, documents.c.id)
        )
        return [DocumentMatch(*row) for row in rows]

    async def name_candidates(
        self, names: NameKeys, limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        if not names.keys:
            return [], []
        paired = []
        if names.pairs:
            rows = await self.session.execute(
                _people_where(or_(*(contacts.c.name_keys.contains(list(p)) for p in names.pairs)))
                .order_by(in_id_order(contacts.c.id))  # a few rows: both words match
                .limit(limit)
            )
            paired = [PersonOnFile(cid, ctid, name) for cid, ctid, name in rows]
        sharing = await self.session.execute(
            _people_where(contacts.c.name_keys.overlap(list(names.keys)))
            .order_by(contacts.c.id)  # see mirror_batch._people
            .limit(limit)
        )
        people = [PersonOnFile(cid, ctid, name) for cid, ctid, name in sharing]
        named = []
        if names.companies:
            rows = await self.session.execute(
                _companies_where(customers.c.company_key.in_(list(names.companies)))
                .order_by(in_id_order(customers.c.id))
                .limit(limit)
            )
            named = [CompanyOnFile(cid, name) for cid, name in rows]
        companies = await self.session.execute(
            _companies_where(customers.c.name_keys.overlap(list(names.keys)))
            .order_by(in_id_order(customers.c.id))
            .limit(limit)
        )
        return (
            named_first(paired, people, limit, person_id),
            named_first(
                named, [CompanyOnFile(cid, name) for cid, name in companies], limit, company_id
            ),
        )

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        if not customer_ids:
            return {}
        ids = sorted(set(customer_ids))
        rows = (await self.session.execute(_customer_facts(), {"ids": ids})).mappings()
        channels = await self.session.execute(_authorized_channels(), {"ids": ids})
        by_customer: dict[str, list[ChannelRef]] = {}
        for cid, kind, address in channels:
            by_customer.setdefault(cid, []).append(
                ChannelRef(kind=kind, address=address, verified=True)
            )
        return {row["id"]: _facts(row, by_customer.get(row["id"], [])) for row in rows}


# Built once: a statement object used again skips building its subqueries and SQLAlchemy's
# cache-key walk (most of a lookup's CPU), and an array parameter keeps one compiled form
# whatever the number of customers.
@cache
def _customer_facts() -> Select[Any]:
    return (
        select(
            customers.c.id,
            customers.c.name,
            customers.c.tier,
            customers.c.account_manager_id,
            customers.c.timezone,
            _contact_zones(),
            _contracts(),
            account_managers.c.name.label("am_name"),
            account_managers.c.email.label("am_email"),
            account_managers.c.language.label("am_language"),
            account_managers.c.timezone.label("am_timezone"),
            deputies.c.id.label("deputy_id"),
            deputies.c.name.label("deputy_name"),
            deputies.c.email.label("deputy_email"),
            deputies.c.language.label("deputy_language"),
            deputies.c.timezone.label("deputy_timezone"),
        )
        .outerjoin(account_managers, account_managers.c.id == customers.c.account_manager_id)
        # The manager's deputy rides along: the escalator knows them as a person (a threat
        # naming them, the cases a threatened manager is spared).
        .outerjoin(
            deputies,
            (deputies.c.id == account_managers.c.deputy_id)
            & (deputies.c.id != account_managers.c.id),
        )
        .where(customers.c.id == any_(bindparam("ids", type_=ARRAY(String))))
    )


@cache
def _authorized_channels() -> Select[Any]:
    return (
        select(contacts.c.customer_id, contact_channels.c.kind, contact_channels.c.address)
        .join(contacts, contacts.c.id == contact_channels.c.contact_id)
        .where(
            contacts.c.customer_id == any_(bindparam("ids", type_=ARRAY(String))),
            contacts.c.removed_at.is_(None),
            contact_channels.c.verified.is_(True),
        )
        .order_by(contact_channels.c.id)
    )


def _contact_zones() -> Any:
    # Contacts' own zones ride along with their customer's row: no extra query per message.
    return (
        select(func.jsonb_object_agg(contacts.c.id, contacts.c.timezone))
        .where(
            contacts.c.customer_id == customers.c.id,
            contacts.c.removed_at.is_(None),
            contacts.c.timezone.is_not(None),
        )
        .scalar_subquery()
        .label("contact_zones")
    )


def _contracts() -> Any:
    # The customer's latest active contracts ride along too, with their terms: staff weigh
    # a demand against them in the fact pack. The LIMIT bounds the row; the rest of the
    # bounding is carried_contracts', shared with the other directories.
    latest = (
        select(
            documents.c.id,
            documents.c.number,
            documents.c.status,
            documents.c.amount,
            documents.c.currency,
            *(documents.c[name] for name in TERMS_FIELDS),
        )
        .where(
            documents.c.customer_id == customers.c.id,
            documents.c.kind == "contract",
            documents.c.status == ACTIVE,
        )
        .order_by(documents.c.id.desc())
        .limit(MAX_CARRIED_CONTRACTS)
        .correlate(customers)
        .subquery("latest_contracts")
    )
    terms = func.jsonb_build_object(
        "number",
        latest.c.number,
        "status",
        latest.c.status,
        "amount",
        cast(latest.c.amount, String),
        "currency",
        latest.c.currency,
        *(part for name in TERMS_FIELDS for part in (name, latest.c[name])),
    )
    return (
        select(func.jsonb_agg(aggregate_order_by(terms, latest.c.id)))
        .scalar_subquery()
        .label("contracts")
    )


def _facts(row: Any, channels: list[ChannelRef]) -> CustomerFacts:
    manager = None
    if row["account_manager_id"] and row["am_email"]:
        deputy = None
        if row["deputy_id"] and row["deputy_email"]:
            deputy = StaffRef(
                id=row["deputy_id"],
                name=row["deputy_name"],
                email=row["deputy_email"],
                role="deputy",
                language=row["deputy_language"],
                timezone=row["deputy_timezone"],
            )
        manager = StaffRef(
            id=row["account_manager_id"],
            name=row["am_name"],
            email=row["am_email"],
            language=row["am_language"],
            timezone=row["am_timezone"],
            deputy=deputy,
        )
    return CustomerFacts(
        customer=CustomerRef(
            id=row["id"],
            name=row["name"],
            tier=row["tier"],
            timezone=row["timezone"],
            contracts=carried_contracts(row["contracts"] or []),
        ),
        account_manager=manager,
        authorized_channels=tuple(channels),
        contact_timezones=row["contact_zones"] or {},
    )


def decision_row(message_id: Any, identity: Identity, at: datetime) -> dict[str, Any]:
    """The row of `identity_decisions` that records a message's identity and evidence."""
    return {
        "message_id": message_id,
        "status": identity.status,
        "confidence": identity.confidence,
        "customer_id": identity.customer.id if identity.customer else None,
        "contact_id": identity.contact.id if identity.contact else None,
        "disclosure": identity.disclosure,
        "confirmation_id": (
            identity.confirmation.confirmation_id if identity.confirmation else None
        ),
        "evidence": [_with_ids_only(e) for e in identity.evidence],
        "decided_at": at,
    }


def _with_ids_only(evidence: Evidence) -> dict[str, Any]:
    # The record is kept for good, past any content horizon (docs/retention.md): it names
    # the contact and the customer by id, and the mirror has their names, as they are now.
    said = evidence.model_dump(mode="json")
    said["values"] = {k: v for k, v in evidence.values.items() if k not in STAFF_ONLY_VALUES}
    return said


async def record_decisions(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Decisions in one statement; one already on file (a redelivery) stays as it is."""
    await session.execute(_new_decisions(), rows)


@cache
def _new_decisions() -> Insert:
    return insert(identity_decisions).on_conflict_do_nothing()
