"""`careline classify` (the offline contract) and `careline classify-eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.escalator.detection import detect
from services.escalator.detection.batch import classify_row, guess_language
from shared.cli import app
from shared.contracts import Signal, SignalEvidence

pytestmark = pytest.mark.unit

runner = CliRunner()


def test_classify_writes_one_line_per_input_with_evidence() -> None:
    lines = [
        {"id": "a", "text": "Подам на вас в суд!", "channel": "chat"},
        {"id": 7, "text": "How do I export contacts?", "language": "en", "subject": ""},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"

    result = runner.invoke(app, ["classify", "-"], input=stdin)

    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7]
    assert out[0]["language"] == "ru" and out[1]["language"] == "en"
    assert [s["name"] for s in out[0]["signals"]] == ["legal_threat"]
    evidence = out[0]["signals"][0]["evidence"][0]
    assert set(evidence) == {"start", "end", "text", "rule"}
    assert lines[0]["text"][evidence["start"] : evidence["end"]] == evidence["text"]
    assert out[1]["signals"] == []


def test_classify_reads_a_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "x", "text": "Ви ідіоти"}) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["classify", str(source)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signals"][0]["name"] == "abuse"


@pytest.mark.parametrize("line", ['{"text": "no id"}', "not json"])
def test_classify_names_the_bad_line(line: str) -> None:
    result = runner.invoke(app, ["classify", "-"], input='{"id": 1, "text": "ok"}\n' + line)

    assert result.exit_code != 0
    assert "line 2" in result.output


def test_classify_eval_prints_per_signal_and_averages(tmp_path: Path) -> None:
    labelled = tmp_path / "gold.jsonl"
    rows = [
        {"id": "1", "text": "Подам в суд", "labels": ["legal_threat"]},
        {"id": "2", "text": "Спасибо!", "labels": ["panic"]},
    ]
    labelled.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")

    result = runner.invoke(app, ["classify-eval", str(labelled), "--errors"])

    assert result.exit_code == 0, result.output
    table = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    assert table["legal_threat"][:3] == ["1.00", "1.00", "1.00"]
    assert table["panic"][:3] == ["1.00", "0.00", "0.00"]
    assert "micro" in table and "macro" in table
    assert "missed  panic" in result.stdout


@pytest.mark.parametrize(
    ("text", "language"),
    [("Привіт, як справи?", "uk"), ("Привет, как дела?", "ru"), ("Hello there", "en")],
)
def test_a_row_without_language_gets_one_from_its_script(text: str, language: str) -> None:
    assert guess_language(text) == language
    assert classify_row({"id": 1, "text": text})["language"] == language


class RecordingOpinion:
    """A second opinion that withdraws abuse and records what it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, Signal | None]] = []

    def reconsider(
        self, signal: str, text: str, language: str | None, found: Signal | None
    ) -> Signal | None:
        self.seen.append((signal, language, found))
        return None


class AssertingOpinion:
    def reconsider(
        self, signal: str, text: str, language: str | None, found: Signal | None
    ) -> Signal | None:
        evidence = SignalEvidence(start=0, end=len(text), text=text, rule="model.panic")
        return Signal(name=signal, score=0.7, evidence=[evidence])


def test_a_second_opinion_sees_the_lexicon_verdict_and_may_withdraw_it() -> None:
    opinion = RecordingOpinion()

    signals = detect("Вы идиоты", language="ru", opinions={"abuse": opinion})

    assert signals == []
    assert [(s, lang, f.name if f else None) for s, lang, f in opinion.seen] == [
        ("abuse", "ru", "abuse")
    ]


def test_a_second_opinion_may_assert_a_signal_with_its_own_evidence() -> None:
    signals = detect("all quiet", opinions={"panic": AssertingOpinion()})

    assert [(s.name, s.evidence[0].rule) for s in signals] == [("panic", "model.panic")]
