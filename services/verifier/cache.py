"""CRM lookups kept between messages for as long as the mirror stays the same.

Most of a message's cost in the verifier is asking the mirror about names, customers and
domains that earlier messages asked about too. Each message first reads the mirror's
version stamp (`crm.mirror_version`, changed in the same transaction by every statement
that writes a mirror table: the crm.* consumers, imports, confirmations, an operator's
SQL). Cached answers are used, and new ones kept, only under the version that message
read: after any change the cache starts empty, so a removed contact or an unverified
channel never outlives the change. Versions come from a sequence, so the version a rolled
back transaction saw never comes back.

The messages of one batch transaction share one version: `prefetch` reads it once and
asks the mirror, one query per kind of lookup, everything the batch's messages will ask
(services/verifier/mirror_batch.py); their own lookups are then answered from the cache.
A write to the mirror in that transaction (a confirmed channel linked) ends the shared
version (`forget_batch_version`): the messages after it read the version themselves again.

Answers are immutable values (frozen dataclasses and models) shared between messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import mirror_batch
from .adapters import SqlCrmDirectory, metadata
from .domain import CompanyOnFile, CustomerFacts, DocumentMatch, NameKeys, PersonOnFile
from .lookup import Lookup, facts_for, gather
from .ports import ChannelHit, CrmDirectory
from .settings import MatchingRules

mirror_version = Table(
    "mirror_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


# The mirror's committed version, and the writes of the reader's own transaction.
Version = tuple[int, str]


class MirrorCache:
    """Answers of the mirror under one version; at most `max_entries` of them."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self.version: Version | None = None
        self.entries: dict[Hashable, Any] = {}

    def at(self, version: Version) -> None:
        """A message read `version`: answers kept under another one are dropped."""
        if version != self.version:
            self.version = version
            self.entries = {}

    def get(self, version: Version, key: Hashable) -> Any:
        return self.entries.get(key) if version == self.version else None

    def put(self, version: Version, key: Hashable, value: Any) -> None:
        if version != self.version:
            return  # another message moved the cache on meanwhile: keep nothing stale
        if len(self.entries) >= self.max_entries:
            self.entries = {}
        self.entries[key] = value


class CachedDirectory:
    """A CrmDirectory that answers from the cache under the version its message read."""

    def __init__(self, inner: CrmDirectory, cache: MirrorCache, version: Version) -> None:
        self.inner = inner
        self.cache = cache
        self.version = version

    async def _cached(self, key: Hashable, ask: Callable[[], Any]) -> Any:
        found = self.cache.get(self.version, key)
        if found is None:
            found = await ask()
            self.cache.put(self.version, key, found)
        return found

    async def channels_on_file(self, keys: Sequence[tuple[str, str]]) -> list[ChannelHit]:
        key = _channels_key(keys)
        return list(await self._cached(key, lambda: self.inner.channels_on_file(keys)))

    async def customers_with_domain(self, domain: str) -> list[str]:
        key = ("domain", domain)
        return list(await self._cached(key, lambda: self.inner.customers_with_domain(domain)))

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        key = _documents_key(refs)
        return list(await self._cached(key, lambda: self.inner.documents_on_file(refs)))

    async def name_candidates(
        self, names: NameKeys, limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        people, companies = await self._cached(
            ("names", names, limit), lambda: self.inner.name_candidates(names, limit)
        )
        return list(people), list(companies)

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        found: dict[str, CustomerFacts] = {}
        missing = []
        for customer_id in customer_ids:
            facts = self.cache.get(self.version, ("facts", customer_id))
            if facts is None:
                missing.append(customer_id)
            elif facts is not _NONE:
                found[customer_id] = facts
        if missing:
            fresh = await self.inner.customer_facts(missing)
            for customer_id in missing:
                facts = fresh.get(customer_id)
                self.cache.put(self.version, ("facts", customer_id), facts or _NONE)
                if facts is not None:
                    found[customer_id] = facts
        return found


_NONE = object()  # a customer not on file (removed or unknown): remembered as such


def _channels_key(keys: Sequence[tuple[str, str]]) -> Hashable:
    return ("channels", tuple(keys))


def _documents_key(refs: Sequence[tuple[str, str]]) -> Hashable:
    return ("documents", tuple(refs))


# The committed version, and how many mirror writes this transaction made itself.
_VERSION = select(
    mirror_version.c.version,
    func.coalesce(func.current_setting("crm.mirror_writes", True), ""),
)


_BATCH_VERSION = "crm.mirror_version"


async def _read_version(session: AsyncSession, cache: MirrorCache) -> Version:
    shared: Version | None = session.info.get(_BATCH_VERSION)
    if shared is not None:
        return shared
    committed, own_writes = (await session.execute(_VERSION)).one()
    version = (int(committed), str(own_writes))
    cache.at(version)
    return version


def forget_batch_version(session: AsyncSession) -> None:
    """The transaction wrote the mirror: its next lookups read the version again."""
    session.info.pop(_BATCH_VERSION, None)


class CachedMirror:
    """A directory factory for VerifierService: the Postgres mirror behind `cache`."""

    def __init__(self, cache: MirrorCache) -> None:
        self.cache = cache

    @asynccontextmanager
    async def __call__(self, session: AsyncSession) -> AsyncIterator[CrmDirectory]:
        version = await _read_version(session, self.cache)
        yield CachedDirectory(SqlCrmDirectory(session), self.cache, version)

    async def prefetch(
        self, session: AsyncSession, lookups: Sequence[Lookup], rules: MatchingRules
    ) -> None:
        """Everything these messages will ask the mirror, one query per kind, into the cache.

        The version read here serves the rest of the transaction's messages (until it
        writes the mirror itself)."""
        forget_batch_version(session)
        version = await _read_version(session, self.cache)
        session.info[_BATCH_VERSION] = version
        cache, sql = self.cache, SqlCrmDirectory(session)

        def missing(keys: list[Any]) -> list[int]:
            seen: set[Hashable] = set()
            wanted = []
            for i, key in enumerate(keys):
                if key not in seen and cache.get(version, key) is None:
                    seen.add(key)
                    wanted.append(i)
            return wanted

        channels = [[*lk.sender_channels, *lk.mentioned_phones] for lk in lookups]
        wanted = missing([_channels_key(c) for c in channels])
        answers = await mirror_batch.channels_on_file_many(session, [channels[i] for i in wanted])
        for i, hits in zip(wanted, answers, strict=True):
            cache.put(version, _channels_key(channels[i]), hits)

        domains = sorted({lk.domain for lk in lookups if lk.domain})
        domains = [d for d in domains if cache.get(version, ("domain", d)) is None]
        for domain, ids in (await mirror_batch.customers_with_domains(session, domains)).items():
            cache.put(version, ("domain", domain), ids)

        wanted = missing([_documents_key(lk.documents) for lk in lookups])
        refs = [lookups[i].documents for i in wanted]
        found_docs = await mirror_batch.documents_on_file_many(session, refs)
        for i, docs in zip(wanted, found_docs, strict=True):
            cache.put(version, _documents_key(lookups[i].documents), docs)

        limit = rules.max_name_candidates
        wanted = missing([("names", lk.names, limit) for lk in lookups])
        names = [lookups[i].names for i in wanted]
        found = await mirror_batch.name_candidates_many(session, names, limit)
        for names_of, candidates in zip(names, found, strict=True):
            cache.put(version, ("names", names_of, limit), candidates)

        # The customers all that evidence points at: their facts in one lookup too.
        directory = _Collecting(sql, cache, version)
        for lookup in lookups:
            await facts_for(directory, await gather(directory, lookup, rules))
        if directory.customers:  # kept in the cache, under this version
            await CachedDirectory(sql, cache, version).customer_facts(sorted(directory.customers))


class _Collecting(CachedDirectory):
    """Answers from the cache; notes the customers whose facts would be asked for."""

    def __init__(self, inner: CrmDirectory, cache: MirrorCache, version: Version) -> None:
        super().__init__(inner, cache, version)
        self.customers: set[str] = set()

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        self.customers.update(customer_ids)
        return {}
