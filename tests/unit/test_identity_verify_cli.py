"""`careline verify FILE --crm CRM`: the decision with its evidence, offline, for a support lead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.verifier.mirror import demo_batch
from shared.cli import app
from tests.unit.test_identity_cases import CASES, message

pytestmark = pytest.mark.unit


def crm_file(path: Path) -> Path:
    """The demo CRM written in the import format (docs/crm.md)."""
    batch = demo_batch()
    lines = [
        {"record": "account_manager", **m.model_dump(mode="json")} for m in batch.account_managers
    ]
    lines += [{"record": "customer", **c.model_dump(mode="json")} for c in batch.customers]
    lines += [{"record": "contact", **c.model_dump(mode="json")} for c in batch.contacts]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    return path


def test_verify_prints_each_decision_with_its_evidence(tmp_path: Path) -> None:
    messages = tmp_path / "messages.jsonl"
    chosen = ["seed-000-ceo", "exact-verified-email", "known-address-dmarc-fail"]
    messages.write_text(
        "".join(message(CASES[name]).model_dump_json() + "\n" for name in chosen), "utf-8"
    )

    result = CliRunner().invoke(
        app, ["verify", str(messages), "--crm", str(crm_file(tmp_path / "crm.jsonl"))]
    )

    assert result.exit_code == 0, result.output
    blocks = result.output.split("line ")[1:]
    assert [b.split(": ")[1].split()[0] for b in blocks] == ["probable", "verified", "suspicious"]
    seed = blocks[0]
    assert "customer ООО «СтройМонтаж» (cust-stroymontazh); contact ct-sokolov" in seed
    assert "account manager o.petrova@careline.example" in seed
    for kind in ("corporate_domain", "document", "signature_name", "company_name"):
        assert kind in seed
    assert "authentication_failed" in blocks[2]


def test_verify_as_json_and_bad_lines(tmp_path: Path) -> None:
    messages = tmp_path / "messages.jsonl"
    messages.write_text(
        message(CASES["phone-in-signature"]).model_dump_json() + '\n{"channel": 1}\n', "utf-8"
    )

    result = CliRunner().invoke(
        app, ["verify", str(messages), "--json", "--crm", str(crm_file(tmp_path / "c.jsonl"))]
    )

    assert result.exit_code == 1
    first = json.loads(result.stdout.splitlines()[0])
    assert first["identity"]["status"] == "probable"
    assert first["identity"]["evidence"][0]["kind"] == "mentioned_phone"
    assert "line 2: not a MessageNormalized" in result.stderr
