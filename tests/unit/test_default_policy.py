"""The shipped policy, rule by rule, on the situations of the four seed stories: what the
client writes (ru / uk / en), who they are, when, and what happened before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.escalator.detection import detect
from services.escalator.facts import fact_pack, hold_view, seen_message
from services.escalator.history import History, Mark, SeenMessage
from services.escalator.notifications import billing_claim, client_contacts, staff_notifications
from services.escalator.policy import Decision, Situation, evaluate, load_policy
from services.notifier import domain
from services.notifier.domain import render
from services.notifier.samples import SAMPLES
from shared.contracts import ContractTerms, CustomerRef, Identity, Language, Signal, SignalEvidence
from tests.unit.test_routing_policy import escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

POLICY = load_policy()
TUESDAY = datetime(2025, 3, 11, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, business hours
SATURDAY = datetime(2022, 3, 26, 8, 2, tzinfo=UTC)  # seed 000: the notice came on a Saturday
KVITKA = CustomerRef(
    id="cust-kvitka",
    name="ТОВ «Квітка»",
    tier="silver",
    contracts=[ContractTerms(number="15/2021", status="active", amount="24000.00", currency="UAH")],
)
GOLD = CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold")
STANDARD = CustomerRef(id="cust-small", name="Small Shop", tier="standard")


def decide(
    text: str,
    who: Identity | None = None,
    at: datetime = TUESDAY,
    channel: str = "email",
    history: History | None = None,
    subject: str = "",
) -> dict[str, Decision]:
    """The decisions by kind for this message, as the escalator would take them."""
    who = who or identity("verified", customer=STANDARD)
    signals = detect(text)
    situation = Situation(at, channel, f"{subject}\n{text}", history or History())
    return {d.rule.kind: d for d in evaluate(POLICY, signals, who, situation)}


def earlier(days: float, at: datetime = TUESDAY, **kw: Any) -> SeenMessage:
    return SeenMessage(message_id=f"m-{days}", at=at - timedelta(days=days), channel="chat", **kw)


# --- threats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Я вас найду и убью.", "Я вас знайду і вб'ю.", "I will find you and kill you."]
)
def test_violence_goes_to_security_and_the_head_of_support_at_p1(text: str) -> None:
    d = decide(text)["violence"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "violence-to-security",
        "P1",
        ["security", "head_of_support"],
    )


@pytest.mark.parametrize(
    "text",
    [
        "Я подам на вас в суд, если не вернёте деньги.",
        "Якщо до п'ятниці не повернете кошти, я подам на вас до суду.",
        "I will sue you.",
    ],
)
def test_a_legal_threat_goes_to_legal_and_the_head_of_support_with_the_facts(text: str) -> None:
    who = identity("verified", customer=KVITKA)
    d = decide(text, who)["legal"]
    assert (d.rule.id, d.rule.roles) == ("legal-threat-to-legal", ["legal", "head_of_support"])
    assert (
        "Не спорить" in d.rule.playbook["ru"] and "substance of the claim" in d.rule.playbook["en"]
    )

    verified = verified_message(message(text), who)
    pack = fact_pack(
        verified, d.signals, seen_message(verified, list(d.signals), [], []), History()
    )
    legal = staff_notifications(POLICY, d, escalation(d, verified), verified, {"fact_pack": pack})[
        0
    ]
    assert (
        legal.kind == "legal_notice"
        and legal.data["fact_pack"]["crm"]["contracts"][0]["number"] == "15/2021"
    )
    assert "договор 15/2021 (действует, 24000.00 UAH)" in render(legal).body


SEED_003 = (
    "Вы там совсем тупые? Контент пропал, деньги на ветер. Верните деньги за подписку и 400$, "
    "которые я заплатил фрилансеру! Иначе я стану вашим кошмаром: распишу про вас во всех "
    "SMM-сообществах и пожалуюсь в Instagram."
)


@pytest.mark.parametrize(
    "text",
    [
        SEED_003,
        "Ви тупі? Поверніть гроші, інакше я стану вашим кошмаром і напишу про вас у всіх "
        "SMM-спільнотах.",
        "You idiots, refund me or I will become your nightmare and post about you in every "
        "SMM community.",
    ],
)
def test_blackmail_with_abuse_goes_to_the_head_of_support_with_the_boundary_and_a_hold(
    text: str,
) -> None:
    decisions = decide(text, identity("unknown", customer=None, manager=None, channels=()))
    d = decisions["reputation"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "blackmail-to-head-of-support",
        "P2",
        ["head_of_support"],
    )
    assert d.rule.warn and d.rule.hold is not None
    assert d.rule.hold.reason["ru"] == "Разбирательство приостановлено до прекращения угроз."
    assert "плохим днём" in d.rule.playbook["ru"] and "refunded" in d.rule.playbook["en"]
    assert "abuse" not in decisions  # the insults belong to the blackmail, not "abuse alone"


def test_blackmail_after_a_warning_is_stronger() -> None:
    warned = History(messages=[earlier(2, marks=[Mark(kind="warning", name="reputation")])])

    d = decide(SEED_003, history=warned)["reputation"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "blackmail-after-warning",
        "P1",
        ["head_of_support", "legal"],
    )
    assert [r.id for r in d.superseded] == ["blackmail-to-head-of-support"]
    assert "history: warned about reputation on 2025-03-09" in d.reason


def test_staff_are_shown_the_hold_and_the_playbook_in_both_languages() -> None:
    text = (
        "Ви тупі? Поверніть гроші, інакше я стану вашим кошмаром і напишу про вас у SMM-спільнотах."
    )
    who = identity("verified", customer=KVITKA)
    d = decide(text, who)["reputation"]
    verified = verified_message(message(text, language="uk"), who)
    assert d.rule.hold is not None
    hold = {"reason": dict(d.rule.hold.reason), "since": TUESDAY.isoformat()}
    extra = {"hold": hold_view(hold, POLICY.team_language)}

    (head,) = staff_notifications(POLICY, d, escalation(d, verified), verified, extra)

    assert head.data["playbook"] == d.rule.playbook["ru"]
    assert head.data["playbook_client"] == d.rule.playbook["uk"]
    body = render(head).body
    assert "Пауза: Разбирательство приостановлено до прекращения угроз." in body
    assert "На языке клиента (uk): Шантаж або погроза репутації" in body


# --- billing (seed 000) ----------------------------------------------------------------

PAID_RU = "Мы уже оплатили, платёжка во вложении, а вы пишете про задолженность"
PAID_UK = "Ми вже оплатили рахунок, платіжка у вкладенні, а ви пишете про заборгованість."
PAID_EN = "We already paid invoice INV-2022-0311, yet your reminder says it is overdue."


@pytest.mark.parametrize("text", [PAID_RU, PAID_UK, PAID_EN])
def test_a_billing_dispute_on_a_working_day_goes_to_billing_and_the_manager(text: str) -> None:
    d = decide(text)["billing"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "billing-dispute",
        "P2",
        ["billing", "account_manager"],
    )
    assert [c.kind for c in d.rule.client_contacts] == ["billing_dispute_ack"]


@pytest.mark.parametrize(
    "text",
    [
        "Сегодня пришло уведомление, что мы просрочили платёж и действие аккаунта будет "
        "приостановлено. Но счёт № 4512 мы уже оплатили вчера, бухгалтерия отправила платёжное "
        "поручение нашему персональному менеджеру.",
        "Ми вже оплатили рахунок, а ви пишете про заборгованість і погрожуєте призупинити акаунт.",
        "We already paid invoice INV-2022-0311, yet your reminder says it is overdue and the "
        "account will be suspended.",
    ],
)
def test_a_billing_dispute_with_a_suspension_pending_in_its_words_is_urgent(text: str) -> None:
    d = decide(text)["billing"]

    assert (d.rule.id, d.rule.severity) == ("billing-dispute-suspension-pending", "P1")
    assert "(this one included; at least 1)" in d.reason


def test_billings_own_suspension_notice_is_remembered_and_makes_the_dispute_urgent() -> None:
    notice_text = "Ваш платёж просрочен. Действие аккаунта будет приостановлено."
    notice = decide(notice_text, channel="system", subject="suspension_notice_sent")
    assert notice == {}  # billing's notice itself escalates nothing
    history = History(
        messages=[
            SeenMessage(
                message_id="notice",
                at=TUESDAY - timedelta(hours=20),
                channel="system",
                markers=POLICY.markers_in(f"suspension_notice_sent\n{notice_text}"),
            )
        ]
    )

    d = decide(PAID_RU, history=history)["billing"]

    assert (d.rule.id, d.rule.severity) == ("billing-dispute-suspension-pending", "P1")
    assert "suspension in 1 messages within 7d (this one not among them" in d.reason


def test_a_billing_dispute_on_a_weekend_or_holiday_is_urgent_and_the_client_is_told() -> None:
    d = decide(PAID_RU, at=SATURDAY)["billing"]
    assert (d.rule.id, d.rule.severity) == ("billing-dispute-off-hours", "P1")
    assert "time Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend" in d.reason
    new_year = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday among the RU holidays
    assert decide(PAID_RU, at=new_year)["billing"].rule.id == "billing-dispute-off-hours"

    verified = verified_message(message(PAID_RU, email="buh@stroymontazh.ru"), identity())
    (ack,) = client_contacts(d, escalation(d, verified), verified)
    assert ack.kind == "billing_dispute_ack" and ack.severity == "P1"
    body = render(ack).body
    # What Careline cannot do itself it does not promise: the billing team was asked.
    assert "попросили финансовый отдел" in body and "не приостанавливать сервис" in body


# --- support's failures (seed 001) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Вы обещали исправить экспорт к пятнице, и опять ничего не работает.", "ru"),
        ("Ви обіцяли виправити експорт до п'ятниці, і знову нічого не працює.", "uk"),
        (
            "Two weeks ago you promised the export bug would be fixed by Friday. It is still "
            "not fixed.",
            "en",
        ),
    ],
)
def test_a_service_failure_reaches_the_manager_and_a_senior_manager_bad_news_first(
    text: str, language: Language
) -> None:
    standard = identity(customer=STANDARD)
    d = decide(text, standard)["service_failure"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "service-failure",
        "P3",
        ["account_manager", "head_of_support"],
    )
    verified = verified_message(message(text, language=language), standard)
    (notice,) = client_contacts(d, escalation(d, verified), verified)
    assert notice.kind == "service_failure_notice" and notice.language == language


@pytest.mark.parametrize("tier", ["gold", "platinum"])
def test_a_top_tier_clients_failure_is_p2(tier: str) -> None:
    # Seed 001: the client pays for faster answers (an SLA of a first response within the
    # hour); our failure is theirs sooner: 60 minutes to acknowledge, an answer in 4 hours.
    customer = GOLD.model_copy(update={"tier": tier})
    d = decide(
        "Вы обещали исправить экспорт к пятнице, и опять ничего не работает.",
        identity(customer=customer),
    )["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("service-failure-top-tier", "P2")
    assert [c.kind for c in d.rule.client_contacts] == ["service_failure_notice"]


def test_several_failures_in_a_window_make_a_fed_up_client_p1() -> None:
    failures = History(
        messages=[
            earlier(3, signals={"service_failure": 0.9}),
            earlier(12, signals={"service_failure": 0.8}),
        ]
    )

    d = decide(
        "Вы обещали исправить экспорт к пятнице, и опять ничего не работает.",
        identity(),
        history=failures,
    )["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("fed-up-repeated-failures", "P1")
    assert "service_failure in 3 occasions at least 1h apart within 30d" in d.reason
    assert [c.kind for c in d.rule.client_contacts] == ["service_failure_notice"]


def test_three_messages_in_a_minute_about_one_outage_are_one_failure_not_three() -> None:
    burst = History(
        messages=[
            earlier(20 / 86400, signals={"service_failure": 0.9}),  # 20 s before
            earlier(40 / 86400, signals={"service_failure": 0.9}),  # 40 s before
        ]
    )
    text = "Вы обещали исправить экспорт к пятнице, и опять ничего не работает."
    standard = identity(customer=STANDARD)

    assert decide(text, standard, history=burst)["service_failure"].rule.id == "service-failure"
    # The same two, a day and a week before: three occasions.
    spread = History(
        messages=[
            earlier(1, signals={"service_failure": 0.9}),
            earlier(1 + 30 / 86400, signals={"service_failure": 0.9}),  # its follow-up
            earlier(7, signals={"service_failure": 0.9}),
        ]
    )
    fed_up = decide(text, standard, history=spread)["service_failure"]
    assert (fed_up.rule.id, fed_up.rule.severity) == ("fed-up-repeated-failures", "P1")
    assert "in 3 occasions" in fed_up.reason


@pytest.mark.parametrize(
    "text",
    [
        "Уже третий раз за месяц не работает выгрузка, вы обещали исправить и ничего не сделали. "
        "Верните деньги, или мы расторгнем договор.",
        "Third time this month your export is broken, you promised a fix and nothing works. I "
        "want my money back or we cancel the contract.",
    ],
)
def test_several_signals_at_once_with_a_failure_make_a_fed_up_client_p1(text: str) -> None:
    d = decide(text, identity())["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("fed-up-several-signals", "P1")


# --- strange clients (seed 002) ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Доброго вечора) Ви ж Марина з підтримки? У вас такий гарний голос. Може, зустрінемося "
        "після роботи? Дайте ваш інстаграм.",
        "Девушка, вы так красиво пишете, давайте встретимся вечером? Дайте ваш номер.",
        "You have such a lovely voice, can we meet after work? Give me your Instagram.",
    ],
)
def test_harassment_goes_to_the_supervisor_corporate_channels_only_and_flags_the_contact(
    text: str,
) -> None:
    d = decide(text, identity("unknown", customer=None, manager=None), channel="social")[
        "harassment"
    ]

    assert (d.rule.id, d.rule.roles, d.rule.flag) == (
        "harassment-to-supervisor",
        ["supervisor"],
        ["harassment"],
    )
    assert "корпоративные каналы" in d.rule.playbook["ru"]


@pytest.mark.parametrize(
    "text",
    [
        "ДОПОМОЖІТЬ!!! Все зникло з кабінету, нічого не працює, я в паніці, що мені робити?!",
        "ПОМОГИТЕ!!! Всё пропало из кабинета, я в панике, что делать?!",
        "HELP!!! Everything disappeared from my dashboard, I'm panicking, what do I do?!",
    ],
)
def test_panic_gets_a_fast_calm_answer_and_top_tiers_a_higher_severity(text: str) -> None:
    standard = decide(text, identity(customer=STANDARD), channel="phone")["panic"]
    gold = decide(text, identity(customer=GOLD), channel="phone")["panic"]

    assert (standard.rule.id, standard.rule.severity) == ("panic-fast-response", "P3")
    assert (gold.rule.id, gold.rule.severity) == ("panic-top-tier", "P2")
    for d in (standard, gold):
        assert d.rule.roles == ["agent", "account_manager"]
        at = datetime(2025, 3, 15, 23, 0, tzinfo=UTC)  # a Sunday at two in the morning in Moscow
        assert POLICY.ack_by(d.rule.severity, at, d.rule.ack_minutes) == at + timedelta(minutes=10)


@pytest.mark.parametrize(
    "text",
    [
        "Ви там зовсім бовдури? Скільки можна чекати!",
        "Вы идиоты, сколько можно ждать!",
        "You are useless idiots.",
    ],
)
def test_abuse_alone_is_agent_guidance_with_a_warning_and_no_supervisor(text: str) -> None:
    d = decide(text, channel="chat")["abuse"]

    assert (d.rule.id, d.rule.severity, d.rule.roles, d.rule.warn) == (
        "abuse-agent-guidance",
        "P4",
        ["agent"],
        True,
    )
    assert "продолжить только письменно" in d.rule.playbook["ru"]


def test_repeated_abuse_brings_in_the_supervisor() -> None:
    before = History(messages=[earlier(1, signals={"abuse": 0.99})])

    d = decide("Вы идиоты, сколько можно ждать!", channel="chat", history=before)["abuse"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "abuse-repeated-to-supervisor",
        "P3",
        ["agent", "supervisor"],
    )


@pytest.mark.parametrize(
    "text",
    ["Вы идиоты, сколько можно ждать!", "Ви там зовсім бовдури?", "You are useless idiots."],
)
def test_a_guess_of_abuse_before_does_not_make_a_real_insult_repeated(text: str) -> None:
    """The acceptance run: «Сайт опять не работает, уже третий раз за месяц» read as abuse
    by the second opinion alone (0.91), then a real insult fired the supervisor's rule."""
    guessed = earlier(1, signals={"abuse": 0.91, "service_failure": 0.9}, guessed=["abuse"])
    said = earlier(2, signals={"abuse": 0.99})

    once = decide(text, channel="chat", history=History(messages=[guessed]))["abuse"]
    twice = decide(text, channel="chat", history=History(messages=[guessed, said]))["abuse"]

    assert once.rule.id == "abuse-agent-guidance"
    assert twice.rule.id == "abuse-repeated-to-supervisor"
    fact = next(f for f in twice.facts if f.kind == "history_signals")
    assert fact.values["count"] == 2  # this one and the real one: the guess not among them


def test_a_guess_in_this_message_is_not_counted_for_it() -> None:
    """The message being decided counts by the same measure: a real insult before and a
    guess now are one message with abuse, not two."""
    before = History(messages=[earlier(1, signals={"abuse": 0.99})])
    guess = Signal(
        name="abuse",
        score=0.91,
        evidence=[SignalEvidence(start=0, end=4, text="Сайт", rule="opinion.linear")],
    )
    situation = Situation(TUESDAY, "chat", "Сайт опять", before)

    (d,) = evaluate(POLICY, [guess], identity("verified", customer=STANDARD), situation)

    assert d.rule.id == "abuse-agent-guidance"
    assert [f.kind for f in d.facts] == ["second_opinion_only"]


def test_a_freebie_demand_reaches_the_manager_with_the_contract_terms() -> None:
    text = "Інший менеджер зробив нам налаштування безкоштовно, а тепер ви виставляєте рахунок."
    who = identity("verified", customer=KVITKA)
    d = decide(text, who, channel="chat")["freebie"]
    assert (d.rule.id, d.rule.roles) == ("freebie-demand", ["account_manager"])

    verified = verified_message(message(text, language="uk"), who)
    pack = fact_pack(
        verified, d.signals, seen_message(verified, list(d.signals), [], []), History()
    )
    (manager,) = staff_notifications(
        POLICY, d, escalation(d, verified), verified, {"fact_pack": pack}
    )
    assert manager.data["fact_pack"]["crm"]["contracts"] == [
        {"number": "15/2021", "status": "active", "amount": "24000.00", "currency": "UAH"}
    ]
    assert "договор 15/2021" in render(manager).body


def test_a_compensation_demand_reaches_the_account_manager() -> None:
    d = decide("Верните деньги за подписку, контент пропал.")["compensation"]

    assert (d.rule.id, d.rule.roles) == ("compensation-demand", ["account_manager"])


@pytest.mark.parametrize(
    "text",
    [
        "Если не исправите, мы уйдём к конкурентам и расторгнем договор.",
        "Якщо не виправите, ми розірвемо договір і підемо до конкурентів.",
        "If this is not fixed this week we will cancel our contract and move to another provider.",
    ],
)
def test_churn_risk_of_a_top_tier_client_reaches_the_account_manager(text: str) -> None:
    d = decide(text, identity(customer=GOLD))["churn"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "churn-risk-top-tier",
        "P2",
        ["account_manager"],
    )
    assert "churn" not in decide(text, identity(customer=STANDARD))


def test_a_probable_identity_starts_the_confirmation_loop_and_informs_the_manager() -> None:
    d = decide("Добрый день, почему приостановили CRM?", identity("probable", customer=GOLD))[
        "identity_confirmation"
    ]

    assert (d.rule.id, d.rule.roles) == ("unconfirmed-sender", ["account_manager"])
    assert [c.kind for c in d.rule.client_contacts] == [
        "identity_confirmation",
        "unknown_sender_explanation",
    ]


# --- one seed situation per rule -------------------------------------------------------------

_ABUSED = History(messages=[earlier(1, signals={"abuse": 0.99})])
_WARNED = History(messages=[earlier(2, marks=[Mark(kind="warning", name="reputation")])])
_FAILED = History(
    messages=[
        earlier(3, signals={"service_failure": 0.9}),
        earlier(9, signals={"service_failure": 0.9}),
    ]
)
FAILURE = "Вы обещали исправить экспорт к пятнице, и опять ничего не работает."
SEEDS: dict[str, dict[str, Any]] = {
    "violence-to-security": {"text": "Я вас найду и убью."},
    "legal-threat-to-legal": {"text": "Подам на вас до суду."},
    "blackmail-to-head-of-support": {"text": SEED_003},
    "blackmail-after-warning": {"text": SEED_003, "history": _WARNED},
    "billing-dispute": {"text": PAID_UK},
    "billing-dispute-suspension-pending": {"text": PAID_RU, "subject": "Приостановка CRM"},
    "billing-dispute-off-hours": {"text": PAID_EN, "at": SATURDAY},
    "service-failure": {"text": FAILURE},
    "fed-up-repeated-failures": {"text": FAILURE, "history": _FAILED},
    "fed-up-several-signals": {
        "text": "Уже третий раз за месяц не работает выгрузка, вы обещали исправить и ничего не "
        "сделали. Верните деньги, или мы расторгнем договор."
    },
    "harassment-to-supervisor": {"text": "You have such a lovely voice, can we meet after work?"},
    "panic-fast-response": {"text": "ПОМОГИТЕ!!! Всё пропало из кабинета, я в панике!"},
    "panic-top-tier": {"text": "ПОМОГИТЕ!!! Всё пропало из кабинета, я в панике!", "tier": GOLD},
    "abuse-agent-guidance": {"text": "Ви там зовсім бовдури? Скільки можна чекати!"},
    "abuse-repeated-to-supervisor": {"text": "Вы идиоты, сколько можно ждать!", "history": _ABUSED},
    "freebie-demand": {"text": "Another manager did the setup for free, do it like before."},
    "compensation-demand": {"text": "Верните деньги за подписку, контент пропал."},
    "churn-risk-top-tier": {"text": "Якщо не виправите, ми розірвемо договір.", "tier": GOLD},
    "unconfirmed-sender": {"text": "Добрый день, вопрос по счёту.", "status": "probable"},
    "suspicious-sender": {"text": "Ответьте же, счёт оплачен.", "status": "suspicious"},
    "service-failure-top-tier": {"text": FAILURE, "tier": GOLD},
    "fed-up-says-repeated": {"text": "Экспорт опять не работает, и это уже третий раз."},
    # Round 32: plain outage reports, nothing of our conduct said.
    "outage-report": {"text": "С утра не работает интернет."},
    "outage-report-top-tier": {"text": "The website won't open.", "tier": GOLD},
    "fed-up-repeated-outage-reports": {"text": "Інтернет не працює.", "history": _FAILED},
    "fed-up-outage-several-signals": {
        "text": "Интернет опять не работает, помогите, я в панике! Уйдём к другому провайдеру."
    },
    "fed-up-says-repeated-outage": {"text": "The internet is down yet again."},
    "payment-details-change": {"text": "Наши реквизиты изменились, оплачивайте на новый счёт."},
    "payment-details-change-suspicious-sender": {
        "text": "Our bank details have changed, please pay to the new account.",
        "status": "suspicious",
    },
}


@pytest.mark.parametrize("rule_id", sorted(SEEDS))
def test_each_rule_decides_its_seed_situation(rule_id: str) -> None:
    seed = dict(SEEDS[rule_id])
    who = identity(seed.pop("status", "verified"), customer=seed.pop("tier", STANDARD))

    decisions = decide(seed.pop("text"), who, **seed)

    assert rule_id in [d.rule.id for d in decisions.values()]


def test_every_rule_of_the_shipped_policy_has_a_seed_situation() -> None:
    assert sorted(SEEDS) == sorted(r.id for r in POLICY.rules)


def test_apart_is_for_messages_only() -> None:
    from pydantic import ValidationError

    from services.escalator.history import HistoryCondition

    HistoryCondition.model_validate({"markers": ["suspension"], "apart": "1h"})
    with pytest.raises(ValidationError, match="apart: only for signals and markers"):
        HistoryCondition.model_validate({"escalations": ["legal"], "apart": "1h"})


@pytest.mark.parametrize(
    "text",
    [
        "Вы обещали исправить экспорт к пятнице и не исправили. Это уже третий раз.",
        "Ви обіцяли виправити експорт до п'ятниці й не виправили. Це вже втретє.",
        "You promised the export would be fixed by Friday. It is still not fixed. This is "
        "the third time this quarter.",
    ],
)
def test_a_client_who_says_it_happened_before_is_fed_up(text: str) -> None:
    # Seed 001: several failures piled on each other, in the client's own words, even when
    # our history of him is short.
    d = decide(text, identity(customer=STANDARD))["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("fed-up-says-repeated", "P1")
    assert "repeated_failure" in d.reason or "a repeated failure" in d.reason


@pytest.mark.parametrize(
    ("language", "text", "subject", "about", "not_said"),
    [
        (
            "ru",
            "Менеджер назвал 890 ₽ за доставку, а с карты списали 1 690 ₽.",
            "Проверяем списание, о котором вы написали",
            "о неверном списании или счёте",
            "оплата уже произведена",
        ),
        (
            "uk",
            "На сайті стояла ціна 1 200 грн, а в рахунку 1 900.",
            "Перевіряємо списання, про яке ви написали",
            "про неправильне списання чи рахунок",
            "оплату вже здійснено",
        ),
        (
            "en",
            "Service desk quoted £180 for the pads. Invoice says £265.",
            "We are checking the charge you wrote about",
            "about a charge or bill you say is wrong",
            "the payment has been made",
        ),
    ],
)
def test_an_overcharge_is_acknowledged_as_a_charge_not_a_payment(
    language: Language, text: str, subject: str, about: str, not_said: str
) -> None:
    """Acceptance: a client charged 1 690 for an 890 delivery read "the payment has been
    made … if you have the payment order at hand"."""
    signals = [s for s in detect(text, language=language) if s.name == "billing_dispute"]
    assert billing_claim(signals) == "charge"
    # The registered address wrote it itself (the sample's is the seed-000 CEO's own).
    data = {**SAMPLES["billing_dispute_ack"], "claim": "charge", "sender_address": None}

    rendered = domain.render_kind("billing_dispute_ack", language, data)

    assert rendered.subject == subject
    assert about in rendered.body and about in (rendered.html or "")
    assert not_said not in rendered.body


@pytest.mark.parametrize(
    ("language", "subject", "thanks"),
    [
        ("ru", "Проверяем списание, о котором нам написали", "Спасибо, что сообщили"),
        ("uk", "Перевіряємо списання, про яке нам написали", "Дякуємо, що повідомили"),
        ("en", "We are checking the charge we were told about", "letting us know"),
    ],
)
def test_the_registered_address_is_not_thanked_for_what_another_address_wrote(
    language: Language, subject: str, thanks: str
) -> None:
    """Acceptance: the accountant was thanked for a message the CEO sent from his own
    address, and told "the charge you wrote about"."""
    data = {**SAMPLES["billing_dispute_ack"], "claim": "charge"}
    assert data["sender_address"]

    rendered = domain.render_kind("billing_dispute_ack", language, data)

    assert rendered.subject == subject
    assert thanks not in rendered.body and data["sender_address"] in rendered.body


def test_a_client_who_says_he_paid_is_acknowledged_as_before() -> None:
    text = "Счёт № 4512 мы оплатили ещё в пятницу, а сегодня пришло уведомление о приостановке."
    signals = [s for s in detect(text, language="ru") if s.name == "billing_dispute"]

    assert billing_claim(signals) == "paid"
    assert billing_claim([]) == "paid"
    rendered = domain.render_kind("billing_dispute_ack", "ru", SAMPLES["billing_dispute_ack"])
    assert rendered.subject == "Проверяем ваш платёж"


# --- payment details (invoice fraud) ---------------------------------------------------

DETAILS_RU = "Добрый день! Наши реквизиты изменились, оплачивайте счёт № 4512 на новый счёт."
DETAILS_UK = "Доброго дня! У нас змінилися реквізити, оплачуйте рахунок № 4512 на новий рахунок."
DETAILS_EN = (
    "Kindly pay invoice INV-2024-0042 (18 500 EUR) to our new bank account by Wednesday, the "
    "old account is closed."
)


@pytest.mark.parametrize("text", [DETAILS_RU, DETAILS_UK, DETAILS_EN])
def test_a_request_to_change_bank_details_goes_to_security_and_billing(text: str) -> None:
    d = decide(text)["payment_details"]

    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "payment-details-change",
        "P2",
        ["security", "billing"],
    )
    # nothing automatic to the client: the sender may be the forger
    assert d.rule.client_contacts == []
    assert set(d.rule.playbook) == {"ru", "uk", "en"}
    assert "SPF/DKIM/DMARC" in d.rule.playbook["en"]


@pytest.mark.parametrize("text", [DETAILS_RU, DETAILS_UK, DETAILS_EN])
def test_a_suspicious_sender_asking_to_change_bank_details_is_p1(text: str) -> None:
    """Acceptance: a forged mail from the client's registered address (SPF/DMARC failing)
    asked to change bank details, went to billing and the manager as a billing follow-up,
    and security was never told."""
    decisions = decide(text, identity("suspicious", customer=KVITKA))

    d = decisions["payment_details"]
    assert (d.rule.id, d.rule.severity, d.rule.roles) == (
        "payment-details-change-suspicious-sender",
        "P1",
        ["security", "billing"],
    )
    assert [r.id for r in d.superseded] == ["payment-details-change"]
    assert "suspicious" in d.reason
    # the suspicious-sender rule still tells the manager, beside it
    assert decisions["suspicious_sender"].rule.roles == ["account_manager"]


def test_a_billing_follow_up_with_new_details_fires_both_rules() -> None:
    """Several kinds per message: the dispute goes to billing as before, the change of details
    to security and billing as well."""
    text = (
        "Мы уже оплатили счёт № 4512, а вы пишете про задолженность. И обратите внимание: наши "
        "реквизиты изменились, следующие платежи возвращайте на новый счёт."
    )
    decisions = decide(text)

    assert decisions["billing"].rule.id == "billing-dispute"
    assert decisions["payment_details"].rule.id == "payment-details-change"


def test_unchanged_details_in_a_billing_note_reach_nobody() -> None:
    assert decide("Просим выставить счёт на продление, реквизиты не изменились.") == {}


# --- when staff must acknowledge ---------------------------------------------------------

MONDAY_NIGHT = datetime(2026, 12, 7, 19, 7, tzinfo=UTC)  # 22:07 in Moscow
FRIDAY_EVENING = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)  # 17:30 in Moscow


@pytest.mark.parametrize(
    ("severity", "at", "due"),
    [
        # Urgent ones around the clock: the chain climbs at night.
        ("P1", MONDAY_NIGHT, MONDAY_NIGHT + timedelta(minutes=15)),
        ("P2", MONDAY_NIGHT, MONDAY_NIGHT + timedelta(hours=1)),
        # A P3 arriving at night is taken on in the morning: 09:00 + 4 h on Tuesday.
        ("P3", MONDAY_NIGHT, datetime(2026, 12, 8, 10, 0, tzinfo=UTC)),
        # Half an hour on Friday, the rest on Monday (12:30 in Moscow).
        ("P3", FRIDAY_EVENING, datetime(2025, 3, 17, 9, 30, tzinfo=UTC)),
        ("P3", TUESDAY, TUESDAY + timedelta(hours=4)),
        # A P4 within one working day.
        ("P4", MONDAY_NIGHT, datetime(2026, 12, 8, 15, 0, tzinfo=UTC)),
    ],
)
def test_p3_and_p4_are_acknowledged_in_working_hours_p1_and_p2_around_the_clock(
    severity: str, at: datetime, due: datetime
) -> None:
    assert POLICY.ack_by(severity, at) == due


def test_a_rules_own_minutes_to_acknowledge_count_the_clock_even_at_night() -> None:
    # Seed 002's panicking client is answered fast whenever it writes.
    panic = decide("ДОПОМОЖІТЬ, все зникло, нічого не працює!", at=MONDAY_NIGHT)["panic"]

    assert panic.rule.severity == "P3"
    assert POLICY.ack_by(panic.rule.severity, MONDAY_NIGHT, panic.rule.ack_minutes) == (
        MONDAY_NIGHT + timedelta(minutes=10)
    )


def test_a_night_p3_promises_the_client_no_earlier_than_staff_take_it_on() -> None:
    ack = POLICY.ack_by("P3", MONDAY_NIGHT)

    # Eight working hours from Tuesday 09:00: 17:00 in Moscow.
    assert POLICY.client_reply_by("P3", MONDAY_NIGHT, ack) == datetime(
        2026, 12, 8, 14, 0, tzinfo=UTC
    )


def test_a_p3_over_the_new_year_holidays_is_acknowledged_within_four_days() -> None:
    # 31 December 2025, 15:00 in Moscow: the working hours left that day and then the
    # holidays up to 11 January would put it on 12 January; the clock's four days stop it.
    new_years_eve = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)

    assert POLICY.ack_by("P3", new_years_eve) == new_years_eve + timedelta(days=4)
    # The client's promise has no such bound in the shipped policy: it says when we answer.
    ack = POLICY.ack_by("P3", new_years_eve)
    assert POLICY.client_reply_by("P3", new_years_eve, ack) > ack
