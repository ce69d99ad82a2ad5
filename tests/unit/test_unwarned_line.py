"""When a rule warns and no conduct notice could go (a chat, a phone), staff are told the
client got no warning in writing and how to record theirs (careline warned), in a single
notice and a digest, in ru, uk and en; otherwise nothing is said."""

from __future__ import annotations

import pytest

from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES
from shared.case_ref import case_ref

pytestmark = pytest.mark.unit

ESCALATION = "5b0c2b6a-0d7e-5c55-9d2f-2f9c1a0b3c4d"
# The command is said with the reference a person types (the CLI takes either).
REF = case_ref(ESCALATION)
SAID = {
    "ru": "Письменного предупреждения клиент не получил (сообщение пришло не по электронной почте)",
    "uk": "Письмового попередження клієнт не отримав (повідомлення надійшло не електронною поштою)",
    "en": "The client got no warning in writing (the message did not come by email)",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_notice_says_the_client_is_unwarned_and_how_to_record_a_warning(language: str) -> None:
    data = {**SAMPLES["manager_escalation"], "unwarned": ESCALATION}

    rendered = render_kind("manager_escalation", language, data)

    for text in (rendered.body, rendered.html or ""):
        assert SAID[language] in text and f"careline warned {REF}" in text
    plain = render_kind("manager_escalation", language, SAMPLES["manager_escalation"])
    assert SAID[language] not in plain.body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_digest_says_it_beside_the_escalation(language: str) -> None:
    digest = SAMPLES["staff_digest"]
    first, *rest = digest["escalations"]
    data = {**digest, "escalations": [{**first, "unwarned": ESCALATION}, *rest]}

    rendered = render_kind("staff_digest", language, data)

    assert rendered.body.count(SAID[language]) == 1
    assert f"careline warned {REF}" in (rendered.html or "")
