"""A panicking client is not met with silence (acceptance run: an unknown sender's "HELP!!!
… nothing works … call me now!" got nothing): the panic rules send whoever wrote a short
`panic_ack`, "received, a specialist contacts you within N minutes" (N: the rule's own
ack_minutes), general content only, in ru, uk and en; withheld under a hold, from a
suspicious sender, from one not verified while `no_reply_to_unverified_while` holds, and
from an unknown From that did not pass authentication (backscatter)."""

from __future__ import annotations

import pytest

from services.escalator.detection import detect
from services.escalator.digest import message_notices
from services.escalator.notifications import client_contacts
from services.escalator.policy import Decision, evaluate
from services.escalator.policy_explain import explain
from services.escalator.policy_explain import render as explain_render
from services.notifier.domain import check_disclosure, render
from services.notifier.scheduling import defer
from shared.contracts import AuthResults, IdentityVerified, Language, SendNotification
from tests.unit.test_routing_policy import NOW, POLICY, escalation, identity, verified_message
from tests.unit.test_stranger_explanation import stranger_message, unknown

pytestmark = pytest.mark.unit

PANIC: dict[Language, str] = {
    "ru": "ПОМОГИТЕ!!! Ничего не работает, всё пропало, позвоните мне срочно!",
    "uk": "ДОПОМОЖІТЬ!!! Нічого не працює, все зникло, зателефонуйте мені терміново!",
    "en": "HELP!!! Nothing works, everything is gone, call me now!",
}
SAID: dict[Language, str] = {
    "ru": "Мы получили ваше сообщение, специалист свяжется с вами в течение 10 минут.",
    "uk": "Ми отримали ваше повідомлення, фахівець зв'яжеться з вами протягом 10 хвилин.",
    "en": "We have received your message; a specialist will contact you within 10 minutes.",
}
UNMATCHED: dict[Language, str] = {
    "ru": "Мы не нашли ваш адрес среди контактов наших клиентов",
    "uk": "Ми не знайшли вашу адресу серед контактів наших клієнтів",
    "en": "We could not find your address among our clients' contacts",
}


def panic(verified: IdentityVerified) -> tuple[Decision, list[SendNotification]]:
    text, language = verified.message.text, verified.message.language
    decisions = evaluate(POLICY, detect(text, language=language), verified.identity)
    (decision,) = [d for d in decisions if d.rule.kind == "panic"]
    return decision, client_contacts(decision, escalation(decision, verified), verified)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_unknown_sender_in_a_panic_hears_when_a_specialist_calls(language: Language) -> None:
    verified = unknown(stranger_message(PANIC[language], language))

    decision, notes = panic(verified)

    (ack,) = [n for n in notes if n.kind == "panic_ack"]
    assert decision.rule.id == "panic-fast-response"
    assert (ack.recipient, ack.recipient_role) == (verified.message.sender.email, "client_sender")
    assert ack.content_class == "general" and not ack.recipient_verified
    check_disclosure(ack)  # nothing of any account to an address nobody verified
    assert ack.data["within_minutes"] == 10 and ack.data["unknown_sender"]
    rendered = render(ack)
    assert rendered.subject.startswith("Re: ")
    for body in (rendered.body, rendered.html or ""):
        assert SAID[language] in body and UNMATCHED[language] in body
    assert "СтройМонтаж" not in rendered.body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_known_client_in_a_panic_is_not_asked_who_they_are(language: Language) -> None:
    msg = stranger_message(PANIC[language], language, email="buh@stroymontazh.ru")
    verified = verified_message(msg, identity("verified"))

    _, notes = panic(verified)

    (ack,) = [n for n in notes if n.kind == "panic_ack"]
    body = render(ack).body
    assert SAID[language] in body and UNMATCHED[language] not in body


def test_an_unauthenticated_unknown_from_is_not_answered() -> None:
    forged = stranger_message(PANIC["en"], "en", auth=AuthResults(spf="pass", dmarc="fail"))

    _, notes = panic(unknown(forged))

    assert [n.kind for n in notes if n.kind == "panic_ack"] == []


def test_the_minutes_are_said_as_the_number_wants_them() -> None:
    ack = panic(unknown(stranger_message(PANIC["ru"])))[1][0]
    for minutes, ru, uk, en in [
        (1, "в течение 1 минуты", "протягом 1 хвилини", "within 1 minute"),
        (21, "в течение 21 минуты", "протягом 21 хвилини", "within 21 minutes"),
        (15, "в течение 15 минут", "протягом 15 хвилин", "within 15 minutes"),
    ]:
        data = {**ack.data, "within_minutes": minutes}
        for language, said in (("ru", ru), ("uk", uk), ("en", en)):
            note = ack.model_copy(update={"data": data, "language": language})
            assert said in render(note).body
    shortly = ack.model_copy(update={"data": {**ack.data, "within_minutes": None}})
    assert "в ближайшее время" in render(shortly).body


def test_a_hold_a_suspicious_sender_and_a_guarded_ask_withhold_it() -> None:
    verified = verified_message(
        stranger_message(PANIC["ru"], email="buh@stroymontazh.ru"), identity("verified")
    )
    _, notes = panic(verified)

    held = message_notices(verified, [], notes, under_hold=True)
    silent = message_notices(verified, [], notes, silent_sender=True)
    suspicious = verified_message(verified.message, identity("suspicious"))
    _, theirs = panic(suspicious)

    assert [n.kind for n in message_notices(verified, [], notes)] == ["panic_ack"]
    assert held == [] and silent == []
    assert message_notices(suspicious, [], theirs) == []


def test_quiet_hours_do_not_hold_it_back() -> None:
    """At 23:00 "within 10 minutes" must not arrive at 08:00 (a P3 client mail waits)."""
    night = NOW.replace(hour=20)  # 23:00 in Moscow
    window = (night.time().replace(hour=22), night.time().replace(hour=8))
    kw = {"recipient_role": "client_sender", "severity": "P3", "zone": "Europe/Moscow"}

    assert defer(night, **kw, quiet=window, recent=[], limit=None, kind="panic_ack") is None
    waits = defer(night, **kw, quiet=window, recent=[], limit=None, kind="conduct_notice")
    assert waits is not None and waits.reason == "quiet_hours"


def test_policy_explain_says_what_it_promises_and_why_it_does_not_go() -> None:
    passed = unknown(stranger_message(PANIC["en"], "en"))
    forged = unknown(
        stranger_message(PANIC["en"], "en", auth=AuthResults(spf="pass", dmarc="fail"))
    )

    said = explain_render(explain(POLICY, passed.message, passed.identity))
    unsaid = explain_render(explain(POLICY, forged.message, forged.identity))

    assert "panic_ack to sender (says: a specialist contacts you within 10 minutes)" in said
    assert "panic_ack to sender (not sent: the mail passed neither DMARC nor SPF" in unsaid
