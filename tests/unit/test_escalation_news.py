"""News in an open case: what a merged message brings that the escalation did not have,
and who hears it (docs/escalations.md, Merging)."""

from __future__ import annotations

import pytest

from services.escalator.detection import detect
from services.escalator.notifications import notified_staff, staff_notifications, to_other_holders
from services.escalator.placement import News, news_of
from services.escalator.policy import evaluate
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit


def test_news_is_evidence_of_a_kind_the_escalation_did_not_have() -> None:
    def signal(name: str, *evidence: tuple[str, str]) -> dict[str, object]:
        pieces = [{"rule": r, "text": t, "start": 7, "end": 7 + len(t)} for r, t in evidence]
        return {"name": name, "evidence": pieces}

    def words(news: tuple[News, ...]) -> list[str]:
        return [" ".join(n.text.split()) for n in news]

    before = [signal("legal_threat", ("ru.legal.sue", "подам на вас в суд"))]
    said_again = [signal("legal_threat", ("ru.legal.sue", "Подам в суд"))]
    shouted = [signal("legal_threat", ("form.all_caps", "ВЫ"))]
    new = [
        signal("legal_threat", ("ru.legal.sue", "подам в суд")),
        signal("service_failure", ("ru.fail.denied_what_exists", "сказал, что   нет")),
    ]

    insulted = [signal("abuse", ("ru.mat.x", "козлы"))]
    assert news_of(before, said_again) == news_of(before, shouted) == ()
    assert news_of(before, insulted) == ()  # another insult is no new fact
    assert words(news_of(before, new)) == ["сказал, что нет"]
    assert news_of(before, new)[0][:3] == ("service_failure", 7, 7 + len("сказал, что   нет"))
    assert words(news_of(None, before)) == ["подам на вас в суд"]


def test_news_of_the_case_reaches_every_holder_once() -> None:
    """A merge with news tells the rule's roles; whoever else holds the case (a climb's
    deputy, a reassignment's owner on a webhook) gets the same notice, once."""
    text = "Экспорт до сих пор не работает, и вчера ваш оператор сказал, что такой функции нет."
    verified = verified_message(message(text), identity("verified"))
    signals = detect(text, language="ru")
    (decision,) = [d for d in evaluate(POLICY, signals, verified.identity) if d.rule.kind]
    event = escalation(decision, verified)
    occasion = ("news", verified.message_id)
    staff = staff_notifications(POLICY, decision, event, verified, {}, occasion)
    notified = [
        *notified_staff(staff),
        {"role": "deputy", "address": "Deputy.Support@careline.example", "level": 2},
        {"role": "deputy", "address": "deputy.support@careline.example", "level": 3},
        {"role": "supervisor", "address": "webhook:https://hooks.example/sv", "level": 2},
    ]

    copies = to_other_holders(staff, notified, occasion)

    assert [(c.recipient_role, c.channel, c.recipient) for c in copies] == [
        ("deputy", "email", "Deputy.Support@careline.example"),
        ("supervisor", "webhook", "https://hooks.example/sv"),
    ]
    assert {c.notification_id for c in copies}.isdisjoint(n.notification_id for n in staff)
    assert copies == to_other_holders(staff, notified, occasion)  # the same ids again
    assert all(c.data["reason"] == staff[0].data["reason"] for c in copies)
