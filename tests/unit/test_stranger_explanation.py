"""A stranger reporting a problem is told how we can find them (seed 000): an unknown sender
(nothing on file matched) whose message opens a case the rule would answer at a registered
address it has none of gets one `stranger_explanation`: general content, naming no client,
in ru, uk and en; only to an email that passed DMARC (or SPF, DMARC not failing), never to a
suspicious, probable or verified sender; once per escalation and address."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.escalator.detection import detect
from services.escalator.digest import message_notices
from services.escalator.notifications import client_contacts, stranger_reach
from services.escalator.policy import evaluate
from services.notifier.domain import check_disclosure, render
from services.notifier.folds import unfold
from shared.cli import app
from shared.contracts import (
    AuthResults,
    IdentityVerified,
    Language,
    MessageNormalized,
    SendNotification,
)
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

FAILURE: dict[Language, str] = {
    "ru": "Выгрузка отчётов не работает со вчерашнего дня, все файлы пустые.",
    "uk": "Ви обіцяли виправити експорт до п'ятниці, а він досі не працює.",
    "en": "You promised to fix the export by Friday and it still does not work.",
}
BILLING_AND_FAILURE = (
    "Мы уже оплатили счёт, платёжка во вложении, а вы пишете про задолженность. "
    "И выгрузка отчётов не работает со вчерашнего дня."
)
PASSED = AuthResults(spf="pass", dkim="pass", dmarc="pass")
STRANGER = "ivan@some-startup.example"


def stranger_message(
    text: str = FAILURE["ru"],
    language: Language = "ru",
    auth: AuthResults = PASSED,
    email: str | None = STRANGER,
    channel: str = "email",
    **sender: object,
) -> MessageNormalized:
    msg = message(text, email=email, language=language, channel=channel, **sender)
    return msg.model_copy(update={"auth": auth})


def unknown(msg: MessageNormalized) -> IdentityVerified:
    return verified_message(msg, identity("unknown", channels=(), manager=None, customer=None))


def contacts(
    verified: IdentityVerified, into: uuid.UUID | None = None, strangers: bool = True
) -> list[SendNotification]:
    """Every client contact the message's escalations ask for (with `into`: all one case)."""
    text, language = verified.message.text, verified.message.language
    notes = []
    for decision in evaluate(POLICY, detect(text, language=language), verified.identity):
        event = escalation(decision, verified)
        if into is not None:
            event = event.model_copy(update={"escalation_id": into})
        notes += client_contacts(decision, event, verified, strangers=strangers)
    return notes


def explanations(verified: IdentityVerified, **kw: object) -> list[SendNotification]:
    return [n for n in contacts(verified, **kw) if n.kind == "stranger_explanation"]  # type: ignore[arg-type]


# --- who gets it ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_unknown_authenticated_sender_reporting_a_failure_is_told_how_to_be_matched(
    language: Language,
) -> None:
    verified = unknown(stranger_message(FAILURE[language], language))

    (note,) = contacts(verified)  # the failure notice has no registered address to go to

    assert note.kind == "stranger_explanation"
    assert (note.recipient, note.recipient_role) == (STRANGER, "client_sender")
    assert (note.recipient_verified, note.content_class) == (False, "general")
    assert note.language == language
    assert note.reply_to_external_id == verified.message.external_id  # threads with it
    assert note.data == {"subject": "Приостановка CRM"}  # nothing of any account
    check_disclosure(note)


@pytest.mark.parametrize(
    ("auth", "goes"),
    [
        (AuthResults(dmarc="pass"), True),
        # No DMARC record at the domain: SPF it is, for the From's own domain (or a parent).
        (AuthResults(spf="pass", spf_domain="some-startup.example"), True),
        (AuthResults(spf="pass", spf_domain="Some-Startup.example."), True),
        # The envelope a forger chose, passing for its own domain: says nothing of From.
        (AuthResults(spf="pass", spf_domain="forger.test"), False),
        (AuthResults(spf="pass", spf_domain="mail.some-startup.example"), False),  # no PSL
        (AuthResults(spf="pass"), False),  # which domain passed is not said
        (AuthResults(spf="fail", dkim="pass", dmarc="pass"), True),  # aligned DKIM
        (AuthResults(), False),  # nothing said: the From may be anyone's
        (AuthResults(spf="softfail"), False),
        (AuthResults(spf="fail", dmarc="fail"), False),
        (AuthResults(spf="pass", dmarc="fail"), False),  # the forger's own envelope domain
        (AuthResults(dkim="pass"), False),  # a DKIM pass of any domain says nothing of From
    ],
)
def test_only_a_mail_that_passed_authentication_is_answered(auth: AuthResults, goes: bool) -> None:
    verified = unknown(stranger_message(auth=auth))

    assert stranger_reach(verified.message) == (None if goes else "unauthenticated")
    assert bool(explanations(verified)) is goes
    assert [n for n in contacts(verified) if n.kind != "stranger_explanation"] == []


def test_a_chat_or_a_phone_has_no_way_back_for_the_notifier() -> None:
    """The notifier answers clients by email only (its webhooks are the staff's endpoints)."""
    chat = unknown(stranger_message(email=None, channel="chat", handle="@ivan"))
    web_form = unknown(stranger_message(channel="web_form"))  # anyone types any address

    assert stranger_reach(chat.message) == stranger_reach(web_form.message) == "no_way_back"
    assert explanations(chat) == explanations(web_form) == []


@pytest.mark.parametrize("status", ["verified", "probable", "suspicious", "conflict"])
def test_no_other_sender_gets_it(status: str) -> None:
    """Verified: the failure notice goes; probable: its own explanation and confirmation;
    suspicious: nothing automatic, deliberately; conflict: not a stranger (it matched)."""
    verified = verified_message(stranger_message(), identity(status))

    assert explanations(verified) == []


def test_a_probable_sender_keeps_its_own_explanation() -> None:
    verified = verified_message(stranger_message(), identity("probable"))

    kinds = {n.kind for n in contacts(verified)}

    assert "unknown_sender_explanation" in kinds and "stranger_explanation" not in kinds


def test_a_rule_that_answers_nobody_or_reaches_the_sender_adds_nothing() -> None:
    """A threat of court answers nobody automatically (the lawyers weigh it); abuse has its
    conduct notice to the sender, which reaches a stranger already."""
    court = unknown(stranger_message("Я подам на вас в суд."))
    abuse = unknown(stranger_message("Вы там совсем идиоты? Сколько можно ждать!"))

    assert contacts(court) == []
    assert [n.kind for n in contacts(abuse)] == ["conduct_notice"]


def test_a_hold_withholds_it_beside_the_conduct_notice_that_says_the_case_waits(
    tmp_path: Path,
) -> None:
    """Seed 003: blackmail pauses the investigation; "staff are looking into it" would say
    the opposite of the conduct notice the stranger gets."""
    blackmail = " Иначе я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."
    verified = unknown(stranger_message(FAILURE["ru"] + blackmail))
    staff = _staff_notice(verified)

    sent = message_notices(verified, [staff], contacts(verified), under_hold=True)
    explained = _explain(tmp_path, verified.message)

    assert [n.kind for n in sent[1:]] == ["conduct_notice"]
    assert sent[0].data["client_contacts_withheld"] == {
        "kinds": ["stranger_explanation"],
        "why": "hold",
    }
    assert "stranger_explanation to sender (policy: unknown sender; withheld: a hold stands)" in (
        explained
    )


def test_the_policy_may_turn_it_off() -> None:
    verified = unknown(stranger_message())

    assert explanations(verified, strangers=False) == []
    assert POLICY.stranger_explanation is True  # shipped on


# --- once ----------------------------------------------------------------------------


def test_once_per_escalation_and_address() -> None:
    case = uuid.uuid4()
    first = explanations(unknown(stranger_message()), into=case)
    again = explanations(unknown(stranger_message(FAILURE["ru"] + " Снова пусто.")), into=case)
    other = explanations(unknown(stranger_message(email="anna@some-startup.example")), into=case)
    elsewhere = explanations(unknown(stranger_message()), into=uuid.uuid4())

    assert [n.notification_id for n in first] == [n.notification_id for n in again]
    assert first[0].notification_id != other[0].notification_id
    assert first[0].notification_id != elsewhere[0].notification_id


def test_one_message_opening_two_cases_sends_one_explanation_standing_for_both() -> None:
    verified = unknown(stranger_message(BILLING_AND_FAILURE))
    asked = contacts(verified)
    assert sorted(n.kind for n in asked) == ["stranger_explanation"] * 2

    (sent,) = message_notices(verified, [], asked)

    assert sent.kind == "stranger_explanation" and sent.recipient == STRANGER
    assert {p.notification_id for p in sent.parts} == {n.notification_id for n in asked}
    # A later message into one of the cases asks for an explanation the notifier has taken.
    assert unfold(asked[0].model_copy(update={"parts": []}), set()) is not None
    assert unfold(sent, {p.notification_id for p in sent.parts}) is None
    assert "Здравствуйте" in render(sent).body


def _staff_notice(verified: IdentityVerified) -> SendNotification:
    """A staff notice of the message's first escalation (what the digest adds lines to)."""
    first = contacts(verified)[0]
    return SendNotification(
        **{
            **first.model_dump(),
            "notification_id": uuid.uuid4(),
            "kind": "manager_escalation",
            "recipient": "head.support@careline.example",
            "recipient_role": "head_of_support",
            "recipient_verified": True,
            "content_class": "account",
            "reply_to_external_id": None,
            "data": {},
        }
    )


def test_staff_are_told_it_went() -> None:
    verified = unknown(stranger_message())

    told, _ = message_notices(verified, [_staff_notice(verified)], contacts(verified))

    assert told.data["client_contacts_sent"]["kinds"] == ["stranger_explanation"]


# --- what it says --------------------------------------------------------------------

WORDS = {
    "ru": ["получили", "сотрудники", "не удалось сопоставить", "зарегистрировала", "договора"],
    "uk": ["отримали", "працівники", "не вдалося зіставити", "зареєструвала", "договору"],
    "en": ["received", "our staff", "could not match", "registered with us", "contract"],
}
# Never confirmed nor denied: that no organisation is said to be, or not to be, our client.
NEITHER = {
    "ru": "не подтверждает и не опровергает",
    "uk": "не підтверджує й не спростовує",
    "en": "neither confirms nor denies",
}
PERSON = {"ru": "Сотрудник проверит", "uk": "Працівник перевірить", "en": "member of our staff"}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_it_says_what_to_do_in_the_message_language_and_names_no_one(language: Language) -> None:
    (note,) = explanations(unknown(stranger_message(FAILURE[language], language)))

    rendered = render(note)

    assert rendered.template == f"stranger_explanation.{language}.txt.j2"
    assert rendered.subject == "Re: Приостановка CRM"
    html = rendered.html or ""
    for text in (rendered.body, html):
        for word in [*WORDS[language], NEITHER[language], PERSON[language]]:
            assert word in text, (language, word)
        # No client, no account, no number of any case: a stranger may be anyone.
        for said in ("СтройМонтаж", "cust-", "Петрова", str(note.escalation_id), STRANGER):
            assert said not in text


def test_an_unknown_language_is_answered_in_english() -> None:
    (note,) = explanations(unknown(stranger_message(FAILURE["en"], "unknown")))  # type: ignore[arg-type]

    assert note.language == "en"
    assert render(note).template == "stranger_explanation.en.txt.j2"


# --- policy explain ------------------------------------------------------------------


def _explain(tmp_path: Path, msg: MessageNormalized) -> str:
    path = tmp_path / "message.json"
    path.write_text(msg.model_dump_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "explain", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_policy_explain_shows_it_and_why_it_does_not_go(tmp_path: Path) -> None:
    line = "client contact: stranger_explanation to sender (policy: unknown sender"
    passed = _explain(tmp_path, stranger_message())
    forged = _explain(tmp_path, stranger_message(auth=AuthResults(spf="pass", dmarc="fail")))
    court = _explain(tmp_path, stranger_message("Я подам на вас в суд."))

    assert f"{line})\n" in passed
    assert f"{line}; not sent: the mail passed neither DMARC nor SPF" in forged
    assert "stranger_explanation" not in court
