"""Why a rule fired, in the staff notice's language: every condition the policy can state,
from the escalator's decision to the notifier's words, in ru, uk and en."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.escalator.client_fixed import StillOwed
from services.escalator.condition_facts import (
    change_facts,
    client_says_fixed_fact,
    follow_up_fact,
    hold_lifted_fact,
    identity_settled_fact,
    identity_unclear_fact,
    new_sender_fact,
    news_fact,
    promise_due_fact,
    promise_missed_fact,
    spare_lifted_fact,
)
from services.escalator.detection import detect
from services.escalator.history import History, Mark, PastEscalation
from services.escalator.notifications import staff_notifications
from services.escalator.policy import Situation, evaluate
from services.escalator.threatened import Threatened, threat_fact
from services.notifier.domain import _environment, render
from services.notifier.reasons import condition_said, reason_said
from shared.contracts import Language, Signal, SignalEvidence
from tests.unit.test_policy_conditions import VERIFIED, policy, seen, sig
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

# Wednesday 12 March 2025, 11:00 in Moscow: the company's day off in `policy()`.
DAY_OFF = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
# Saturday 26 March 2022, 11:02 in Moscow: the seed-000 notice of suspension came then.
SATURDAY = datetime(2022, 3, 26, 8, 2, tzinfo=UTC)
CONDITIONS = {
    "signals_at_once": {"min_signals": 2},
    "tier": {"any_signals": ["abuse"], "tiers": ["standard"]},
    "identity": {"identity_status": ["verified"]},
    "channel": {"any_signals": ["abuse"], "channels": ["chat"]},
    "time": {"any_signals": ["abuse"], "time": ["holiday"]},
    "markers": {"any_signals": ["abuse"], "markers": ["suspension"]},
    "history_signals": {
        "any_signals": ["abuse"],
        "history": {"signals": ["abuse"], "at_least": 2, "within": "30d"},
    },
    "history_markers": {"any_signals": ["abuse"], "history": {"markers": ["suspension"]}},
    "history_signals_apart": {
        "any_signals": ["abuse"],
        "history": {"signals": ["abuse"], "at_least": 2, "within": "30d", "apart": "1h"},
    },
    "history_markers_apart": {
        "any_signals": ["abuse"],
        "history": {"markers": ["suspension"], "apart": "1h"},
    },
    "history_escalations": {"any_signals": ["abuse"], "history": {"escalations": ["legal"]}},
    "history_open": {"any_signals": ["abuse"], "history": {"open": []}},
    "history_warned": {"any_signals": ["abuse"], "history": {"warned": ["reputation"]}},
    "history_flagged": {"any_signals": ["abuse"], "history": {"flagged": ["harassment"]}},
}
ENGLISH = ("history", "within", "messages", "signals at once", "mentions", "warned", "flagged")


def every_condition() -> dict[str, dict[str, Any]]:
    """One fact of each kind, as the escalator puts it in a staff notice's data: from a
    real evaluation where every rule (one kind of condition each) holds."""
    quiet = {"any_signals": ["violence_threat"]}  # kinds the history names, never firing here
    p = policy(
        *({"id": k, "kind": k, "when": when} for k, when in CONDITIONS.items()),
        *({"id": k, "kind": k, "when": quiet} for k in ("legal", "reputation")),
        {"id": "harassment", "kind": "harassment", "when": quiet, "flag": ["harassment"]},
    )
    earlier = seen(
        3,
        at=DAY_OFF,
        signals={"abuse": 0.9},
        markers=["suspension"],
        marks=[Mark(kind="warning", name="reputation"), Mark(kind="flag", name="harassment")],
    )
    legal = PastEscalation(
        id="e-1", kind="legal", severity="P2", status="open", rule="r", opened_at=earlier.at
    )
    history = History(messages=[earlier], escalations=[legal])
    situation = Situation(DAY_OFF, "chat", "Аккаунт приостановлен", history)
    decisions = evaluate(p, [sig("abuse"), sig("panic")], VERIFIED, situation)
    return {d.rule.id: d.facts[0].item() for d in decisions}


def guess_facts() -> dict[str, dict[str, Any]]:
    """What a guess of the second opinion adds to a case: beside the lexicon's failure, and
    alone (policy.fold_guesses)."""
    guess = Signal(
        name="abuse",
        score=0.91,
        evidence=[SignalEvidence(start=5, end=10, text="опять", rule="opinion.linear")],
    )
    failure = sig("service_failure")
    beside = evaluate(POLICY, [failure, guess], VERIFIED)
    alone = evaluate(POLICY, [guess], VERIFIED)
    return {f.kind: f.item() for d in [*beside, *alone] for f in d.facts if "opinion" in f.kind}


@pytest.mark.parametrize(
    ("language", "also", "only"),
    [
        ("ru", "ещё и: оскорбления («опять»)", "только статистическая модель: оскорбления"),
        ("uk", "ще й: образи («опять»)", "лише статистична модель: образи"),
        ("en", "also read: abuse («опять»)", "only the statistical model read this: abuse"),
    ],
)
def test_a_guess_is_said_as_one_in_the_notice_language(language: str, also: str, only: str) -> None:
    facts = guess_facts()

    assert also in condition_said(facts["second_opinion_also"], reasons(language))
    assert only in condition_said(facts["second_opinion_only"], reasons(language))


def reasons(language: str) -> dict[str, Any]:
    return _environment().get_template("_staff_labels.j2").module.REASONS[language]  # type: ignore[attr-defined,no-any-return]


def test_every_kind_of_condition_and_change_has_a_phrase_in_every_language() -> None:
    facts = every_condition()
    changes = {f.kind for f in change_facts("P2", "P1", reopened=True, news=("нет",))}
    changes |= {hold_lifted_fact("m").kind, follow_up_fact("Есть новости?").kind}
    changes |= {spare_lifted_fact("m", "30d", over).kind for over in ("advances", "threats")}
    changes |= {client_says_fixed_fact("Всё заработало", "e", p).kind for p in (True, False)}
    owed = StillOwed(("compensation_demand",), ("Требуем компенсацию",))
    changes.add(client_says_fixed_fact("Всё заработало", "e", True, owed).kind)
    changes |= {new_sender_fact(suspicious).kind for suspicious in (True, False)}
    changes |= {news_fact("«нет»", w).kind for w in ("client", "disowned", "suspicious")}
    changes |= {promise_due_fact(automatic).kind for automatic in (True, False)}
    changes |= {promise_missed_fact(new_date).kind for new_date in (True, False)}
    changes.add(promise_missed_fact(False, disowned=True).kind)
    outcomes = ("confirmed", "denied", "expired")
    changes |= {identity_settled_fact(o, "a@b.example", "link").kind for o in outcomes}
    changes.add(identity_unclear_fact("a@b.example", "Кто это?").kind)
    changes.add(identity_unclear_fact("a@b.example", "Это не мы", "confirmed").kind)
    changes |= {
        threat_fact(Threatened("account_manager", "am-1", "Ольга", "o@b.example", by, ())).kind
        for by in ("name", "role")
    }
    changes.add(threat_fact(Threatened("deputy", "am-2", "Игорь", "i@b.example", "name", ())).kind)
    # Advances alone (harassment) are said as advances, not as a threat.
    advances = ("harassment",)
    changes |= {
        threat_fact(
            Threatened("account_manager", "am-1", "Ольга", "o@b.example", by, advances)
        ).kind
        for by in ("name", "role")
    }
    changes.add(
        threat_fact(Threatened("deputy", "am-2", "Игорь", "i@b.example", "name", advances)).kind
    )

    changes |= set(guess_facts())
    assert set(facts) == set(CONDITIONS)
    for language in ("ru", "uk", "en"):
        assert set(reasons(language)["phrases"]) == set(CONDITIONS) | changes, language


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_condition_is_said_in_the_notice_language(language: str) -> None:
    for kind, item in every_condition().items():
        said = condition_said(item, reasons(language))

        assert said != item["text"], kind
        for word in ENGLISH:
            assert word not in said, (kind, word)
        for name in ("count", "at_least", "on", "tier", "local", "timezone"):
            if name in item["values"]:
                assert str(item["values"][name]) in said, (kind, name)


@pytest.mark.parametrize(
    ("language", "kind", "expected"),
    [
        ("ru", "time", "время: ср 2025-03-12 11:00 (Europe/Moscow) — нерабочее время, праздник"),
        ("uk", "time", "час: ср 2025-03-12 11:00 (Europe/Moscow) — неробочий час, свято"),
        (
            "ru",
            "history_signals",
            "в истории за 30 дн. сообщений с сигналом (оскорбления): 2, это сообщение в их "
            "числе; нужно не меньше 2",
        ),
        ("uk", "history_open", "відкриті ескалації: юридична загроза P2"),
        ("ru", "history_warned", "клиента предупреждали (угроза репутации) 2025-03-09"),
        ("ru", "channel", "канал: чат"),
        ("en", "history_flagged", "history: the contact was flagged (harassment) on 2025-03-09"),
        ("en", "signals_at_once", "2 signals at once (at least 2)"),
    ],
)
def test_conditions_read_naturally(language: str, kind: str, expected: str) -> None:
    assert condition_said(every_condition()[kind], reasons(language)).startswith(expected)


def test_a_company_day_off_is_named_in_the_notice_language() -> None:
    said = condition_said(every_condition()["time"], reasons("ru"))

    assert said.endswith("праздник (корпоративный выходной)")


def test_the_reason_names_the_rule_the_signals_with_the_clients_words_and_the_conditions() -> None:
    signals = [{"name": "legal_threat", "score": 0.9, "words": ["подам в суд"]}]
    items = [every_condition()["channel"]]

    escalation = {"reason": "rule r: …", "rule": "legal-threat-to-legal", "signals": signals}

    said = reason_said({**escalation, "condition_items": items}, reasons("uk"))

    assert said == "правило legal-threat-to-legal: погроза судом 90 % («подам в суд»); канал: чат"
    quiet = {"rule": "r", "signals": [], "condition_items": []}
    assert reason_said(quiet, reasons("ru")) == "правило r: сигналов нет"


def test_what_the_message_changed_comes_first() -> None:
    changes = [f.item() for f in change_facts("P2", "P1", reopened=True)]
    escalation = {"rule": "r", "signals": [], "condition_items": [], "change_items": changes}

    assert reason_said(escalation, reasons("ru")) == (
        "открыта снова после решения; важность повышена с P2 до P1; правило r: сигналов нет"
    )
    assert reason_said(escalation, reasons("en")).startswith(
        "reopened after resolution; severity raised from P2 to P1; rule r"
    )


def test_a_request_of_before_keeps_the_escalators_reason() -> None:
    before = {"reason": "rule r: abuse 0.90", "rule": "r", "signals": []}  # no items

    assert reason_said(before, reasons("ru")) == "rule r: abuse 0.90"


def test_a_condition_of_a_new_kind_or_missing_a_value_keeps_its_words() -> None:
    new = {"kind": "moon_phase", "values": {"phase": "full"}, "text": "moon full"}
    short = {"kind": "tier", "values": {}, "text": "tier gold"}

    assert condition_said(new, reasons("ru")) == "moon full"
    assert condition_said(short, reasons("ru")) == "tier gold"


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_notice_of_the_seed_000_saturday_says_why_in_its_language(language: Language) -> None:
    """The notice of debt came on a Saturday: billing-dispute-off-hours fires, and every
    staff notice says so in the team's words, not in the escalator's English account."""
    text = "Счёт за март мы уже оплатили, а нам пишут о задолженности."
    verified = verified_message(message(text), identity("verified"))
    signals = detect(text, language="ru")
    (decision,) = [
        d
        for d in evaluate(POLICY, signals, verified.identity, Situation(SATURDAY, "email", text))
        if d.rule.kind == "billing"
    ]
    assert decision.rule.id == "billing-dispute-off-hours"
    event = escalation(decision, verified)
    note = staff_notifications(POLICY, decision, event, verified)[0]
    rendered = render(note.model_copy(update={"language": language, "data": note.data}))

    why = {"ru": "Почему: правило", "uk": "Чому: правило", "en": "Why: rule"}[language]
    line = next(x for x in rendered.body.splitlines() if x.startswith(why))
    weekend = {"ru": "сб 2022-03-26 11:02", "uk": "сб 2022-03-26 11:02", "en": "Sat 2022-03-26"}
    assert weekend[language] in line and "billing-dispute-off-hours" in line
    assert weekend[language] in (rendered.html or "")
    if language != "en":
        assert "billing_dispute" not in line and "time Sat" not in line


def test_markup_in_a_condition_or_the_clients_words_is_escaped_in_html() -> None:
    verified = verified_message(message("Подам в суд."), identity("verified"))
    signals = detect("Подам в суд.", language="ru")
    decision = evaluate(POLICY, signals, verified.identity)[0]
    note = staff_notifications(POLICY, decision, escalation(decision, verified), verified)[0]
    hostile = {"kind": "tier", "values": {"tier": "<b>gold</b>"}, "text": "tier <b>gold</b>"}
    words = [{"name": "legal_threat", "score": 0.9, "words": ["<i>суд</i>"]}]
    data = {**note.data, "condition_items": [hostile], "signals": words}

    rendered = render(note.model_copy(update={"language": "ru", "data": data}))

    html = rendered.html or ""
    assert "<b>gold" not in html and "&lt;b&gt;gold&lt;/b&gt;" in html
    assert "<i>суд" not in html and "&lt;i&gt;суд&lt;/i&gt;" in html
    assert "тариф <b>gold</b>" in rendered.body and "«<i>суд</i>»" in rendered.body


def test_markers_are_said_as_the_policy_names_them_in_the_team_language() -> None:
    named = {"patterns": [r"приостан\w*"], "names": {"ru": "приостановка", "en": "suspension"}}
    p = policy(
        {"id": "now", "kind": "now", "when": {"any_signals": ["abuse"], "markers": ["susp"]}},
        {
            "id": "before",
            "kind": "before",
            "when": {"any_signals": ["abuse"], "history": {"markers": ["susp"]}},
        },
        markers={"susp": named},
    )
    history = History(messages=[seen(1, at=DAY_OFF, markers=["susp"])])
    situation = Situation(DAY_OFF, "chat", "Аккаунт приостановлен", history)
    facts = {d.rule.id: d.facts[0].item() for d in evaluate(p, [sig("abuse")], VERIFIED, situation)}

    assert condition_said(facts["now"], reasons("ru")) == "сообщение упоминает: приостановка"
    assert "(приостановка): 2" in condition_said(facts["before"], reasons("ru"))
    assert facts["now"]["text"] == "this message mentions susp"  # events keep the id


def test_the_reason_quotes_the_clients_words_not_exclamation_marks_or_capitals() -> None:
    """The escalator's reason leaves out form evidence ("!!!", a run of capitals); the
    staff data says which words are the client's ('quoted'), 'words' keeps all of it."""
    text = "ВЫ ЧТО ТАМ ВСЕ ИДИОТЫ??? ВЕРНИТЕ ДЕНЬГИ НЕМЕДЛЕННО!!!!"
    verified = verified_message(message(text), identity("verified"))
    signals = detect(text, language="ru")
    decision = next(
        d for d in evaluate(POLICY, signals, verified.identity) if d.rule.kind == "abuse"
    )
    note = staff_notifications(POLICY, decision, escalation(decision, verified), verified)[0]
    (abuse,) = [s for s in note.data["signals"] if s["name"] == "abuse"]

    said = reason_said(note.data, reasons("ru"))

    assert "«ИДИОТЫ»" in said and "«???»" not in said and "«!!!!»" not in said
    assert "???" in abuse["words"] and "???" not in abuse["quoted"]


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "history_open", "values": {"open": [{"kind": "legal"}]}, "text": "open: legal"},
        {"kind": "history_signals", "values": {"names": None, "count": 2}, "text": "two"},
        {"kind": "time", "values": {"periods": ["holiday"], "holiday": ["x"]}, "text": "a time"},
    ],
)
def test_values_of_a_shape_the_notifier_does_not_know_keep_the_words(
    item: dict[str, Any],
) -> None:
    assert condition_said(item, reasons("ru")) == item["text"]


@pytest.mark.parametrize(
    ("language", "span", "said"),
    [
        ("en", "30d", "30 days"),
        ("en", "1d", "1 day"),
        ("en", "1h", "1 hour"),
        ("en", "45m", "45 minutes"),
        ("ru", "30d", "30 дн."),
        ("uk", "2h", "2 год"),
    ],
)
def test_a_span_is_said_with_its_unit_in_the_notice_language(
    language: str, span: str, said: str
) -> None:
    from services.notifier.reasons import _span

    assert _span(span, reasons(language)["units"]) == said
