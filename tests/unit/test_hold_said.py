"""The `hold` of `escalation.opened` / `escalation.updated`: a pause in the policy's words;
a sparing hold (advances naming the manager) says what it does (the deputy has the client's
cases; no answer is withheld), in the team's language (ru, uk, en)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.escalator.hold_said import hold_said
from services.escalator.listing import escalation_notes
from services.escalator.policy import load_policy
from services.escalator.revocation import revoked_update
from tests.unit.test_channel_revoked import NOW, case, revocation

pytestmark = pytest.mark.unit

RULE = next(r for r in load_policy().rules if r.id == "harassment-to-supervisor")
SPARING = {
    "rule": RULE.id,
    "reason": RULE.hold.reason if RULE.hold else {},
    "while_signals": ["harassment"],
    "since": datetime(2026, 12, 1, 9, 0, tzinfo=UTC).isoformat(),
    "message_id": str(uuid.uuid4()),
    "spares": ["am-petrova"],
    "spared_names": ["Ольга Петрова"],
    "calm_for": "P30D",
    "apology_lifts": False,
    "spares_only": True,
}
SAID = {
    "ru": (
        "Дела клиента ведёт заместитель, а не Ольга Петрова — адресат личных знаков внимания "
        "клиента; ответы клиенту не задерживаются."
    ),
    "uk": (
        "Справи клієнта веде заступник, а не Ольга Петрова — адресат особистих знаків уваги "
        "клієнта; відповіді клієнтові не затримуються."
    ),
    "en": (
        "The client's cases go to the deputy, not to Ольга Петрова, whom the client's advances "
        "named; answers to the client are not withheld."
    ),
}
PAUSE = {
    "rule": "violence-to-security",
    "reason": {"ru": "Разбирательство приостановлено до прекращения угроз.", "en": "Paused."},
    "while_signals": ["violence_threat"],
    "since": SPARING["since"],
    "message_id": SPARING["message_id"],
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_sparing_hold_says_the_deputy_has_the_cases_and_nothing_is_withheld(
    language: str,
) -> None:
    assert RULE.hold is not None and RULE.hold.spares_only  # the shipped sparing rule
    said = hold_said(SPARING, language)
    assert said == SAID[language]
    assert said != SPARING["reason"].get(language)  # not the rule's generic reason


def test_whom_it_spares_and_over_what() -> None:
    unnamed = {**SPARING, "spared_names": []}
    assert "а не его менеджер —" in (hold_said(unnamed, "ru") or "")
    assert "not to their account manager," in (hold_said(unnamed, "en") or "")
    threats = {**SPARING, "while_signals": ["violence_threat"]}
    assert "адресат угроз клиента" in (hold_said(threats, "ru") or "")
    assert "whom the client's threats named" in (hold_said(threats, "en") or "")


def test_a_pause_says_the_policy_reason_and_a_lifted_hold_nothing() -> None:
    assert hold_said(PAUSE, "ru") == PAUSE["reason"]["ru"]
    assert hold_said(PAUSE, "uk") == PAUSE["reason"]["ru"]  # the first the rule wrote
    assert hold_said({**SPARING, "lifted_at": NOW.isoformat()}, "ru") is None
    assert hold_said(None, "ru") is None


def test_a_revoke_tells_the_watchers_what_a_sparing_hold_does() -> None:
    held = replace(case("harassment", ("account_manager", "m@x")), hold=SPARING)
    update = revoked_update(held, held, revocation(), "ru", NOW)
    assert update.hold == SAID["ru"]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_careline_escalations_lists_a_sparing_hold_as_the_events_say_it(language: str) -> None:
    # `careline escalations` under a row: what the sparing hold does in the team's language,
    # standing, lifted or ended with the case, not the rule's reason (one more pause).
    standing = {"hold": SPARING, "status": "open"}
    lifted = {
        "hold": {**SPARING, "lifted_at": "2026-12-20T09:00:00+00:00", "lifted_by": "sup@x"},
        "status": "open",
    }
    ended = {"hold": SPARING, "status": "resolved"}
    (said,) = escalation_notes(standing, language)
    assert said == f"hold sparing Ольга Петрова since 2026-12-01T09:00: {SAID[language]}"
    assert said.endswith(f": {hold_said(SPARING, language)}")
    (said,) = escalation_notes(lifted, language)
    assert said.startswith("hold sparing Ольга Петрова lifted 2026-12-20T09:00 by sup@x: ")
    assert said.endswith(SAID[language])
    (said,) = escalation_notes(ended, language)
    assert said.endswith(f"ended with the resolution: {SAID[language]}")
    # A pause says the rule's reason in the team's language (the first it wrote without one).
    threats = "Разбирательство приостановлено до прекращения угроз."
    reasons = {"ru": threats, "uk": threats, "en": "Paused."}
    (pause,) = escalation_notes({"hold": PAUSE, "status": "open"}, language)
    assert pause.endswith(f": {reasons[language]}") and "sparing" not in pause
    assert escalation_notes({"hold": None, "status": "open"}, language) == []
