"""A new outage written into an open failure case is acknowledged, not admitted (round 32
applied to merges): «Вы там все дебилы? Личный кабинет не открывается с утра» merged into an
open fed-up case told the client «Это наша вина» (ru/uk/en)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.escalator.notifications import ADMITTING_FAULT, client_contacts, outage_only
from services.escalator.placement import News
from services.notifier.domain import render
from shared.contracts import Signal
from tests.unit.test_default_policy import POLICY, decide, earlier
from tests.unit.test_outage_report import History
from tests.unit.test_routing_policy import escalation, identity, message, verified_message

MERGED = {
    "ru": "Вы там все дебилы? Личный кабинет не открывается с утра",
    "uk": "Ви там усі дебіли? Особистий кабінет не відкривається з ранку",
    "en": "Are you all idiots? The dashboard won't open since this morning",
}
ADMITTED = {"ru": "Это наша вина", "uk": "Це наша провина", "en": "our fault"}
FED_UP = History(
    messages=[
        earlier(3, signals={"service_failure": 0.6}),
        earlier(9, signals={"service_failure": 0.6}),
    ]
)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_outage_said_with_how_long_is_an_outage_report(language: str) -> None:
    """«не открывается с утра» says how long, not whose fault (`not_working_for_days`)."""
    d = decide(MERGED[language])["service_failure"]

    assert d.rule.id == "outage-report"
    assert [c.kind for c in d.rule.client_contacts] == ["outage_report_ack"]


def _news(decision_signals: list[Signal], language: str) -> tuple[News, ...]:
    text = MERGED[language]
    return tuple(
        News(s.name, e.start, e.end, text[e.start : e.end])
        for s in decision_signals
        for e in s.evidence
    )


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_new_outage_in_a_fed_up_case_gets_the_acknowledgements_follow_up(
    language: str,
) -> None:
    text = MERGED[language]
    d = decide(text)["service_failure"]
    news = _news(list(d.signals), language)
    assert outage_only(POLICY, news, d.signals)
    # Were the message's rule one that admits (the case's, a fed-up one), the follow-up
    # still acknowledges only.
    fed_up = decide("Вы обещали починить экспорт и не сделали.", history=FED_UP)
    admits = fed_up["service_failure"]
    assert {c.kind for c in admits.rule.client_contacts} <= ADMITTING_FAULT
    decision = replace(admits, signals=d.signals)
    verified = verified_message(message(text), identity("verified"))
    event = escalation(decision, verified)

    said = client_contacts(
        decision, event, verified, ("news", "m"), follow_up=True, outage_only=True
    )

    assert [n.kind for n in said] == ["outage_report_ack"]
    assert said[0].data["follow_up"] is True
    body = render(said[0].model_copy(update={"language": language})).body
    assert ADMITTED[language] not in body
    # Not outage-only: the admission's follow-up, as before.
    admitted = client_contacts(decision, event, verified, ("news", "m"), follow_up=True)
    assert [n.kind for n in admitted] == ["service_failure_notice"]


def test_a_new_missed_promise_beside_the_outage_is_no_outage_report() -> None:
    text = "Личный кабинет не открывается с утра, а вы обещали починить его вчера."
    d = decide(text)["service_failure"]
    news = tuple(
        News(s.name, e.start, e.end, text[e.start : e.end]) for s in d.signals for e in s.evidence
    )

    assert not outage_only(POLICY, news, d.signals)
    # Only what is new to the case counts: with the promise known to it, the outage alone.
    outage = tuple(n for n in news if n.start == min(m.start for m in news))
    assert outage_only(POLICY, outage, d.signals)
    assert not outage_only(POLICY, (), d.signals)
