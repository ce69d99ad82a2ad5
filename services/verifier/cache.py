"""CRM lookups kept between messages for as long as the mirror stays the same.

Most of a message's cost in the verifier is asking the mirror about names, customers and
domains that earlier messages asked about too. Each message first reads the mirror's
version stamp (`crm.mirror_version`, changed in the same transaction by every statement
that writes a mirror table: the crm.* consumers, imports, confirmations, an operator's
SQL). Cached answers are used, and new ones kept, only under the version that message
read: after any change the cache starts empty, so a removed contact or an unverified
channel never outlives the change. Versions come from a sequence, so the version a rolled
back transaction saw never comes back.

Answers are immutable values (frozen dataclasses and models) shared between messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import SqlCrmDirectory, metadata
from .domain import CompanyOnFile, CustomerFacts, DocumentMatch, PersonOnFile
from .ports import ChannelHit, CrmDirectory

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
        key = ("channels", tuple(keys))
        return list(await self._cached(key, lambda: self.inner.channels_on_file(keys)))

    async def customers_with_domain(self, domain: str) -> list[str]:
        key = ("domain", domain)
        return list(await self._cached(key, lambda: self.inner.customers_with_domain(domain)))

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        key = ("documents", tuple(refs))
        return list(await self._cached(key, lambda: self.inner.documents_on_file(refs)))

    async def name_candidates(
        self, keys: Sequence[str], limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        people, companies = await self._cached(
            ("names", tuple(keys), limit), lambda: self.inner.name_candidates(keys, limit)
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


# The committed version, and how many mirror writes this transaction made itself.
_VERSION = select(
    mirror_version.c.version,
    func.coalesce(func.current_setting("crm.mirror_writes", True), ""),
)


def cached_mirror(
    cache: MirrorCache,
) -> Callable[[AsyncSession], AbstractAsyncContextManager[CrmDirectory]]:
    """A directory factory for VerifierService: the Postgres mirror behind `cache`."""

    @asynccontextmanager
    async def directory(session: AsyncSession) -> AsyncIterator[CrmDirectory]:
        committed, own_writes = (await session.execute(_VERSION)).one()
        version = (int(committed), str(own_writes))
        cache.at(version)
        yield CachedDirectory(SqlCrmDirectory(session), cache, version)

    return directory
