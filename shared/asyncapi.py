"""The published contract: one AsyncAPI document per service, generated from the code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faststream import FastStream

DOCS = Path(__file__).resolve().parent.parent / "docs" / "asyncapi"


def documents() -> dict[str, dict[str, Any]]:
    from services.escalator.app import build_app as escalator
    from services.intake.app import build_app as intake
    from services.notifier.app import build_app as notifier
    from services.verifier.app import build_app as verifier

    apps: dict[str, Callable[[], FastStream]] = {
        "intake": intake,
        "verifier": verifier,
        "escalator": escalator,
        "notifier": notifier,
    }
    out = {}
    for name, build in apps.items():
        spec = build().schema.to_specification()
        out[name] = json.loads(spec.to_json())
    return out


def write_documents(directory: Path = DOCS) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in documents().items():
        path = directory / f"{name}.json"
        path.write_text(
            json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written
