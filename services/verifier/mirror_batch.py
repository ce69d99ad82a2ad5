"""The mirror's lookups for a whole batch of messages: one query per kind of lookup.

Each query answers, for every message of the batch at once, exactly what the per-message
query of `SqlCrmDirectory` answers for that message alone: the same joins, filters, order
and limit, applied per message (`m.idx`) by joining the batch's keys as a table, or by a
lateral subquery where a per-message limit applies. The statements are built once: their
parameters are arrays, so one compiled form serves every batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, String, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import (
    ACTIVE_CUSTOMER,
    DOCUMENT_MATCH,
    contact_channels,
    contacts,
    customers,
    documents,
    domains,
    in_id_order,
)
from .domain import (
    ChannelMatch,
    CompanyOnFile,
    DocumentMatch,
    NameKeys,
    PersonOnFile,
    company_id,
    named_first,
    person_id,
)
from .ports import ChannelHit

Pairs = Sequence[tuple[str, str]]
T = TypeVar("T")


# The columns of the batch's rows: a message's index, then what it asks about.
KIND_KEY = {"idx": Integer, "kind": String, "key": String}
KEY = {"idx": Integer, "key": String}
KEY_PAIR = {"idx": Integer, "first": String, "second": String}


def _rows_table(name: str, columns: dict[str, Any]) -> Any:
    """The batch's rows as a table, from one array parameter per column (named as it)."""
    arrays = [bindparam(column, type_=ARRAY(kind)) for column, kind in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


def _rows(per_message: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """(message index, *value) for each value of each message; a value is a tuple or one."""
    return [
        (i, *(value if isinstance(value, tuple) else (value,)))
        for i, values in enumerate(per_message)
        for value in values
    ]


async def _by_message(
    session: AsyncSession,
    statement: Select[Any],
    columns: dict[str, Any],
    rows: list[tuple[Any, ...]],
    count: int,
    make: Callable[..., T],
    **extra: Any,
) -> list[list[T]]:
    """What `statement` answers for the batch's `rows`, per message, made by `make` from
    each answer row's columns after the message's index."""
    found: list[list[T]] = [[] for _ in range(count)]
    if rows:
        params = {column: [row[i] for row in rows] for i, column in enumerate(columns)}
        for idx, *values in await session.execute(statement, {**params, **extra}):
            found[idx].append(make(*values))
    return found


@cache
def _channels() -> Select[Any]:
    m = _rows_table("m", KIND_KEY)
    return (
        select(
            m.c.idx,
            contact_channels.c.kind,
            contact_channels.c.match_key,
            contacts.c.customer_id,
            contacts.c.id,
            contacts.c.name,
            contact_channels.c.verified,
        )
        .select_from(m)
        .join(
            contact_channels,
            (contact_channels.c.kind == m.c.kind) & (contact_channels.c.match_key == m.c.key),
        )
        .join(contacts, contacts.c.id == contact_channels.c.contact_id)
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(contacts.c.removed_at.is_(None), *ACTIVE_CUSTOMER)
        .order_by(m.c.idx, contacts.c.customer_id, contacts.c.id)
    )


async def channels_on_file_many(
    session: AsyncSession, per_message: Sequence[Pairs]
) -> list[list[ChannelHit]]:
    """`channels_on_file` of each message's (kind, match key) pairs."""

    def hit(kind: str, key: str, cid: str, ctid: str, name: str, verified: bool) -> ChannelHit:
        return ChannelHit(kind, key, ChannelMatch(cid, ctid, name, kind, verified))

    rows = _rows(per_message)
    return await _by_message(session, _channels(), KIND_KEY, rows, len(per_message), hit)


@cache
def _documents() -> Select[Any]:
    m = _rows_table("m", KIND_KEY)
    return (
        select(m.c.idx, *DOCUMENT_MATCH)
        .select_from(m)
        .join(documents, (documents.c.kind == m.c.kind) & (documents.c.number_key == m.c.key))
        .join(customers, customers.c.id == documents.c.customer_id)
        .where(*ACTIVE_CUSTOMER)
        .order_by(m.c.idx, documents.c.customer_id, documents.c.id)
    )


async def documents_on_file_many(
    session: AsyncSession, per_message: Sequence[Pairs]
) -> list[list[DocumentMatch]]:
    """`documents_on_file` of each message's (kind, number key) references."""
    rows = _rows(per_message)
    return await _by_message(session, _documents(), KIND_KEY, rows, len(per_message), DocumentMatch)


@cache
def _domains() -> Select[Any]:
    wanted = bindparam("domains", type_=ARRAY(String))
    return (
        select(domains.c.domain, domains.c.customer_id)
        .join(customers, customers.c.id == domains.c.customer_id)
        .where(domains.c.domain == any_(wanted), *ACTIVE_CUSTOMER)
        .order_by(domains.c.domain, domains.c.customer_id)
    )


async def customers_with_domains(
    session: AsyncSession, wanted: Sequence[str]
) -> dict[str, list[str]]:
    """`customers_with_domain` of each domain."""
    found: dict[str, list[str]] = {d: [] for d in wanted}
    if wanted:
        for domain, customer_id in await session.execute(_domains(), {"domains": list(wanted)}):
            found[domain].append(customer_id)
    return found


def _first_per_row(rows: Any, candidates: Select[Any], alias: str) -> Select[Any]:
    """For each row of `rows`, the first `limit` of `candidates` (a statement that refers to
    the row, ordered by id): (idx, the candidate's columns), by row and id."""
    found = candidates.limit(bindparam("limit", type_=Integer)).lateral(alias)
    return (
        select(rows.c.idx, *found.c)
        .select_from(rows.join(found, true()))
        .order_by(rows.c.idx, found.c.id)
    )


def _keys_per_message() -> Any:
    """Each message's name keys as one array, from parallel (index, key) arrays."""
    pairs = _rows_table("k", KEY)
    return (
        select(pairs.c.idx, func.array_agg(pairs.c.key).label("keys"))
        .group_by(pairs.c.idx)
        .subquery("m")
    )


@cache
def _people() -> Select[Any]:
    m = _keys_per_message()
    per_message = (
        select(contacts.c.customer_id, contacts.c.id, contacts.c.name)
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(
            contacts.c.name_keys.op("&&")(m.c["keys"]),
            contacts.c.removed_at.is_(None),
            *ACTIVE_CUSTOMER,
        )
        # By the id itself: a first name's keys match thousands of contacts, and walking
        # the ids finds the first few of them sooner than fetching them all (measured with
        # pg_stat_statements in the benchmark: 1.8 ms a lookup this way, 31 ms the other).
        .order_by(contacts.c.id)
    )
    return _first_per_row(m, per_message, "p")


@cache
def _paired_people() -> Select[Any]:
    """Each message's people whose name holds both keys of one of its pairs (`_people`'s
    first), up to the limit per pair; the caller keeps each message's first `limit`."""
    q = _rows_table("q", KEY_PAIR)
    # The customer looked up per contact found: joined, the planner hashes every customer
    # for each pair (about 1 ms per pair over 10,000 customers) to keep a few rows.
    active_customer = (
        select(customers.c.id)
        .where(customers.c.id == contacts.c.customer_id, *ACTIVE_CUSTOMER)
        .scalar_subquery()
    )
    per_pair = (
        select(contacts.c.customer_id, contacts.c.id, contacts.c.name)
        .where(
            contacts.c.name_keys.contains(array([q.c.first, q.c.second])),
            contacts.c.removed_at.is_(None),
            active_customer.is_not(None),
        )
        .order_by(in_id_order(contacts.c.id))  # both words match: a few rows, by the index
    )
    found = _first_per_row(q, per_pair, "p").order_by(None).distinct().subquery("d")
    return select(found).order_by(found.c.idx, found.c.id)


@cache
def _companies() -> Select[Any]:
    m = _keys_per_message()
    per_message = (
        select(customers.c.id, customers.c.name)
        .where(customers.c.name_keys.op("&&")(m.c["keys"]), *ACTIVE_CUSTOMER)
        .order_by(in_id_order(customers.c.id))
    )
    return _first_per_row(m, per_message, "c")


@cache
def _named_companies() -> Select[Any]:
    """Each message's customers whose company key is one of its own (`_companies`' first),
    up to the limit per key; the caller keeps each message's first `limit`."""
    q = _rows_table("q", KEY)
    per_key = (
        select(customers.c.id, customers.c.name)
        .where(customers.c.company_key == q.c.key, *ACTIVE_CUSTOMER)
        .order_by(in_id_order(customers.c.id))  # by the key's index, not the whole table
    )
    return _first_per_row(q, per_key, "c")


async def name_candidates_many(
    session: AsyncSession, per_message: Sequence[NameKeys], limit: int
) -> list[tuple[list[PersonOnFile], list[CompanyOnFile]]]:
    """`name_candidates` of each message's names, each with its own `limit`."""
    n = len(per_message)
    keys = _rows([names.keys for names in per_message])
    # A message without keys asks nothing (as alone), whatever pairs or company keys it has.
    asking = [names if names.keys else NameKeys() for names in per_message]
    pairs = _rows([names.pairs for names in asking])
    company_keys = _rows([names.companies for names in asking])
    sharing = await _by_message(session, _people(), KEY, keys, n, PersonOnFile, limit=limit)
    paired = await _by_message(
        session, _paired_people(), KEY_PAIR, pairs, n, PersonOnFile, limit=limit
    )
    companies = await _by_message(session, _companies(), KEY, keys, n, CompanyOnFile, limit=limit)
    named = await _by_message(
        session, _named_companies(), KEY, company_keys, n, CompanyOnFile, limit=limit
    )
    return [
        (
            named_first(paired[i], sharing[i], limit, person_id),
            named_first(named[i], companies[i], limit, company_id),
        )
        for i in range(n)
    ]
