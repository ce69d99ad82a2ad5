"""The committed AsyncAPI documents are what the code generates: the contract cannot drift."""

from __future__ import annotations

import json

import pytest

from shared.asyncapi import DOCS, documents

pytestmark = pytest.mark.unit


def test_committed_asyncapi_matches_the_code() -> None:
    for name, generated in documents().items():
        path = DOCS / f"{name}.json"
        assert path.exists(), f"{path} missing: run `careline asyncapi`"
        committed = json.loads(path.read_text(encoding="utf-8"))
        assert committed == generated, f"{path} is stale: run `careline asyncapi` and commit"


def test_every_event_contract_is_documented() -> None:
    schemas = set()
    for doc in documents().values():
        schemas |= set(doc["components"]["schemas"])
    for contract in (
        "InboundMessage",
        "MessageNormalized",
        "IdentityVerified",
        "EscalationChanged",
        "SendNotification",
        "NotificationDelivered",
        "NotificationFailed",
        "DeadLetter",
    ):
        assert contract in schemas, f"{contract} not in any AsyncAPI document"
