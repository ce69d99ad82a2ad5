"""How JSON and JSONB values are written (shared.db): UTF-8 as is, and as strict as json."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from shared.db import _json

pytestmark = pytest.mark.unit


def test_a_document_round_trips_with_its_cyrillic_as_written() -> None:
    document = {
        "text": "Добрий день! Не працює вхід — «Квітка»",
        "nested": [{"score": 0.9, "words": ["подам в суд"]}, None, True, 3],
        7: "a number key, as json.dumps wrote it",
    }
    written = _json(document)

    assert "Добрий день" in written  # not \\u0414\\u043e...
    assert json.loads(written) == json.loads(json.dumps(document))


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 3, 14, tzinfo=UTC), uuid.uuid4()],
    ids=["datetime", "uuid"],
)
def test_what_json_refused_is_refused(value: object) -> None:
    @dataclass
    class Row:
        at: object

    for wrong in ({"at": value}, Row(value)):
        with pytest.raises(TypeError):
            json.dumps(wrong)
        if isinstance(value, uuid.UUID) and isinstance(wrong, dict):
            continue  # orjson writes a UUID as its string itself, whatever the options
        with pytest.raises(TypeError):
            _json(wrong)
