"""An external CRM over HTTP as a CrmDirectory (`VERIFIER_CRM_URL`); API in docs/crm.md.

Same batched shape as the mirror: one request per kind of lookup. A transport failure or
a 5xx is retryable (the message is redelivered later); a 4xx is a permanent error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import ChannelRef, CustomerRef, StaffRef
from shared.errors import PermanentError, RetryableError

from .domain import (
    ChannelMatch,
    CompanyOnFile,
    CustomerFacts,
    DocumentMatch,
    NameKeys,
    PersonOnFile,
)
from .ports import ChannelHit, CrmDirectory
from .terms import carried_contracts


class HttpCrmDirectory:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise RetryableError(f"CRM unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise RetryableError(f"CRM answered {response.status_code} to {path}")
        if response.status_code >= 400:
            raise PermanentError(f"CRM refused {method} {path}: {response.status_code}")
        return response.json()

    async def channels_on_file(self, keys: Sequence[tuple[str, str]]) -> list[ChannelHit]:
        if not keys:
            return []
        data = await self._call(
            "POST", "/v1/lookup/channels", {"keys": [{"kind": k, "key": v} for k, v in keys]}
        )
        return [
            ChannelHit(
                h["kind"],
                h["key"],
                ChannelMatch(
                    h["customer_id"], h["contact_id"], h["contact_name"], h["kind"], h["verified"]
                ),
            )
            for h in data["hits"]
        ]

    async def customers_with_domain(self, domain: str) -> list[str]:
        data = await self._call("GET", f"/v1/domains/{quote(domain)}/customers")
        return sorted(data["customer_ids"])

    async def documents_on_file(self, refs: Sequence[tuple[str, str]]) -> list[DocumentMatch]:
        if not refs:
            return []
        data = await self._call(
            "POST",
            "/v1/lookup/documents",
            {"refs": [{"kind": k, "number_key": n} for k, n in refs]},
        )
        return [
            DocumentMatch(
                d["customer_id"],
                d["kind"],
                d["number"],
                d.get("status"),
                d.get("amount"),
                d.get("currency"),
            )
            for d in data["documents"]
        ]

    async def name_candidates(
        self, names: NameKeys, limit: int
    ) -> tuple[list[PersonOnFile], list[CompanyOnFile]]:
        if not names.keys:
            return [], []
        body = {
            "keys": list(names.keys),
            "pairs": [list(p) for p in names.pairs],
            "company_keys": list(names.companies),
            "limit": limit,
        }
        data = await self._call("POST", "/v1/lookup/names", body)
        return (
            [PersonOnFile(p["customer_id"], p["contact_id"], p["name"]) for p in data["people"]],
            [CompanyOnFile(c["customer_id"], c["name"]) for c in data["companies"]],
        )

    async def customer_facts(self, customer_ids: Sequence[str]) -> dict[str, CustomerFacts]:
        if not customer_ids:
            return {}
        data = await self._call("POST", "/v1/lookup/customers", {"ids": sorted(set(customer_ids))})
        facts = {}
        for c in data["customers"]:
            manager = c.get("account_manager")
            facts[c["id"]] = CustomerFacts(
                customer=CustomerRef(
                    id=c["id"],
                    name=c["name"],
                    tier=c.get("tier", "standard"),
                    timezone=c.get("timezone"),
                    contracts=carried_contracts(c.get("contracts") or []),
                ),
                account_manager=StaffRef(**manager) if manager else None,
                authorized_channels=tuple(
                    ChannelRef(kind=ch["kind"], address=ch["address"], verified=True)
                    for ch in c.get("authorized_channels", [])
                ),
                contact_timezones=dict(c.get("contact_timezones") or {}),
            )
        return facts


def http_directory(
    base_url: str, timeout: float
) -> Callable[[AsyncSession], AbstractAsyncContextManager[CrmDirectory]]:
    """A directory factory for VerifierService: one HTTP client per message."""

    @asynccontextmanager
    async def open_directory(session: AsyncSession) -> AsyncIterator[CrmDirectory]:
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
            yield HttpCrmDirectory(client)

    return open_directory
