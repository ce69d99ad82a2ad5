"""The mirror's lookups for a whole batch of messages: one query per kind of lookup.

Each query answers, for every message of the batch at once, exactly what the per-message
query of `SqlCrmDirectory` answers for that message alone: the same joins, filters, order
and limit, applied per message (`m.idx`) by joining the batch's keys as a table, or by a
lateral subquery where a per-message limit applies. The statements are built once: their
parameters are arrays, so one compiled form serves every batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, String, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import (
    ACTIVE_CUSTOMER,
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


def _pairs_table(name: str) -> Any:
    """The batch's (message index, kind, key) rows, from three parallel arrays."""
    return (
        func.unnest(
            bindparam("idx", type_=ARRAY(Integer)),
            bindparam("kinds", type_=ARRAY(String)),
            bindparam("keys", type_=ARRAY(String)),
        )
        .table_valued("idx", "kind", "key")
        .render_derived(name=name)
    )


def _pair_params(per_message: Sequence[Pairs]) -> dict[str, list[Any]]:
    rows = [(i, kind, key) for i, pairs in enumerate(per_message) for kind, key in pairs]
    return {
        "idx": [i for i, _, _ in rows],
        "kinds": [k for _, k, _ in rows],
        "keys": [key for _, _, key in rows],
    }


@cache
def _channels() -> Select[Any]:
    m = _pairs_table("m")
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
    found: list[list[ChannelHit]] = [[] for _ in per_message]
    params = _pair_params(per_message)
    if not params["idx"]:
        return found
    for idx, kind, key, cid, ctid, name, verified in await session.execute(_channels(), params):
        found[idx].append(ChannelHit(kind, key, ChannelMatch(cid, ctid, name, kind, verified)))
    return found


@cache
def _documents() -> Select[Any]:
    m = _pairs_table("m")
    return (
        select(m.c.idx, documents.c.customer_id, documents.c.kind, documents.c.number)
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
    found: list[list[DocumentMatch]] = [[] for _ in per_message]
    params = _pair_params(per_message)
    if not params["idx"]:
        return found
    for idx, cid, kind, number in await session.execute(_documents(), params):
        found[idx].append(DocumentMatch(cid, kind, number))
    return found


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


def _keys_per_message() -> Any:
    """Each message's name keys as one array, from parallel (index, key) arrays."""
    pairs = (
        func.unnest(bindparam("idx", type_=ARRAY(Integer)), bindparam("keys", type_=ARRAY(String)))
        .table_valued("idx", "key")
        .render_derived(name="k")
    )
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
        .limit(bindparam("limit", type_=Integer))
        .lateral("p")
    )
    return (
        select(m.c.idx, per_message.c.customer_id, per_message.c.id, per_message.c.name)
        .select_from(m.join(per_message, true()))
        .order_by(m.c.idx, per_message.c.id)
    )


@cache
def _paired_people() -> Select[Any]:
    """Each message's people whose name holds both keys of one of its pairs (`_people`'s
    first), up to the limit per pair; the caller keeps each message's first `limit`."""
    q = (
        func.unnest(
            bindparam("pidx", type_=ARRAY(Integer)),
            bindparam("first", type_=ARRAY(String)),
            bindparam("second", type_=ARRAY(String)),
        )
        .table_valued("idx", "first", "second")
        .render_derived(name="q")
    )
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
        .limit(bindparam("limit", type_=Integer))
        .lateral("p")
    )
    found = (
        select(q.c.idx, per_pair.c.customer_id, per_pair.c.id, per_pair.c.name)
        .select_from(q.join(per_pair, true()))
        .distinct()
        .subquery("d")
    )
    return select(found).order_by(found.c.idx, found.c.id)


@cache
def _companies() -> Select[Any]:
    m = _keys_per_message()
    per_message = (
        select(customers.c.id, customers.c.name)
        .where(customers.c.name_keys.op("&&")(m.c["keys"]), *ACTIVE_CUSTOMER)
        .order_by(in_id_order(customers.c.id))
        .limit(bindparam("limit", type_=Integer))
        .lateral("c")
    )
    return (
        select(m.c.idx, per_message.c.id, per_message.c.name)
        .select_from(m.join(per_message, true()))
        .order_by(m.c.idx, per_message.c.id)
    )


@cache
def _named_companies() -> Select[Any]:
    """Each message's customers whose company key is one of its own (`_companies`' first),
    up to the limit per key; the caller keeps each message's first `limit`."""
    q = (
        func.unnest(
            bindparam("cidx", type_=ARRAY(Integer)), bindparam("ckeys", type_=ARRAY(String))
        )
        .table_valued("idx", "key")
        .render_derived(name="q")
    )
    per_key = (
        select(customers.c.id, customers.c.name)
        .where(customers.c.company_key == q.c.key, *ACTIVE_CUSTOMER)
        .order_by(in_id_order(customers.c.id))  # by the key's index, not the whole table
        .limit(bindparam("limit", type_=Integer))
        .lateral("c")
    )
    return (
        select(q.c.idx, per_key.c.id, per_key.c.name)
        .select_from(q.join(per_key, true()))
        .order_by(q.c.idx, per_key.c.id)
    )


async def name_candidates_many(
    session: AsyncSession, per_message: Sequence[NameKeys], limit: int
) -> list[tuple[list[PersonOnFile], list[CompanyOnFile]]]:
    """`name_candidates` of each message's names, each with its own `limit`."""
    found: list[tuple[list[PersonOnFile], list[CompanyOnFile]]] = [([], []) for _ in per_message]
    rows = [(i, key) for i, names in enumerate(per_message) for key in names.keys]
    if not rows:
        return found
    params = {"idx": [i for i, _ in rows], "keys": [k for _, k in rows], "limit": limit}
    sharing: list[list[PersonOnFile]] = [[] for _ in per_message]
    for idx, cid, ctid, name in await session.execute(_people(), params):
        sharing[idx].append(PersonOnFile(cid, ctid, name))
    paired: list[list[PersonOnFile]] = [[] for _ in per_message]
    pairs = [(i, p) for i, names in enumerate(per_message) if names.keys for p in names.pairs]
    if pairs:
        params_of_pairs = {
            "pidx": [i for i, _ in pairs],
            "first": [a for _, (a, _) in pairs],
            "second": [b for _, (_, b) in pairs],
            "limit": limit,
        }
        for idx, cid, ctid, name in await session.execute(_paired_people(), params_of_pairs):
            paired[idx].append(PersonOnFile(cid, ctid, name))
    companies: list[list[CompanyOnFile]] = [[] for _ in per_message]
    for idx, cid, name in await session.execute(_companies(), params):
        companies[idx].append(CompanyOnFile(cid, name))
    named: list[list[CompanyOnFile]] = [[] for _ in per_message]
    keys = [(i, k) for i, names in enumerate(per_message) if names.keys for k in names.companies]
    if keys:
        params_of_keys = {
            "cidx": [i for i, _ in keys],
            "ckeys": [k for _, k in keys],
            "limit": limit,
        }
        for idx, cid, name in await session.execute(_named_companies(), params_of_keys):
            named[idx].append(CompanyOnFile(cid, name))
    for idx in range(len(per_message)):
        found[idx][0].extend(named_first(paired[idx], sharing[idx], limit, person_id))
        found[idx][1].extend(named_first(named[idx], companies[idx], limit, company_id))
    return found
