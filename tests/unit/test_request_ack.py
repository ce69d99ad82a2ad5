"""A demand for a free service (seed 002: "another manager did it for free") or for
compensation is acknowledged to the client (`request_ack`): what we received, the client's
own words, who looks at it and by when we answer; nothing conceded, nothing argued. It is a
promise like the billing acknowledgement's, and guarded like every answer."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.escalator.digest import message_notices, withheld_kinds
from services.escalator.lifecycle import Escalation
from services.escalator.missed_promises import client_delay_notice, missed_promise
from services.escalator.notifications import (
    FOLLOWS_UP,
    PROMISING_KINDS,
    client_contacts,
    makes_promise,
    staff_notifications,
)
from services.escalator.policy import Decision
from services.notifier import domain
from services.notifier.domain import render
from services.notifier.samples import SAMPLES
from shared.case_ref import case_ref
from shared.cli import app
from shared.contracts import (
    Identity,
    IdentityVerified,
    Language,
    SendNotification,
    StaffRef,
)
from tests.unit.test_default_policy import KVITKA, POLICY, decide
from tests.unit.test_held_answers import CONFIRMATION
from tests.unit.test_policy_cli import _explain
from tests.unit.test_routing_policy import NOW, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

KIND = "request_ack"
REGISTERED = "buh@stroymontazh.ru"
KOVALENKO = StaffRef(
    id="am-kovalenko", name="Тарас Коваленко", email="t.kovalenko@careline.example"
)
FREEBIE: dict[Language, str] = {
    "ru": "Другой менеджер делал нам настройку бесплатно, а вы выставили счёт. "
    "Сделайте так же, как раньше.",
    "uk": "Інший менеджер зробив нам налаштування безкоштовно, а тепер ви виставляєте рахунок. "
    "Зробіть так само, як раніше.",
    "en": "Another manager did the setup for free, do it like before.",
}
COMPENSATION: dict[Language, str] = {
    "ru": "Верните деньги за подписку, контент пропал.",
    "uk": "Поверніть кошти за підписку, контент зник.",
    "en": "The export was down all week. We want a refund for the month.",
}
# What the client reads it is about, in the subject (its first line) and the body.
ABOUT = {
    ("ru", "free_service"): "Мы получили ваш запрос на бесплатную услугу",
    ("uk", "free_service"): "Ми отримали ваш запит на безкоштовну послугу",
    ("en", "free_service"): "We have your request for a service free of charge",
    ("ru", "compensation"): "Мы получили ваш запрос на компенсацию",
    ("uk", "compensation"): "Ми отримали ваш запит на компенсацію",
    ("en", "compensation"): "We have your request for compensation",
}
# Words that would concede (a free service, money, a discount) or argue ("not included").
CONCEDING = {
    "ru": ("сделаем бесплатно", "вернём", "компенсируем", "скидк", "не входит", "не положено"),
    "uk": ("зробимо безкоштовно", "повернемо", "компенсуємо", "знижк", "не входить", "не належить"),
    "en": ("we will do it", "refund", "we will compensate", "discount", "not included", "entitled"),
}
KYIV = {"ru": "(Киев)", "uk": "(Київ)", "en": "(Kyiv)"}
ANSWER_BY = {"ru": "Мы ответим вам не позднее", "uk": "Ми відповімо вам не пізніше", "en": "by"}


def asked(
    text: str, language: Language, who: Identity, kind: str, **sender: str | None
) -> tuple[Decision, IdentityVerified]:
    d = decide(text, who, channel="email")[kind]
    verified = verified_message(message(text, language=language, **sender), who)  # type: ignore[arg-type]
    return d, verified


def acks(d: Decision, verified: IdentityVerified) -> list[SendNotification]:
    event = escalation(d, verified).model_copy(update={"client_reply_by": NOW + timedelta(hours=8)})
    return [n for n in client_contacts(d, event, verified) if n.kind == KIND]


def kvitka(status: str = "verified") -> Identity:
    return identity(status, customer=KVITKA, manager=KOVALENKO)


# --- the policy -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize(("kind", "texts"), [("freebie", FREEBIE), ("compensation", COMPENSATION)])
def test_both_demands_acknowledge_the_client_at_its_registered_address(
    language: Language, kind: str, texts: dict[Language, str]
) -> None:
    d = decide(texts[language], kvitka())[kind]

    assert [(c.kind, c.to) for c in d.rule.client_contacts] == [(KIND, "registered_channel")]
    assert KIND in PROMISING_KINDS and KIND not in FOLLOWS_UP


def test_policy_explain_shows_the_acknowledgement_and_when_it_is_withheld(tmp_path: Path) -> None:
    plain = _explain(tmp_path, FREEBIE["uk"], language="uk")
    threat = " Иначе я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."
    held = _explain(tmp_path, FREEBIE["ru"] + threat)

    assert "- freebie-demand: freebie P3 -> account_manager" in plain
    assert f"client contact: {KIND} to registered_channel\n" in plain
    assert f"client contact: {KIND} to registered_channel (withheld: a hold stands)" in held


# --- what goes, to whom -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_verified_clients_freebie_demand_is_acknowledged_with_a_promise_and_its_words(
    language: Language,
) -> None:
    d, verified = asked(FREEBIE[language], language, kvitka(), "freebie", email=REGISTERED)
    assert makes_promise(d, verified)

    (ack,) = acks(d, verified)

    assert (ack.recipient, ack.recipient_role, ack.content_class) == (
        REGISTERED,
        "client_registered",
        "account",
    )
    assert ack.recipient_verified and ack.language == language and ack.severity == "P3"
    assert ack.data["asked_for"] == "free_service"
    assert ack.data["reply_by"] == (NOW + timedelta(hours=8)).isoformat()
    assert ack.data["account_manager"] == "Тарас Коваленко"
    # The client's claim, quoted as written, one sentence an item.
    assert ack.data["claims"][0].startswith(FREEBIE[language].split(",")[0])


def test_a_threat_beside_the_demand_is_not_quoted_back() -> None:
    text = (
        "Інший менеджер зробив нам налаштування безкоштовно. "
        "Зробіть так само, інакше я подам на вас до суду."
    )
    who = kvitka()
    d, verified = asked(text, "uk", who, "freebie", email=REGISTERED)
    said = decide(text, who)["legal"].signals + d.signals
    event = escalation(d, verified)

    (ack,) = client_contacts(d, event, verified, message_signals=said)

    assert ack.data["claims"] == ["Інший менеджер зробив нам налаштування безкоштовно."]


def test_a_probable_senders_words_do_not_reach_the_registered_owner_and_its_own_answer_waits() -> (
    None
):
    who = identity("probable", customer=KVITKA, manager=KOVALENKO).model_copy(
        update={"confirmation": CONFIRMATION}
    )
    d, verified = asked(FREEBIE["ru"], "ru", who, "freebie", email="director@kvitka.example")

    owner, held = acks(d, verified)

    assert owner.recipient == REGISTERED and owner.data["claims"] == []
    assert owner.data["sender_address"] == "director@kvitka.example"
    assert held.recipient == "director@kvitka.example"
    assert held.held_for_confirmation == CONFIRMATION.confirmation_id and held.data["claims"]
    body = render(owner).body
    assert "director@kvitka.example" in body and "Спасибо, что написали" not in body
    assert render(owner).subject == "Мы получили запрос на бесплатную услугу от вашего имени"


def test_an_unknown_sender_gets_no_acknowledgement_about_any_account() -> None:
    d, verified = asked(FREEBIE["en"], "en", Identity(status="unknown", confidence=0.0), "freebie")

    assert acks(d, verified) == [] and not makes_promise(d, verified)


def test_a_suspicious_sender_or_a_hold_withholds_it_and_staff_are_told_why() -> None:
    assert withheld_kinds(False, False, suspicious=True)[KIND] == "suspicious"
    assert withheld_kinds(True, False)[KIND] == "hold"
    # It admits nothing: while the lawyers weigh a claim it still goes.
    assert KIND not in withheld_kinds(False, True)

    who = kvitka("suspicious")
    d, verified = asked(FREEBIE["ru"], "ru", who, "freebie", email=REGISTERED)
    assert not makes_promise(d, verified, withheld_kinds(False, False, suspicious=True))
    staff = staff_notifications(POLICY, d, escalation(d, verified), verified)
    told = message_notices(verified, staff, acks(d, verified))

    assert [n.kind for n in told if n.recipient_role.startswith("client")] == []
    (manager,) = told
    assert manager.data["client_contacts_withheld"] == {"kinds": [KIND], "why": "suspicious"}


def test_a_second_demand_into_the_open_case_is_no_follow_up() -> None:
    d, verified = asked(FREEBIE["uk"], "uk", kvitka(), "freebie", email=REGISTERED)

    assert client_contacts(d, escalation(d, verified), verified, ("news",), follow_up=True) == []


# --- what staff read --------------------------------------------------------------------------

SENT = {
    "ru": "Клиенту написано автоматически: подтверждение, что запрос получен, и срок ответа",
    "uk": "Клієнтові написано автоматично: підтвердження, що запит отримано, і строк відповіді",
    "en": "Written to the client automatically: acknowledgement of the request with the date",
}
PROMISED = {
    "ru": "Клиенту обещан ответ по существу не позднее",
    "uk": "Клієнтові обіцяно відповідь по суті не пізніше",
    "en": "The client is promised a substantive answer by",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_manager_reads_what_went_to_the_client_and_what_it_promised(
    language: Language,
) -> None:
    d, verified = asked(FREEBIE["uk"], "uk", kvitka(), "freebie", email=REGISTERED)
    staff = [
        n.model_copy(update={"language": language})
        for n in staff_notifications(POLICY, d, escalation(d, verified), verified)
    ]

    (manager, ack) = message_notices(verified, staff, acks(d, verified))

    sent = manager.data["client_contacts_sent"]
    assert ack.kind == KIND and sent["kinds"] == [KIND]
    # The mail it went as, for the notifier to say when it goes (client_waits.py).
    assert sent["to"] == [
        {
            "ids": [str(ack.notification_id)],
            "recipient": ack.recipient,
            "role": ack.recipient_role,
            "channel": "email",
            "kind": KIND,
            "kinds": [KIND],
            "severity": ack.severity,
            "timezone": ack.recipient_timezone,
        }
    ]
    assert manager.data["client_reply_by"] == ack.data["reply_by"]
    body = render(manager).body
    assert SENT[language] in body and PROMISED[language] in body


# --- what the client reads --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("asked_for", ["free_service", "compensation"])
def test_the_acknowledgement_reads_in_the_clients_language_and_concedes_nothing(
    language: Language, asked_for: str
) -> None:
    data = {**SAMPLES[KIND], "asked_for": asked_for}

    mail = domain.render_kind(KIND, language, data, "Europe/Kyiv")

    assert mail.subject == ABOUT[(language, asked_for)]
    assert mail.template == f"{KIND}.{language}.txt.j2" and mail.fallback_from is None
    assert mail.html is not None and f'lang="{language}"' in mail.html
    for part in (mail.body, mail.html):
        assert "Тарас Коваленко" in part and case_ref(SAMPLES[KIND]["escalation_id"]) in part
        assert SAMPLES[KIND]["claims"][0] in part and "Налаштування" in part
        assert ANSWER_BY[language] in part and KYIV[language] in part  # the client's clock
        assert not any(w in part.lower() for w in CONCEDING[language]), part
        assert not re.search(r"\d[\d ]*(?:₴|грн|руб|\$|€|UAH|RUB)", part)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_acknowledgement_of_before_or_of_another_kind_renders_with_what_it_has(
    language: Language,
) -> None:
    """StrictUndefined: only what every request carries; no manager, no words, no kind."""
    bare = {k: SAMPLES[KIND][k] for k in ("customer", "subject", "received_at", "ack_deadline")}

    mail = domain.render_kind(KIND, language, {**bare, "escalation_id": "e-1"})

    assert mail.subject and "None" not in mail.body and "[]" not in mail.body


def test_the_preview_shows_it() -> None:
    result = CliRunner().invoke(app, ["notify", "preview", KIND, "--lang", "en"])

    assert result.exit_code == 0, result.output
    assert "We have your request for a service free of charge" in result.output


# --- a promise missed ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_missed_answer_to_a_request_is_owned_up_to_without_offering_a_remedy(
    language: Language,
) -> None:
    promised = NOW + timedelta(hours=8)
    case = uuid.UUID(SAMPLES[KIND]["escalation_id"])
    e = Escalation(
        id=case,
        kind="freebie",
        severity="P3",
        status="open",
        level=1,
        message_id=case,
        correlation_id="c-1",
        ack_deadline=NOW + timedelta(hours=4),
        climb_due_at=None,
        notified=(),
        client_reply_by=promised,
        promise_to={"recipient": REGISTERED, "language": language, "subject": "Налаштування"},
    )
    missed = missed_promise(POLICY, e, promised + timedelta(minutes=1))

    note = client_delay_notice(e, missed, level_told=True, now=promised)

    assert note is not None and note.data["about"] == "request"
    mail = render(note)
    assert not any(w in mail.body.lower() for w in CONCEDING[language])
    assert "компенсац" not in mail.body and "remedy" not in mail.body


@pytest.mark.parametrize("kind", [KIND, "billing_dispute_ack"])
@pytest.mark.parametrize(
    ("language", "by_email", "by_phone"),
    [
        ("ru", "сообщение с адреса ceo@kvitka.ua", "сообщение от +380441234567"),
        ("uk", "повідомлення з адреси ceo@kvitka.ua", "повідомлення від +380441234567"),
    ],
)
def test_another_channel_of_the_client_is_named_as_what_it_is(
    kind: str, language: Language, by_email: str, by_phone: str
) -> None:
    """The client's own phone or chat wrote and the answer went to the registered address:
    «сообщение от +380…», not «с адреса +380…» (a phone is no address)."""
    data = {**SAMPLES[kind], "escalation_id": "e-1"}
    for address, by_mail, said in (
        ("ceo@kvitka.ua", True, by_email),
        ("+380441234567", False, by_phone),
    ):
        mail = domain.render_kind(
            kind, language, {**data, "sender_address": address, "sender_by_email": by_mail}
        )
        assert said in mail.body and mail.html is not None and said in mail.html
