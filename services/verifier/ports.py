"""What the verifier needs from the CRM, whichever CRM it is (Postgres mirror, HTTP).

Each method takes every key of one message at once: a message costs a fixed number of
lookups, never one per identifier, number or name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .domain import (
    ChannelMatch,
    CompanyOnFile,
    CustomerFacts,
    DocumentMatch,
    NameKeys,
    PersonOnFile,
)


@dataclass(frozen=True)
class ChannelHit:
    """A channel on file found for the lookup key (kind, key)."""

    kind: str
    key: str
    match: ChannelMatch


class CrmDirectory(Protocol):
    async def channels_on_file(self, keys: Sequence[tuple[str, str]]) -> list[ChannelHit]:
        """Contacts of active customers with a channel of these (kind, match key) pairs."""
        ...

    async def customers_with_domain(self, domain: str) -> list[str]:
        """Ids of active customers whose corporate domain this is."""
        ...

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        """Documents of active customers with these (kind, number key) pairs."""
        ...

    async def name_candidates(
        self, names: NameKeys, limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        """Contacts and customers whose name shares a search key (matching.name_keys).

        At most `limit` of each, each by id after those named closely: people whose name
        keys hold both keys of one of the pairs (matching.name_key_pairs), customers whose
        company key (matching.company_key) is one of the message's."""
        ...

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        """The customers with their account manager and authorized (verified) channels."""
        ...
