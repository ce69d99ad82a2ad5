"""The channel forms (phone, web form, system notice, provider email JSON) and the entities
and reply structures added for them, as docs/intake.md describes them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.intake.domain import normalize, split_reply
from services.intake.entities import compile_document_patterns, extract_entities
from shared.contracts import InboundMessage
from shared.errors import PermanentError
from shared.settings import DEMO_AUTHSERV_ID

pytestmark = pytest.mark.unit


def message(**data: object) -> InboundMessage:
    return InboundMessage.model_validate(data)


def values(text: str, kind: str) -> list[tuple[str, str]]:
    return [(e.value, text[e.start : e.end]) for e in extract_entities(text) if e.kind == kind]


# --- phone ---------------------------------------------------------------------------


def test_transcript_keeps_the_clients_turns_as_text_and_the_rest_as_context() -> None:
    result = normalize(
        message(
            channel="phone",
            sender={"phone": "+380671234567"},
            transcript=[
                {"speaker": "Оператор", "text": "Служба підтримки, слухаю."},
                {"speaker": "Клієнт", "text": "У мене двічі списали гроші!"},
                {"speaker": "Оператор", "text": "Перевіряю."},
                {"speaker": "A", "role": "client", "text": "Поверніть 500 грн."},
            ],
        )
    )

    assert result.text == "У мене двічі списали гроші!\nПоверніть 500 грн."
    assert result.quoted_text == "Оператор: Служба підтримки, слухаю.\nОператор: Перевіряю."
    assert result.language == "uk"
    assert [(e.kind, e.value) for e in result.entities] == [("money", "500 UAH")]


def test_speaker_labelled_text_is_read_as_a_transcript() -> None:
    text = (
        "Operator: Careline support, how can I help?\n"
        "Customer: My dashboard is down\nagain since Monday."
    )
    result = normalize(message(channel="phone", sender={"phone": "+74951234567"}, text=text))

    assert result.text == "My dashboard is down\nagain since Monday."
    assert result.quoted_text == "Operator: Careline support, how can I help?"
    assert ("weekday:monday", "Monday") in values(result.text, "date")


def test_unlabelled_phone_text_is_all_the_clients() -> None:
    result = normalize(
        message(channel="phone", sender={"phone": "89161234567"}, text="Алло, ничего не работает")
    )

    assert result.text == "Алло, ничего не работает"
    assert result.sender.phone == "+79161234567"


def test_transcript_without_a_client_turn_is_rejected() -> None:
    inbound = message(
        channel="phone",
        sender={"phone": "+74951234567"},
        transcript=[{"speaker": "IVR", "text": "Нажмите 1"}],
    )
    with pytest.raises(PermanentError, match="empty"):
        normalize(inbound)


def test_transcript_belongs_to_the_phone_channel() -> None:
    with pytest.raises(ValidationError, match="transcript is for channel=phone"):
        message(channel="chat", sender={"handle": "@a"}, transcript=[{"speaker": "x", "text": "y"}])


# --- web form and system notice -------------------------------------------------------


def test_web_form_gives_sender_text_signature_and_context() -> None:
    result = normalize(
        message(
            channel="web_form",
            form={
                "name": "Алексей Соколов",
                "email": "A.Sokolov@StroyMontazh.ru",
                "phone": "8 (495) 123-45-67",
                "company": "ООО «СтройМонтаж»",
                "subject": "Отключение",
                "message": "Счёт № 4512 оплачен вчера, а аккаунт заблокирован.",
                "fields": {"Номер договора": "17/2024"},
            },
        )
    )

    assert result.sender.email == "a.sokolov@stroymontazh.ru"
    assert result.sender.phone == "+74951234567"
    assert result.sender.display_name == "Алексей Соколов"
    assert result.subject == "Отключение"
    assert result.signature == "Алексей Соколов\nООО «СтройМонтаж»"
    assert result.quoted_text == "Номер договора: 17/2024"
    assert ("invoice", "4512") in [(e.kind, e.value) for e in result.entities]


def test_system_notice_is_a_message_from_its_source() -> None:
    result = normalize(
        message(
            channel="system",
            external_id="billing-evt-1",
            notice={
                "source": "billing",
                "event": "suspension_notice_sent",
                "customer_ref": "cust-stroymontazh",
                "text": "Ваш платёж просрочен. Действие аккаунта будет приостановлено.",
                "details": {"amount": 120000},
            },
        )
    )

    assert result.sender.handle == "billing"
    assert result.subject == "suspension_notice_sent"
    assert result.text.startswith("Ваш платёж просрочен")
    assert "customer: cust-stroymontazh" in result.quoted_text
    assert "amount: 120000" in result.quoted_text
    assert result.external_id == "billing-evt-1"


# --- email as provider JSON --------------------------------------------------------------


def test_provider_json_email_is_normalized_like_a_source() -> None:
    result = normalize(
        message(
            channel="email",
            email={
                "from": "Ivan Petrov <Ivan@Example.RU>",
                "subject": "Re: Доступ",
                "html": "<p>Доступ <b>закрыт</b>, см. <a href='https://x.example'>скрин</a></p>"
                "<blockquote>&gt; старое письмо</blockquote>",
                "message_id": "<hook-2@example.ru>",
                "references": ["<root@careline.example> <mid@careline.example>"],
                "headers": {
                    "Authentication-Results": "MX.careline.example; spf=pass; dkim=fail; dmarc=fail"
                },
                "attachments": [{"filename": "a.pdf", "content_type": "application/pdf"}],
            },
        ),
        authserv_ids=frozenset({DEMO_AUTHSERV_ID}),
    )

    assert result.sender.email == "ivan@example.ru"
    assert result.text.startswith("Доступ закрыт, см. скрин")
    assert "**" not in result.text and "https://" not in result.text
    assert result.thread_id == "root@careline.example"
    assert (result.auth.spf, result.auth.dkim, result.auth.dmarc) == ("pass", "fail", "fail")
    assert [a.filename for a in result.attachments] == ["a.pdf"]


def test_provider_json_email_of_another_authserv_id_is_unauthenticated() -> None:
    # The provider passes on the headers as the mail had them: one a forger wrote too.
    inbound = message(
        channel="email",
        email={
            "from": "ivan@example.ru",
            "text": "Доступ закрыт",
            "headers": {"authentication-results": "mx.forger.example; spf=pass; dmarc=pass"},
        },
    )
    assert normalize(inbound, authserv_ids=frozenset({DEMO_AUTHSERV_ID})).auth.dmarc == "none"
    assert normalize(inbound).auth.dmarc == "none"  # no trusted ids: none is believed


def test_email_forms_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="give one of"):
        message(channel="email", raw_email="From: a@b.c\n\nhi", email={"from": "a@b.c"})


# --- reply structure ------------------------------------------------------------------


def test_answers_between_quotes_are_new_text() -> None:
    body = (
        "On Mon, 25 Nov 2024 at 10:00, Support <support@careline.example> wrote:\n"
        "> Did you restart the router?\n"
        "Yes, twice.\n"
        "> Which model is it?\n"
        "TP-Link Archer C6.\n"
    )
    fresh, quoted, _ = split_reply(body)

    assert fresh == "Yes, twice.\nTP-Link Archer C6."
    assert "> Did you restart the router?" in quoted and "wrote:" in quoted


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, 25 Nov 2024 at 10:00, Support Team of Careline <\n"
        "support@careline.example> wrote:",
        "пн, 25 нояб. 2024 г. в 10:00, Служба поддержки <support@careline.example>:",
    ],
    ids=["wrapped-gmail", "russian-gmail"],
)
def test_gmail_attributions_start_the_quote(header: str) -> None:
    fresh, quoted, _ = split_reply(f"Спасибо, всё работает.\n\n{header}\n> Попробуйте ещё раз.")

    assert fresh == "Спасибо, всё работает."
    assert quoted.endswith("> Попробуйте ещё раз.")


@pytest.mark.parametrize(
    "header",
    [
        "7 дек. 2026 г., в 10:00, Служба поддержки <support@careline.example> написал(а):",
        "Понедельник, 7 декабря 2026, 10:00 +03:00 от support@careline.example:",
        "Служба поддержки <support@careline.example> 07.12.2026 10:00",
        "--- Оригінальний лист ---",
    ],
    ids=["apple-mail-ru", "mail-ru-bare-address", "lotus-notes", "ukr-net"],
)
def test_more_mail_clients_quote_headers_start_the_quote_unmarked(header: str) -> None:
    """A second review: the history these clients quote without ">" stayed in the client's
    own text, with our request's code and words in it (the confirmation reply was read on
    them: «Это не мы» from our own mail made a yes a no)."""
    body = f"Да, это мы\n\n{header}\nЗдравствуйте! Ответьте кодом OK-ABCD-EFGH."
    fresh, quoted, _ = split_reply(body)

    assert fresh == "Да, это мы"
    assert quoted.endswith("Ответьте кодом OK-ABCD-EFGH.")


def test_a_lone_from_line_is_the_clients_text_but_an_outlook_block_is_history() -> None:
    own = "From: my new address, please reply here.\nThe invoice is paid."
    assert split_reply(own)[0] == own

    outlook = "Paid.\n\nFrom: Support <s@careline.example>\nSent: Monday\nTo: me\n\nPay now."
    fresh, quoted, _ = split_reply(outlook)
    assert fresh == "Paid."
    assert quoted.startswith("From: Support")


# --- entities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Оплатили 25.11.2024", [("2024-11-25", "25.11.2024")]),
        ("придём в субботу", [("weekday:saturday", "субботу")]),
        ("прийду у суботу 14 квітня", [("weekday:saturday", "суботу"), ("--04-14", "14 квітня")]),
        ("ждём уже 2 месяца", [("P2M", "2 месяца")]),
        ("и полгода до этого", [("P0.5Y", "полгода")]),
        (
            "on April 14th, 2024 and tomorrow",
            [("2024-04-14", "April 14th, 2024"), ("day:+1", "tomorrow")],
        ),
        ("down for 3 hours", [("PT3H", "3 hours")]),
        ("вчора о 10", [("day:-1", "вчора")]),
        ("дата 2024-11-25", [("2024-11-25", "2024-11-25")]),
        ("через месяц", []),
        ("ratio 3/4", []),
        ("звоните +7 495 123-45-67", []),
    ],
)
def test_dates_and_relative_dates(text: str, expected: list[tuple[str, str]]) -> None:
    assert values(text, "date") == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("счётчик 5 показывает ноль", "invoice", []),
        ("расчётный счёт 40702810900000012345", "invoice", []),
        ("лицевой счёт № 123", "account", [("123", "лицевой счёт № 123")]),
        ("лицевой счёт № 123", "invoice", []),
        ("оплатили счета № 77", "invoice", [("77", "счета № 77")]),
        ("рахунку № 15 не бачу", "invoice", [("15", "рахунку № 15")]),
    ],
)
def test_document_numbers_without_false_friends(
    text: str, kind: str, expected: list[tuple[str, str]]
) -> None:
    assert values(text, kind) == expected


def test_document_patterns_are_configurable() -> None:
    patterns = compile_document_patterns(
        {
            "documents": {
                "order": {
                    "keywords": ["тикет", "ticket"],
                    "markers": ["#"],
                    "marker_required": True,
                    "number": r"\d+",
                }
            }
        }
    )
    entities = extract_entities("см. тикет #5521, счёт № 1", patterns)

    assert [(e.kind, e.value) for e in entities] == [("order", "5521")]


def test_unknown_document_kind_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown document kind"):
        compile_document_patterns({"documents": {"passport": {"keywords": ["x"], "number": "1"}}})


def test_ukrainian_phone_without_country_code_is_found() -> None:
    assert values("мій номер 067 123 45 67", "phone") == [("+380671234567", "067 123 45 67")]


def test_invalid_sender_phone_is_kept_as_the_handle() -> None:
    result = normalize(message(channel="chat", sender={"phone": "12345"}, text="Помогите"))

    assert result.sender.phone is None
    assert result.sender.handle == "12345"
