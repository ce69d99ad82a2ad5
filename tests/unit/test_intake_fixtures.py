"""Raw emails as real clients write them (tests/fixtures/emails/*.eml), each normalized
through intake's public entry point and checked field by field against its
<name>.expected.json.

A fixture is read as bytes. A source that is valid UTF-8 travels as `raw_email` (the str a
publisher sends); one with 8-bit bytes of a legacy charset (KOI8-R, windows-1251) cannot be
a JSON string, so it travels as `raw_email_base64`, as a publisher would send it. The
surrogate-escaped str form of the same bytes must normalize identically.

Expected files pin only what a fixture is about: a key that is absent is not checked
(e.g. `language` for a surzhyk message). Keys:
  from_email, display_name, subject, text, signature, language, external_id, thread_id,
  in_reply_to: exact values;
  quoted_contains: phrases the quoted history must contain (`quoted_text` if it must be
  exactly that, e.g. "");
  auth: {spf, dkim, dmarc}, as believed from the fixtures' own MX (mx.careline.example,
  the demo's authserv-id);
  entities: the exact list of [kind, value] in text order (each span must cut out text that
  belongs to the entity);
  attachments: the exact list of [filename, content_type];
  story: what the fixture is, for the reader.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.intake.domain import Normalized, extract_entities, normalize, split_reply
from services.intake.entities import ENTITY_CHARS, MAX_ENTITIES
from services.intake.mail import unflow
from shared.contracts import InboundMessage
from shared.settings import DEMO_AUTHSERV_ID

pytestmark = pytest.mark.unit

TRUSTED = frozenset({DEMO_AUTHSERV_ID})
FIXTURES = Path(__file__).parent.parent / "fixtures" / "emails"
SOURCES = sorted(FIXTURES.glob("*.eml"))
KNOWN_KEYS = {
    "story", "from_email", "display_name", "subject", "text", "signature", "language",
    "external_id", "thread_id", "in_reply_to", "quoted_contains", "quoted_text", "auth",
    "entities", "attachments",
}  # fmt: skip


def expected_of(source: Path) -> dict[str, Any]:
    expected: dict[str, Any] = json.loads(
        source.with_suffix(".expected.json").read_text(encoding="utf-8")
    )
    unknown = set(expected) - KNOWN_KEYS
    assert not unknown, f"{source.name}: unknown keys in expected file: {sorted(unknown)}"
    return expected


def inbound_of(data: bytes) -> InboundMessage:
    try:
        return InboundMessage(channel="email", raw_email=data.decode("utf-8"))
    except UnicodeDecodeError:
        return InboundMessage(
            channel="email", raw_email_base64=base64.b64encode(data).decode("ascii")
        )


def actual_fields(n: Normalized) -> dict[str, Any]:
    return {
        "from_email": n.sender.email,
        "display_name": n.sender.display_name,
        "subject": n.subject,
        "text": n.text,
        "signature": n.signature,
        "language": n.language,
        "external_id": n.external_id,
        "thread_id": n.thread_id,
        "in_reply_to": n.in_reply_to,
        "quoted_text": n.quoted_text,
        "auth": {"spf": n.auth.spf, "dkim": n.auth.dkim, "dmarc": n.auth.dmarc},
        "entities": [[e.kind, e.value] for e in n.entities],
        "attachments": [[a.filename, a.content_type] for a in n.attachments],
    }


def mismatches(expected: dict[str, Any], n: Normalized) -> list[str]:
    actual = actual_fields(n)
    problems = []
    for key, want in expected.items():
        if key in ("story", "quoted_contains"):
            continue
        got = actual[key]
        if got != want:
            problems.append(f"{key}:\n    expected {want!r}\n    got      {got!r}")
    for phrase in expected.get("quoted_contains", []):
        if phrase not in n.quoted_text:
            problems.append(
                f"quoted_text: expected to contain {phrase!r}\n    got {n.quoted_text!r}"
            )
    return problems


def test_there_are_enough_fixtures() -> None:
    assert len(SOURCES) >= 25
    for source in SOURCES:
        assert source.with_suffix(".expected.json").is_file(), f"{source.name} has no expected"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_email_fixture_normalizes_to_expected_fields(source: Path) -> None:
    expected = expected_of(source)
    data = source.read_bytes()

    normalized = normalize(inbound_of(data), authserv_ids=TRUSTED)

    problems = mismatches(expected, normalized)
    assert not problems, f"{source.name}:\n  " + "\n  ".join(problems)
    # Every entity's span cuts its own words out of the clean text.
    for entity in normalized.entities:
        assert 0 <= entity.start < entity.end <= len(normalized.text), entity
    # The str form of the same bytes (8-bit kept as surrogate escapes) is the same message.
    as_str = InboundMessage(channel="email", raw_email=data.decode("utf-8", "surrogateescape"))
    assert normalize(as_str, authserv_ids=TRUSTED) == normalized


# --- guards for the parsing fixes the fixtures led to ----------------------------------


def test_a_client_sentence_like_a_the_bat_header_is_not_history() -> None:
    fresh, quoted, _ = split_reply(
        "You wrote on Monday that it would be fixed by now:\n> the fix is ready\nIt is not."
    )
    assert fresh.startswith("You wrote on Monday"), fresh
    assert quoted == "> the fix is ready"


def test_a_year_is_no_duration_but_years_still_are() -> None:
    values = [(e.kind, e.value) for e in extract_entities("все счета за 2024 год, клиент 3 года")]
    assert values == [("date", "P3Y")]


def test_format_flowed_keeps_hard_breaks_signature_and_quote_depth() -> None:
    flowed = "one \ntwo\n-- \nsig\n> q1 \n> q2\n>> deep \n>> er\n"
    assert unflow(flowed) == "one two\n-- \nsig\n> q1 q2\n>> deep er\n"
    assert unflow("wo\u00adrd \nbreak", delsp=True) == "wo\u00adrdbreak"


def test_a_pasted_statement_yields_the_first_entities_it_names_only() -> None:
    """Thousands of invoice numbers (a pasted statement) would travel in every event after
    intake and be looked up by the verifier: the first MAX_ENTITIES, in text order."""
    text = " ".join(f"счёт № {4000 + i} оплачен;" for i in range(1_000))
    found = extract_entities(text)
    assert len(found) == MAX_ENTITIES
    assert [e.value for e in found[:2]] == ["4000", "4001"]
    assert found == sorted(found, key=lambda e: e.start)


@pytest.mark.timeout(10)
def test_only_the_first_characters_of_a_huge_message_are_read_for_entities() -> None:
    """A hang guard, not a speed goal: a pasted 500 kB statement took 5 s of intake's batch
    (900 kB are accepted); entities come from the first ENTITY_CHARS characters."""
    head = "Счёт № 4512 оплачен, звоните +7 495 123-45-67. "
    filler = "строка выписки без номеров; " * 40_000
    found = extract_entities(head + filler + "счёт № 9999, тел. +7 495 765-43-21")
    assert [(e.kind, e.value) for e in found] == [("invoice", "4512"), ("phone", "+74951234567")]
    assert all(e.end <= ENTITY_CHARS for e in found)


def test_a_number_the_limit_falls_in_is_not_read_cut_short() -> None:
    """The limit cuts before the word it falls in: «счёт № 45123» cut after «451» would be
    invoice 451, another client's document."""
    head = "x " * ((ENTITY_CHARS - len("счёт № 451")) // 2)
    text = head + "счёт № 45123 оплачен"
    assert len(head) + len("счёт № 451") <= ENTITY_CHARS < len(head) + len("счёт № 45123")
    assert [e.value for e in extract_entities(text)] == []
    assert [e.value for e in extract_entities("счёт № 45123 оплачен")] == ["45123"]
