"""The intake service's commands of the `careline` CLI (wired in shared/cli.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "classify-dev.jsonl"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "intake-inbound.schema.json"


def inbound_schema() -> str:
    """The JSON Schema of what publishers send (InboundMessage), as docs/ keeps it."""
    from shared.contracts import InboundMessage

    schema = InboundMessage.model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def register(app: typer.Typer) -> None:
    """Add this service's commands to the main `careline` app."""

    @app.command("intake-schema")
    def intake_schema() -> None:
        """Write the JSON Schema of inbound messages to docs/intake-inbound.schema.json."""
        SCHEMA_FILE.write_text(inbound_schema(), encoding="utf-8")
        typer.echo(f"wrote {SCHEMA_FILE}")

    @app.command("intake-language")
    def intake_language(
        corpus: Annotated[
            Path, typer.Option(help="JSONL with `language`, `subject` and `text` per line.")
        ] = DEFAULT_CORPUS,
        show_errors: Annotated[bool, typer.Option(help="List every wrong answer.")] = False,
    ) -> None:
        """Language detection accuracy of intake on a labelled corpus (ru / uk / en)."""
        from services.intake.domain import detect_language

        rows = [
            json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line
        ]
        confusion: Counter[tuple[str, str]] = Counter()
        for row in rows:
            detected, confidence = detect_language(f"{row.get('subject', '')}\n{row['text']}")
            confusion[(row["language"], detected)] += 1
            if show_errors and detected != row["language"]:
                typer.echo(f"  {row['id']}: {row['language']} -> {detected} ({confidence})")
        correct = sum(n for (want, got), n in confusion.items() if want == got)
        typer.echo(f"language accuracy: {correct}/{len(rows)} = {correct / len(rows):.1%}")
        for want in sorted({w for w, _ in confusion}):
            got = {g: n for (w, g), n in confusion.items() if w == want}
            typer.echo(f"  {want}: {got}")
