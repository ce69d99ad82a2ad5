"""Whose clock a staff notice's times are on (acceptance run: Emily Carter, London, read
her deadlines in MSK): its reader's own when the CRM gives one, else the team's."""

from __future__ import annotations

import pytest

from services.escalator.detection import detect
from services.escalator.notifications import staff_notifications
from services.escalator.policy import evaluate
from services.escalator.staff_language import staff_languages
from services.notifier.domain import render
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import demo_batch
from shared.contracts import Language, StaffRef
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

CARTER = StaffRef(
    id="am-carter",
    name="Emily Carter",
    email="e.carter@careline.example",
    language="en",
    timezone="Europe/London",
)
FAILURE: dict[Language, str] = {
    "ru": "Выгрузка отчётов не работает со вчерашнего дня, все файлы пустые.",
    "uk": "Ви обіцяли виправити експорт до п'ятниці, а він досі не працює.",
    "en": "You promised to fix the export by Friday and it still does not work.",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_manager_in_london_reads_the_deadline_on_her_clock(language: Language) -> None:
    """The team's clock is Moscow's (UTC+3); London's in March is GMT (UTC+0)."""
    manager = CARTER.model_copy(update={"language": language})
    verified = verified_message(
        message(FAILURE[language], language=language), identity("verified", manager=manager)
    )
    (decision,) = [
        d
        for d in evaluate(POLICY, detect(FAILURE[language]), verified.identity)
        if "account_manager" in d.rule.roles
    ][:1]
    event = escalation(decision, verified)

    notes = staff_notifications(POLICY, decision, event, verified)

    (hers,) = [n for n in notes if n.recipient == CARTER.email]
    others = [n for n in notes if n.recipient != CARTER.email]
    assert hers.data["reader_timezone"] == "Europe/London"
    deadline = event.ack_deadline
    body = render(hers).body
    assert f"{deadline:%Y-%m-%d %H:%M} GMT" in body and " MSK" not in body
    assert others  # the rule's other roles read the team's clock (Moscow, UTC+3)
    for other in others:
        assert "reader_timezone" not in other.data
        assert " MSK" in render(other).body


def test_staff_languages_carry_the_crms_clock() -> None:
    languages = staff_languages(POLICY, CARTER.model_dump(), None)
    assert languages.zone_of("E.Carter@careline.example") == "Europe/London"
    assert languages.zone_of("o.petrova@careline.example") is None


async def test_the_demo_crm_gives_carter_london_and_the_kyiv_managers_kyiv() -> None:
    facts = await InMemoryCrm(demo_batch()).customer_facts(
        ["cust-northwind", "cust-kvitka", "cust-stroymontazh"]
    )
    zones = {
        f.account_manager.name: f.account_manager.timezone
        for f in facts.values()
        if f.account_manager
    }
    assert zones == {
        "Emily Carter": "Europe/London",
        "Тарас Коваленко": "Europe/Kyiv",
        "Ольга Петрова": None,  # Moscow: the team's clock
    }
    kvitka = facts["cust-kvitka"].account_manager
    assert kvitka is not None and kvitka.deputy is not None
    assert kvitka.deputy.timezone == "Europe/Kyiv"
