"""Whoever is told in place of a staff member the client's threats (or advances) spare reads
why it is them and in which case (seed 003, passed_over.py): the head of support a climb
reaches past a threatened deputy, the stand-in of a late no's alert; in ru, uk and en."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest

from services.escalator.lifecycle import Climb, deputy_passed_over, next_climb
from services.escalator.passed_over import (
    Sparing,
    named_by,
    passed_over,
    sparings_of,
    staff_passed_over,
)
from services.escalator.policy import load_policy
from services.escalator.staff_language import of_message
from services.escalator.unclear import late_denial_alert, unclear_answers, unheld_reader
from services.notifier.domain import render, render_kind
from services.notifier.samples import SAMPLES
from shared.case_ref import case_ref
from shared.contracts import Language, SendNotification, StaffRef
from tests.unit.test_deputy_climbs import igor, of_client, threats_hold
from tests.unit.test_escalation_lifecycle import AM, HEAD
from tests.unit.test_late_denial_alert import NOW, PETROVA, late_no

pytestmark = pytest.mark.unit

POLICY = load_policy()
THREAT_CASE = uuid.UUID("6f1c2a9e-4b7d-4c3e-9a10-2d5e8b7c41a1")
OTHER_CASE = uuid.UUID("b83e5d07-91c4-4f6a-8e2b-7a0d3c9f52a2")
SOKOLOV = StaffRef(id="am-sokolov", name="Игорь Соколов", email="i.sokolov@careline.example")


def test_the_holds_say_whom_they_spare_and_in_which_case() -> None:
    threats = {"spares": ["am-petrova"], "while_signals": ["violence_threat"]}
    advances = {"spares": ["am-petrova", "am-sokolov"], "while_signals": ["harassment"]}
    lifted = {"spares": ["am-lifted"], "while_signals": [], "lifted_at": NOW.isoformat()}
    found = sparings_of(
        [(THREAT_CASE, threats), (OTHER_CASE, advances), ("x", lifted), ("y", None)]
    )
    # The first case whose hold spares them names it; a lifted hold spares nobody.
    assert found == {
        "am-petrova": Sparing(str(THREAT_CASE), "threats"),
        "am-sokolov": Sparing(str(OTHER_CASE), "advances"),
    }
    # This message's own threat: its case, advances only when harassment is all of it.
    assert named_by(THREAT_CASE, ["harassment"]).over == "advances"
    assert named_by(THREAT_CASE, ["harassment", "violence_threat"]).over == "threats"
    assert passed_over("deputy", None) is None
    assert staff_passed_over([("account_manager", "am-petrova"), ("deputy", None)], found) == [
        {"role": "account_manager", "escalation_id": str(THREAT_CASE), "over": "threats"}
    ]


def test_a_climb_past_a_spared_deputy_names_the_stand_ins_and_the_case() -> None:
    own = of_client(AM, deputy=igor(), hold=threats_hold("am-sokolov"))
    climb = next_climb(POLICY, own)
    assert climb == Climb(3, ("head_of_support",), stand_ins=("head_of_support",))
    # The escalation's own hold: its own case; another case's: that one.
    assert deputy_passed_over(own, {}) == {
        "role": "deputy",
        "escalation_id": str(own.id),
        "over": "threats",
    }
    other = of_client(AM, deputy=igor())
    spared = {"am-sokolov": Sparing(str(OTHER_CASE), "advances")}
    assert deputy_passed_over(other, spared) == {
        "role": "deputy",
        "escalation_id": str(OTHER_CASE),
        "over": "advances",
    }
    assert deputy_passed_over(other, {}) is None  # nobody spares him: nothing to say


def test_a_role_the_climb_would_tell_anyway_is_no_stand_in() -> None:
    # The head of support holds it at level 1 too: the deputy passed over, the director is
    # told at level 2 as the head's chain says, not in the deputy's place.
    e = of_client(AM, HEAD, deputy=igor(), hold=threats_hold("am-sokolov"))
    assert next_climb(POLICY, e) == Climb(2, ("director",))
    # A deputy spared by nobody: no stand-ins either.
    assert next_climb(POLICY, of_client(AM, deputy=igor())).stand_ins == ()  # type: ignore[union-attr]


LINES = {
    "ru": {
        "deputy": "Вам, а не заместителю менеджера клиента: клиент угрожал ему в деле {ref}.",
        "advances": "Вам, а не менеджеру клиента: клиент оказывал ему личные знаки внимания в "
        "деле {ref}.",
        "late_no": "Вам, а не менеджеру клиента: клиент угрожал ему в деле {ref}.",
    },
    "uk": {
        "deputy": "Вам, а не заступникові менеджера клієнта: клієнт погрожував йому у справі "
        "{ref}.",
        "advances": "Вам, а не менеджерові клієнта: клієнт виявляв йому особисті знаки уваги у "
        "справі {ref}.",
        "late_no": "Вам, а не менеджерові клієнта: клієнт погрожував йому у справі {ref}.",
    },
    "en": {
        "deputy": "To you, not the account manager's deputy: the client threatened them in case "
        "{ref}.",
        "advances": "To you, not the client's account manager: the client made advances to them "
        "in case {ref}.",
        "late_no": "To you, not the client's account manager: the client threatened them in "
        "case {ref}.",
    },
}


NONE_ON_FILE = {
    "ru": "(в CRM он не указан)",
    "uk": "(у CRM його не вказано)",
    "en": "(none on file)",
}


def _said(line: str) -> str:
    return line.format(ref=case_ref(THREAT_CASE))


def _read(html: str | None) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html or ""))


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_climbs_stand_in_reads_why_it_is_them_in_their_language(language: str) -> None:
    data = dict(SAMPLES["re_escalation"])
    deputy = {"role": "deputy", "escalation_id": str(THREAT_CASE), "over": "threats"}
    manager = {"role": "account_manager", "escalation_id": str(THREAT_CASE), "over": "advances"}
    for item, line in ((deputy, "deputy"), (manager, "advances")):
        rendered = render_kind("re_escalation", language, {**data, "passed_over": [item]})
        assert _said(LINES[language][line]) in rendered.body
        assert _said(LINES[language][line]) in _read(rendered.html)
        # The subject (the first line) is the climb's, as before.
        assert case_ref(THREAT_CASE) not in rendered.subject
    # Nobody passed over (and requests of before): no such line.
    plain = render_kind("re_escalation", language, data)
    assert case_ref(THREAT_CASE) not in plain.body
    assert all(_said(line)[:12] not in plain.body for line in LINES[language].values())


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_late_no_goes_past_a_spared_manager_and_says_why(language: Language) -> None:
    manager = PETROVA.model_copy(
        update={"deputy": SOKOLOV.model_copy(update={"language": language})}
    )
    verified = late_no("Это не мы!", manager=manager)
    (answer,) = unclear_answers(verified.identity)
    languages = of_message(POLICY, verified.identity)
    sparings = {"am-petrova": Sparing(str(THREAT_CASE), "threats")}

    alert = late_denial_alert(POLICY, verified, answer, languages, NOW, sparings, sparings)

    assert isinstance(alert, SendNotification)
    assert (alert.recipient_role, alert.recipient, alert.language) == (
        "deputy",
        SOKOLOV.email,
        language,
    )
    assert alert.data["stand_in_for"] == "threatened_account_manager"
    rendered = render(alert)
    assert _said(LINES[language]["late_no"]) in rendered.body
    assert _said(LINES[language]["late_no"]) in _read(rendered.html)
    # Not "(none on file)": a manager is on file, and spared.
    assert NONE_ON_FILE[language] not in rendered.body
    # Spared by the message alone (no case known to spare her): past her all the same.
    past = late_denial_alert(POLICY, verified, answer, languages, NOW, {"am-petrova"})
    assert past is not None and past.recipient == SOKOLOV.email
    assert past.data["passed_over"] == []
    # Not spared: the manager reads it, as before.
    theirs = late_denial_alert(POLICY, verified, answer, languages, NOW)
    assert theirs is not None and theirs.recipient == PETROVA.email
    assert theirs.data["passed_over"] == [] and theirs.data["stand_in_for"] is None


def test_a_spared_deputy_too_passes_the_late_no_to_the_head_of_support() -> None:
    manager = PETROVA.model_copy(update={"deputy": SOKOLOV})
    threats = Sparing(str(THREAT_CASE), "threats")
    spared = {"am-petrova": threats, "am-sokolov": threats}
    role, address, why = unheld_reader(POLICY, manager, spared, spared) or ("", "", {})
    assert (role, address) == ("head_of_support", POLICY.address("head_of_support"))
    assert why["stand_in_for"] == "threatened_deputy"
    assert [p["role"] for p in why["passed_over"]] == ["account_manager", "deputy"]
