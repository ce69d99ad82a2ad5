"""Which contracts ride along with an identity, and how much of them. Pure.

Every directory (the mirror, the in-memory CRM, an external CRM over HTTP) hands its
contracts through `carried_contracts`, so an identity carries the same terms whichever one
answered: the active contracts only, the latest filed `MAX_CARRIED_CONTRACTS` of them, each
with at most the included services and the note length a contract may have on input.
That bounds what every IdentityVerified carries, however much a CRM keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.contracts import (
    MAX_INCLUDED_SERVICES,
    MAX_TERMS_NOTES,
    ContractTerms,
    CrmDocument,
)

MAX_CARRIED_CONTRACTS = 3
ACTIVE = "active"


def carried_contracts(contracts: Iterable[Mapping[str, Any]]) -> list[ContractTerms]:
    """The active ones of `contracts` (oldest filed first), bounded, as ContractTerms."""
    active = [c for c in contracts if c.get("status", ACTIVE) == ACTIVE]
    return [_bounded(c) for c in active[-MAX_CARRIED_CONTRACTS:]]


def _bounded(contract: Mapping[str, Any]) -> ContractTerms:
    raw = dict(contract)
    raw["included"] = list(raw.get("included") or [])[:MAX_INCLUDED_SERVICES]
    notes = raw.get("notes")
    if notes and len(notes) > MAX_TERMS_NOTES:
        raw["notes"] = notes[: MAX_TERMS_NOTES - 1] + "…"
    return ContractTerms.model_validate(raw)


def terms_of(document: CrmDocument) -> dict[str, Any]:
    """A contract document as a directory answers it (what `carried_contracts` takes)."""
    return document.model_dump(exclude={"kind"})
