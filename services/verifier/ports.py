"""What the verifier needs from the CRM, whichever CRM it is (Postgres mirror, HTTP)."""

from __future__ import annotations

from typing import Protocol

from .domain import ChannelMatch, CustomerFacts


class CrmDirectory(Protocol):
    async def channel_matches(self, kind: str, address: str) -> list[ChannelMatch]:
        """Contacts that have this exact channel on file."""
        ...

    async def customers_with_domain(self, domain: str) -> list[str]:
        """Ids of customers whose corporate domain this is."""
        ...

    async def customer_facts(self, customer_id: str) -> CustomerFacts | None:
        """The customer with its account manager and authorized channels."""
        ...
