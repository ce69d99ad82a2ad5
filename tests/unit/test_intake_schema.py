"""The documented JSON Schema of inbound messages is the one the code validates with."""

from __future__ import annotations

import pytest

from services.intake.cli import SCHEMA_FILE, inbound_schema

pytestmark = pytest.mark.unit


def test_documented_inbound_schema_matches_the_contract() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == inbound_schema(), (
        "docs/intake-inbound.schema.json is stale: run `careline intake-schema`"
    )
