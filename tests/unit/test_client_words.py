"""The failure notice lays out what went wrong in the client's own words, one item per
problem (seed 001), and sends those words back only to the address that wrote them. In
ru, uk and en, with the real detector."""

from __future__ import annotations

import pytest

from services.escalator.client_words import LONGEST, MOST, reported_problems, sentences_with
from services.escalator.detection import detect
from services.escalator.notifications import client_contacts
from services.escalator.policy import evaluate
from services.notifier.domain import render
from shared.contracts import Language, Signal, SignalEvidence
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit


def said_back(text: str, language: Language) -> list[str]:
    """The items the failure notice lists of `text`, with the real detector's signals."""
    return reported_problems(text, detect(text, language=language))


@pytest.mark.parametrize(
    ("language", "text", "problems"),
    [
        (
            "ru",
            "Добрый день. Вы обещали починить экспорт к пятнице и так и не сделали. "
            "Отчёты опять пропали после вашего обновления!\nЖдём ответа.",
            [
                "Вы обещали починить экспорт к пятнице и так и не сделали.",
                "Отчёты опять пропали после вашего обновления!",
            ],
        ),
        (
            "uk",
            "Доброго дня. Ви обіцяли виправити експорт до п'ятниці, але так і не зробили. Дякую.",
            ["Ви обіцяли виправити експорт до п'ятниці, але так і не зробили."],
        ),
        (
            "en",
            "Hello. You promised to fix the export by Friday and it still doesn't work. Thanks.",
            ["You promised to fix the export by Friday and it still doesn't work."],
        ),
    ],
)
def test_each_sentence_that_reports_a_failure_is_one_item(
    language: Language, text: str, problems: list[str]
) -> None:
    signals = detect(text, language=language)
    assert any(s.name == "service_failure" for s in signals)

    assert reported_problems(text, signals) == problems


def failure(text: str, *words: str) -> list[Signal]:
    """A service_failure signal with evidence on each of `words` in `text`."""
    evidence = [
        SignalEvidence(start=text.index(w), end=text.index(w) + len(w), text=w, rule="t")
        for w in words
    ]
    return [Signal(name="service_failure", score=0.9, evidence=evidence)]


def test_items_are_few_short_once_each_and_mask_card_numbers() -> None:
    long = "Сбой " + "очень " * 60 + "долгий."
    text = f"Сбой оплаты картой 4276 3800 1234 5678. {long} Сбой. Сбой. Сбой. Сбой."
    items = reported_problems(text, failure(text, "Сбой оплаты", "очень", "Сбой."))

    assert items[0] == "Сбой оплаты картой **** **** **** 5678."
    assert len(items[1]) <= LONGEST and items[1].endswith("…")
    assert items[2] == "Сбой."  # the same sentence again is not another item
    assert len(items) <= MOST


def test_only_failure_evidence_counts_not_marks_on_the_form() -> None:
    text = "ГДЕ МОИ ДЕНЬГИ?! Ничего не сломалось."
    caps = SignalEvidence(start=0, end=14, text=text[:14], rule="form.all_caps")
    assert reported_problems(text, [Signal(name="service_failure", score=1, evidence=[caps])]) == []
    abuse = [Signal(name="abuse", score=1, evidence=[caps.model_copy(update={"rule": "x"})])]
    assert reported_problems(text, abuse) == []


def notice_to(sender: str, status: str = "verified") -> dict[str, object]:
    text = "Вы обещали починить экспорт к пятнице и так и не сделали."
    verified = verified_message(message(text, email=sender), identity(status))
    signals = detect(text, language="ru")
    decisions = evaluate(POLICY, signals, verified.identity)
    (decision,) = [d for d in decisions if d.rule.kind == "service_failure"]
    notes = client_contacts(decision, escalation(decision, verified), verified)
    (note,) = [n for n in notes if n.kind == "service_failure_notice"]
    return {"data": note.data, "rendered": render(note)}


def test_the_words_go_back_to_the_address_that_wrote_them_only() -> None:
    own = notice_to("buh@stroymontazh.ru")  # the registered address wrote
    assert own["data"]["problems"] == [  # type: ignore[index]
        "Вы обещали починить экспорт к пятнице и так и не сделали."
    ]
    body = own["rendered"].body  # type: ignore[attr-defined]
    assert "Что случилось — как вы это описали:" in body
    assert "«Вы обещали починить экспорт к пятнице и так и не сделали.»" in body

    # Another verified channel of the client wrote (the CEO's own phone or address): his
    # words are the client's, quoted to the registered address too.
    colleague = notice_to("ceo@stroymontazh.ru")
    assert colleague["data"]["problems"] == own["data"]["problems"]  # type: ignore[index]

    # A sender not yet confirmed wrote (the notice goes to the registered owner): a
    # stranger's text is not quoted to the client.
    other = notice_to("ceo@stroymontazh.ru", "probable")
    assert other["data"]["problems"] == []  # type: ignore[index]
    assert "как вы это описали" not in other["rendered"].body  # type: ignore[attr-defined]
    # Nor is it called the registered address's own message.
    assert "(ваше письмо" not in other["rendered"].subject  # type: ignore[attr-defined]
    assert "(ваше письмо" in own["rendered"].subject  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("language", "text", "problems"),
    [
        (
            "uk",
            "Третій день нічого не працює. Якщо до п'ятниці не повернете кошти за зіпсоване "
            "замовлення, я подам на вас до суду.",
            ["Третій день нічого не працює."],
        ),
        (
            "en",
            "Two weeks ago you promised the export bug would be fixed by Friday. It is still "
            "not fixed. This is the third time this quarter.",
            [
                "Two weeks ago you promised the export bug would be fixed by Friday.",
                "It is still not fixed.",
            ],
        ),
    ],
)
def test_threats_and_repetition_are_not_problems_to_quote(
    language: Language, text: str, problems: list[str]
) -> None:
    assert said_back(text, language) == problems


@pytest.mark.parametrize(
    ("language", "text", "problems"),
    [
        (
            "ru",
            "Экспорт до сих пор не работает; вчера ваш менеджер сказал, что выгрузка в 1С есть, "
            "а её нет.",
            [
                "Экспорт до сих пор не работает.",
                "Вчера ваш менеджер сказал, что выгрузка в 1С есть, а её нет.",
            ],
        ),
        (
            "uk",
            "Сайт не працює з ранку, і звіти зникли після вашого оновлення!",
            ["Сайт не працює з ранку.", "Звіти зникли після вашого оновлення!"],
        ),
        (
            "en",
            "It is still not fixed, and yesterday your agent told us the feature doesn't exist.",
            ["It is still not fixed.", "Yesterday your agent told us the feature doesn't exist."],
        ),
        (
            "ru",
            "Сайт лежит с утра, а ещё отчёты пропали после вашего обновления.",
            ["Сайт лежит с утра.", "Отчёты пропали после вашего обновления."],
        ),
    ],
)
def test_a_sentence_joining_two_problems_is_two_items(
    language: Language, text: str, problems: list[str]
) -> None:
    assert said_back(text, language) == problems


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("uk", "Ви обіцяли виправити експорт до п'ятниці, але так і не зробили."),
        ("ru", "Вы обещали починить экспорт к пятнице, но так и не сделали."),
        ("en", "You promised to fix the export by Friday, but it still doesn't work."),
    ],
)
def test_a_promise_and_its_breach_are_one_problem(language: Language, text: str) -> None:
    assert said_back(text, language) == [text]


def test_a_threat_keeps_its_whole_sentence_out_even_with_a_problem_in_it() -> None:
    text = "Экспорт до сих пор не работает, и если завтра не почините, я подам на вас в суд."
    signals = detect(text, language="ru")
    assert {s.name for s in signals} >= {"service_failure", "legal_threat"}

    assert reported_problems(text, signals) == []


@pytest.mark.parametrize(
    ("language", "text", "problems"),
    [
        (
            "en",
            "Your website says you are open Saturdays 9-1. I drove across town and found a "
            "locked door. Also, the app has been down since morning.",
            [
                "Your website says you are open Saturdays 9-1. I drove across town and found "
                "a locked door.",
                "The app has been down since morning.",
            ],
        ),
        (
            "uk",
            "Консультант запевнив, що інтеграція з Checkbox є в тарифі. Купили річний тариф, а "
            "такої інтеграції нема.",
            [
                "Консультант запевнив, що інтеграція з Checkbox є в тарифі. Купили річний тариф, "
                "а такої інтеграції нема."
            ],
        ),
        (
            "ru",
            "Менеджер назвал 890 ₽ за доставку, а с карты списали 1 690 ₽. И ещё: экспорт до "
            "сих пор не работает.",
            [
                "Менеджер назвал 890 ₽ за доставку, а с карты списали 1 690 ₽.",
                "Экспорт до сих пор не работает.",
            ],
        ),
    ],
)
def test_evidence_across_sentences_is_one_item_and_an_opening_joiner_is_left_out(
    language: Language, text: str, problems: list[str]
) -> None:
    assert said_back(text, language) == problems


def test_an_insult_is_cut_off_the_problem_beside_it() -> None:
    text = "Третій день нічого не працює, що за х*йня"
    signals = detect(text, language="uk")
    assert {"abuse", "service_failure"} <= {s.name for s in signals}

    assert reported_problems(text, signals) == ["Третій день нічого не працює."]


def test_up_to_five_problems_are_listed() -> None:
    sentences = [f"Сбой номер {n}." for n in range(1, 8)]
    text = " ".join(sentences)
    items = reported_problems(text, failure(text, *sentences))

    assert items == sentences[:MOST] and MOST == 5


def test_news_is_quoted_as_the_sentences_its_words_stand_in() -> None:
    text = "Добрый день. Вы обещали, что к пятнице всё будет. Нас списали дважды! Ждём."

    def at(words: str) -> tuple[int, int]:
        return text.index(words), text.index(words) + len(words)

    assert sentences_with(text, [at("обещали"), at("дважды"), at("обещали")]) == (
        "Вы обещали, что к пятнице всё будет.",
        "Нас списали дважды!",
    )
    # Evidence across a line break is found where it stands, not searched for.
    broken = "Добрый день.\nВы обещали\nк пятнице. Ждём."
    assert sentences_with(broken, [(broken.index("обещали"), broken.index("пятнице"))]) == (
        "Вы обещали.",
    )


@pytest.mark.timeout(10)
@pytest.mark.parametrize("joiner", ["\n", " "], ids=["lines", "one-line"])
def test_a_huge_pasted_log_is_cut_only_as_far_as_its_evidence(joiner: str) -> None:
    """A hang guard, not a speed goal: every sentence of a pasted 900 kB log was cut to find
    the few the detector's evidence stands in (2 s, times each evidence); now only those up
    to the last evidence, which lies within the detector's first DETECTION_CHARS."""
    head = "Экспорт не работает третий день. Отчёты пропали. Сайт лежит с утра."
    log = joiner.join(f"{i:05d} Счёт № {45000 + i} оплата 1 250,00 руб. ок" for i in range(30_000))
    text = f"{head}{joiner}{log}"
    signals = detect(text, language="ru")
    said = ["Экспорт не работает третий день.", "Отчёты пропали.", "Сайт лежит с утра."]
    assert reported_problems(text, signals) == said
    spans = [(e.start, e.end) for s in signals for e in s.evidence]
    assert sentences_with(text, spans) == tuple(said)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "ru",
            "Экспорт не работает третий день, хотя вы обещали починить, и если не почините "
            "до вечера, я приеду и всем вам ноги переломаю.",
        ),
        (
            "uk",
            "Експорт не працює третій день, хоча ви обіцяли полагодити, і якщо не полагодите, "
            "я приїду й поламаю вам ноги.",
        ),
        (
            "en",
            "The export is broken again and if you don't fix it I will come to your office "
            "and hurt you.",
        ),
    ],
)
def test_the_failure_notice_quotes_no_sentence_with_a_threat_in_it(
    language: Language, text: str
) -> None:
    """The failure rule's own signals show no threat: the notice is told every signal of the
    message (the escalator passes them), so a threat beside a failure is not quoted back."""
    verified = verified_message(message(text, email="buh@stroymontazh.ru"), identity("verified"))
    signals = detect(text, language=language)
    assert {"service_failure", "violence_threat"} <= {s.name for s in signals}
    decisions = evaluate(POLICY, signals, verified.identity)
    (decision,) = [d for d in decisions if d.rule.kind == "service_failure"]
    event = escalation(decision, verified)
    notes = client_contacts(decision, event, verified, message_signals=signals)
    (note,) = [n for n in notes if n.kind == "service_failure_notice"]
    assert note.data["problems"] == []
    assert "ноги" not in render(note).body and "hurt" not in render(note).body
