"""The confirmation loop's pure parts: codes, signed single-use links, reading a reply."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.verifier.confirmation import (
    TokenRejected,
    codes_in,
    confirmation_code,
    is_denial,
    new_confirmation,
    read_reply,
    read_token,
    sign_token,
    vouches,
)
from services.verifier.matching import document_key, email_key, fold, handle_key, phone_key
from shared.case_ref import NotACaseRef, parse_case_ref

pytestmark = pytest.mark.unit

SECRET = b"test-secret"
NOW = datetime(2022, 3, 26, 11, 2, 30, 123456, tzinfo=UTC)
MESSAGE = uuid.UUID("00000000-0000-0000-0000-000000000042")


def test_the_same_message_yields_the_same_confirmation() -> None:
    a = new_confirmation(SECRET, MESSAGE, NOW, timedelta(hours=72), "https://s.example/c/")
    b = new_confirmation(SECRET, MESSAGE, NOW, timedelta(hours=72), "https://s.example/c")
    assert a == b
    assert a.expires_at == datetime(2022, 3, 29, 11, 2, 30, tzinfo=UTC)
    assert a.url is not None and a.url.startswith("https://s.example/c/")
    assert a.code.startswith("OK-") and len(a.code) == 12


def test_codes_depend_on_the_secret_and_the_confirmation() -> None:
    other = uuid.uuid4()
    assert confirmation_code(SECRET, MESSAGE) != confirmation_code(b"other", MESSAGE)
    assert confirmation_code(SECRET, MESSAGE) != confirmation_code(SECRET, other)


def test_no_link_base_means_code_by_reply_only() -> None:
    assert new_confirmation(SECRET, MESSAGE, NOW, timedelta(hours=1), None).url is None


def test_a_signed_token_reads_back_until_it_expires() -> None:
    expires = NOW + timedelta(hours=1)
    token = sign_token(SECRET, MESSAGE, expires)

    claims = read_token(SECRET, token, NOW)
    assert claims.confirmation_id == MESSAGE
    assert claims.expires_at == expires.replace(microsecond=0)
    with pytest.raises(TokenRejected) as expired:
        read_token(SECRET, token, expires)
    assert expired.value.expired and expired.value.confirmation_id == MESSAGE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # payload altered
        lambda t: t.replace(".", ""),  # no signature
        lambda t: "garbage",
        lambda t: t + ".x",
    ],
    ids=["signature", "payload", "unsigned", "garbage", "extra-part"],
)
def test_an_altered_or_foreign_token_is_rejected(mangle) -> None:  # type: ignore[no-untyped-def]
    token = sign_token(SECRET, MESSAGE, NOW + timedelta(hours=1))
    with pytest.raises(TokenRejected) as rejected:
        read_token(SECRET, mangle(token), NOW)
    assert not rejected.value.expired


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = sign_token(b"someone else", MESSAGE, NOW + timedelta(hours=1))
    with pytest.raises(TokenRejected):
        read_token(SECRET, token, NOW)


def test_codes_are_found_in_any_case_and_only_whole() -> None:
    text = "Подтверждаю ok-abcd-efgh\n> Код: OK-ABCD-EFGH, и ещё OK-WXYZ-2345"
    # Each as issued now and as issued before the prefix changed (a request still pending).
    assert codes_in(text, "XOK-AAAA-BBBB", "OK-AAAA-BBBBB") == [
        *("OK-ABCD-EFGH", "CL-ABCD-EFGH", "OK-WXYZ-2345", "CL-WXYZ-2345")
    ]
    assert codes_in("Код: CL-ABCD-EFGH") == ["OK-ABCD-EFGH", "CL-ABCD-EFGH"]


def test_a_code_does_not_look_like_a_case_reference() -> None:
    """Case references are CL-XXXX-XXXX (shared/case_ref.py): a client quoting the case
    number must not be taken for one answering with the code, nor a code for a case."""
    code = confirmation_code(SECRET, MESSAGE)
    assert code.startswith("OK-")
    with pytest.raises(NotACaseRef):
        parse_case_ref(code)


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        ("Это не мы, ничего не отправляли", True),
        ("Не я", True),
        ("Це не ми! Ми нічого не надсилали.", True),
        ("That was not me.", True),
        ("We didn't send anything", True),
        ("Подтверждаю, это наш директор", False),
        ("Так, це наш директор, підтверджую", False),
        ("Yes, that is our CEO", False),
        ("Не могу найти счёт, но подтверждаю", False),
    ],
)
def test_a_reply_saying_it_was_not_them_is_a_denial(text: str, denied: bool) -> None:
    assert is_denial(text) is denied


@pytest.mark.parametrize(
    "text",
    [
        # How people answer "someone asked to change your payment details in your name".
        "Мы ничего не просили менять!",
        "Это мошенники, ничего не меняйте",
        "Не подтверждаю.",
        "Ні, ми нічого не просили",
        "Це шахраї!",
        "Не підтверджую",
        "We didn't ask for this",
        "We never requested any change.",
        "This is a scam, do not change anything",
        "Not authorized by us",
    ],
)
def test_answers_to_the_fraud_warning_are_denials(text: str) -> None:
    assert is_denial(text)


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("OK-ABCD-EFGH", True),  # the code typed or pasted
        ("Подтверждаю", True),
        ("Да, это наш директор.", True),
        ("Так, це ми", True),
        ("Підтверджую, це наш бухгалтер", True),
        ("Yes, that's us", True),
        ("Confirmed, it's our new CFO", True),
        # The code only in the subject or the quoted request: no yes in the reply's words.
        ("Спасибо, разберёмся.", False),
        ("Дякуємо, подивимось", False),
        ("Thanks, we'll look into it", False),
        ("Хорошо, а что случилось? Так и не поняли.", False),  # "так" not opening the reply
    ],
)
def test_a_reply_vouches_for_the_sender_only_in_its_own_words(text: str, yes: bool) -> None:
    assert vouches(text, "OK-ABCD-EFGH") is yes


# A second review's replies of a registered contact: what each must be read as.
READ_AS = {
    "Да вы что! Мы ничего не меняли!": "no",
    "Так, стоп. Ми нічого не змінювали!": "no",
    "Да это же подделка!": "no",
    "Да, получили письмо. Нет, реквизиты мы не меняли": "no",
    "Yes, thanks for asking. We haven't requested any change": "no",
    "We can't confirm this": "no",
    "No! This is not our accountant, please confirm with me by phone": "no",
    "Это наш бывший бухгалтер, она уволилась": "no",  # a former employee: the classic fraud
    "Что за код OK-ABCD-EFGH? Мы ничего не меняли": "no",
    "Да? А кто это?": "neither",
    "Так, а хто це взагалі?": "neither",
    "Yes? Who is this?": "neither",
    "Can you confirm who sent this?": "neither",
    "Что за код OK-ABCD-EFGH?": "neither",
    "Это нашумевшая схема": "neither",
    "подтверждаю, это не мошенники": "yes",
    "Так, усе вірно, це не шахраї": "yes",
    "Yes, that's us, not a scam": "yes",
    "Да": "yes",
}


@pytest.mark.parametrize(("text", "read"), READ_AS.items())
def test_a_reply_is_read_as_no_before_yes_and_a_question_is_neither(text: str, read: str) -> None:
    assert read_reply(text, "OK-ABCD-EFGH") == read


# A third review: a no asked about was no denial, so "это наш" beside it confirmed the forger.
ASKED = {
    "Это наш бывший бухгалтер?!": "no",  # "?!" is indignation, and a former one denies asked
    "Це наш колишній бухгалтер?": "no",
    "Это я писал? Я не писал?!": "no",
    "Всё верно? Мы ничего не меняли?": "neither",  # a no asked about is no yes
    "It's us?? We never asked for that?": "neither",
    "Confirmed? We didn't send anything?": "neither",
    "Это мы? Нет": "neither",  # a yes asked about is none
    "Подтверждаю?": "neither",
    "Мы ничего не просили?!": "no",
    "Не от нас": "no",
    "Не від нас, хто це?": "no",
    "It's not from us": "no",
    "Понятия не имею, кто это": "neither",
}


@pytest.mark.parametrize(("text", "read"), ASKED.items())
def test_words_asked_about_confirm_nothing(text: str, read: str) -> None:
    assert read_reply(text, "OK-ABCD-EFGH") == read


@pytest.mark.parametrize(
    ("key", "a", "b"),
    [
        (email_key, "Buh+Billing@StroyMontazh.RU", "buh@stroymontazh.ru"),
        (email_key, "v.lebedev.smm@googlemail.com", "vlebedevsmm@gmail.com"),
        (phone_key, "8 (495) 123-45-67", "+74951234567"),
        (phone_key, "+380 44 123 4567", "+380441234567"),
        (handle_key, "Lebedev_SMM", "@lebedev_smm"),
        (document_key, "№ INV-2024/0042", "inv 2024-0042"),
        (document_key, "88-А", "88A"),
        (fold, "Юрий Хмельницкий", "Yuriy Khmelnitsky"),
        (fold, "Олександр", "Oleksandr"),
    ],
)
def test_keys_meet_across_spellings(key, a: str, b: str) -> None:  # type: ignore[no-untyped-def]
    assert key(a) == key(b)
