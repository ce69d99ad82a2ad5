"""A promise to the client that passed with the escalation open (seed 001: tell the client
the bad news first, raise the priority, take it higher): the client hears it first with a
new date, a bounded number of times; the holders hear what was missed and what the client
was told; the climb says why. In ru, uk and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.escalator.lifecycle import Notified
from services.escalator.missed_promises import (
    MissedPromise,
    client_delay_notice,
    holder_notices,
    missed_promise,
    owned_up_automatically,
)
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from services.notifier.samples import SAMPLES
from shared.contracts import Language, SendNotification
from tests.unit.test_escalation_lifecycle import escalation
from tests.unit.test_hold_notices import BRIEFING
from tests.unit.test_notification_rendering import command
from tests.unit.test_routing_policy import POLICY

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 18, 11, 0, tzinfo=UTC)  # a Tuesday, 14:00 in Moscow
PROMISED = datetime(2025, 3, 18, 10, 0, tzinfo=UTC)
HEAD = Notified("head_of_support", "head.support@careline.example", 1)
AM = Notified("account_manager", "o.petrova@careline.example", 1)
PROMISE_TO = {
    "recipient": "buh@stroymontazh.ru",
    "language": "ru",
    "timezone": "Asia/Yekaterinburg",
    "customer": "ООО «СтройМонтаж»",
    "account_manager": "Ольга Петрова",
    "subject": "Экспорт не работает",
    "received_at": "2025-03-17T09:12:00+00:00",
}
ON_FILE = replace(
    escalation(HEAD, AM),
    kind="service_failure",
    severity="P2",
    briefing=BRIEFING,
    client_reply_by=PROMISED,
    promise_to=PROMISE_TO,
)


def test_a_missed_promise_gets_a_new_date_as_often_as_the_policy_says() -> None:
    first = missed_promise(POLICY, ON_FILE, NOW)
    assert first.missed == PROMISED
    assert first.new_date == POLICY.client_reply_by("P2", NOW, NOW)
    assert first.new_date is not None and first.new_date > NOW

    second = missed_promise(POLICY, replace(ON_FILE, promises_missed=1), NOW)
    assert second.new_date is not None
    used_up = POLICY.client_reply_new_dates
    last = missed_promise(POLICY, replace(ON_FILE, promises_missed=used_up), NOW)
    assert last.new_date is None
    # Nowhere to tell it (a promise made before the address was kept): no new date either.
    assert missed_promise(POLICY, replace(ON_FILE, promise_to=None), NOW).new_date is None


def test_what_a_miss_changes_counts_it_and_rearms_the_reminder() -> None:
    changes = MissedPromise(PROMISED, None).changes(replace(ON_FILE, promises_missed=1), NOW)
    assert changes == {
        "client_reply_by": None,
        "promise_reminded_at": None,
        "promises_missed": 2,
        "updated_at": NOW,
    }


def test_the_client_hears_it_first_where_the_promise_went_once_per_promise() -> None:
    missed = missed_promise(POLICY, ON_FILE, NOW)
    note = client_delay_notice(ON_FILE, missed, True, NOW)

    assert note is not None
    assert note.kind == "promise_delay_notice"
    assert (note.recipient, note.recipient_role) == ("buh@stroymontazh.ru", "client_registered")
    assert note.recipient_verified and note.content_class == "account"
    assert (note.language, note.recipient_timezone) == ("ru", "Asia/Yekaterinburg")
    assert note.data["promised"] == PROMISED.isoformat()
    assert note.data["senior"] is True
    again = client_delay_notice(ON_FILE, missed_promise(POLICY, ON_FILE, NOW), True, NOW)
    assert again is not None and again.notification_id == note.notification_id
    later = replace(ON_FILE, client_reply_by=missed.new_date, promises_missed=1)
    next_miss = client_delay_notice(later, missed_promise(POLICY, later, NOW), True, NOW)
    assert next_miss is not None and next_miss.notification_id != note.notification_id


def test_no_new_date_no_mail_to_the_client() -> None:
    assert client_delay_notice(ON_FILE, MissedPromise(PROMISED, None), True, NOW) is None


SUBJECTS = {
    "ru": "Мы не успели к обещанному сроку. Новый срок — ",
    "uk": "Ми не встигли до обіцяного строку. Новий строк — ",
    "en": "We missed the date we promised. New date: ",
}
SENIOR = {
    "ru": "передан старшему руководителю службы поддержки",
    "uk": "передано старшому керівнику служби підтримки",
    "en": "taken up by a more senior support manager",
}
CLIENT_DATES = {
    "ru": ("19 марта 2025 г., 11:00", "18 марта 2025 г., 15:00"),
    "uk": ("19 березня 2025 р., 11:00", "18 березня 2025 р., 15:00"),
    "en": ("March 19, 2025, 11:00 AM", "March 18, 2025, 3:00 PM"),
}
SUBJECT_TEXT = {"ru": "Экспорт не работает", "uk": "Експорт не працює", "en": "Export is down"}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_client_mail_owns_up_and_names_the_old_and_new_dates_on_its_clock(
    language: str,
) -> None:
    to = {**PROMISE_TO, "language": language, "subject": SUBJECT_TEXT[language]}
    on_file = replace(ON_FILE, promise_to=to)
    missed = MissedPromise(PROMISED, datetime(2025, 3, 19, 6, 0, tzinfo=UTC))
    note = client_delay_notice(on_file, missed, True, NOW)
    assert note is not None

    rendered = render(note)

    # On the client's clock (Yekaterinburg, UTC+5): promised 15:00, new date 11:00.
    new_date, promised = CLIENT_DATES[language]
    assert rendered.subject.startswith(SUBJECTS[language])
    assert new_date in rendered.subject
    assert promised in rendered.body
    assert SENIOR[language] in rendered.body and SENIOR[language] in (rendered.html or "")
    assert "Ольга Петрова" in rendered.body
    stays = render(client_delay_notice(on_file, missed, False, NOW))  # type: ignore[arg-type]
    assert SENIOR[language] not in stays.body


MISSED_SAID = {
    "ru": "обещанный клиенту ответ к сроку не пришёл: клиенту мы сами сообщили об этом и "
    "назвали новый срок",
    "uk": "обіцяна клієнтові відповідь до строку не надійшла: клієнтові ми самі повідомили про "
    "це й назвали новий строк",
    "en": "the answer promised to the client did not come in time: we told the client so "
    "ourselves and gave a new date",
}
LAST_SAID = {
    "ru": "ответить ему теперь может только человек",
    "uk": "відповісти йому тепер може лише людина",
    "en": "only a person can answer them now",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_holders_hear_what_was_missed_and_what_the_client_was_told(language: str) -> None:
    new_date = datetime(2025, 3, 19, 6, 0, tzinfo=UTC)
    changed = replace(ON_FILE, client_reply_by=new_date, promises_missed=1)
    notes = holder_notices(changed, MissedPromise(PROMISED, new_date), StaffLanguages("ru"), NOW)

    assert [n.recipient for n in notes] == [HEAD.address, AM.address]
    assert {n.data["change"] for n in notes} == {"promise_missed"}
    rendered = render(notes[0].model_copy(update={"language": language}))
    assert MISSED_SAID[language] in rendered.body
    assert MISSED_SAID[language] in (rendered.html or "")
    assert "2025-03-19 09:00 MSK" in rendered.body  # the new promise, on the team's clock

    gone = replace(ON_FILE, client_reply_by=None, promises_missed=3)
    (last, _) = holder_notices(gone, MissedPromise(PROMISED, None), StaffLanguages("ru"), NOW)
    assert last.data["change_items"][0]["kind"] == "promise_missed_last"
    assert LAST_SAID[language] in render(last.model_copy(update={"language": language})).body


CLIMB_HEADS = {
    "ru": "Обещание клиенту не выполнено, теперь уровень 2",
    "uk": "Обіцянку клієнтові не виконано, тепер рівень 2",
    "en": "Promise to the client missed, now level 2",
}


def climb_notice(language: Language, **extra: object) -> SendNotification:
    """A re_escalation for a missed promise (the sample's briefing)."""
    data = {**SAMPLES["re_escalation"], "promise_missed": PROMISED.isoformat(), **extra}
    data.pop("overdue_since", None)
    return command(
        "re_escalation",
        language,
        content_class="account",
        recipient_verified=True,
        data=data,
        recipient="deputy@careline.example",
        role="deputy",
    )


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_climb_for_a_missed_promise_says_so(language: Language) -> None:
    rendered = render(climb_notice(language, client_told=True))

    assert CLIMB_HEADS[language] in rendered.subject
    assert "2025-03-18 10:00 UTC" in rendered.body


def test_the_new_date_is_never_before_the_new_holder_must_acknowledge() -> None:
    # A severity the policy promises nothing for: the floor is the acknowledgement deadline,
    # not "now" (a new date of now would be missed again at the next pass).
    policy = POLICY.model_copy(update={"client_reply": {}})
    missed = missed_promise(policy, ON_FILE, NOW)
    assert missed.new_date == policy.ack_by("P2", NOW)


def test_the_client_is_told_automatically_only_while_new_dates_remain_and_it_knows_where() -> None:
    assert owned_up_automatically(POLICY, ON_FILE)
    used_up = replace(ON_FILE, promises_missed=POLICY.client_reply_new_dates)
    assert not owned_up_automatically(POLICY, used_up)
    assert not owned_up_automatically(POLICY, replace(ON_FILE, promise_to=None))


PAYMENT = {
    "ru": "мы обещали сообщить вам результат проверки платежа не позднее",
    "uk": "ми обіцяли повідомити вам результат перевірки платежу не пізніше",
    "en": "we promised to tell you the result of the payment check by",
}
NOT_SUSPENDED = {
    "ru": "ничего не приостанавливается из-за этого платежа",
    "uk": "через цей платіж нічого не призупиняється",
    "en": "nothing is suspended over this payment",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_payment_checks_delay_says_what_was_promised_and_offers_no_remedy(
    language: str,
) -> None:
    billing = replace(ON_FILE, kind="billing", promise_to={**PROMISE_TO, "language": language})
    note = client_delay_notice(billing, missed_promise(POLICY, billing, NOW), False, NOW)
    assert note is not None and note.data["about"] == "payment"

    rendered = render(note)

    for text in (rendered.body, rendered.html or ""):
        assert PAYMENT[language] in text and NOT_SUSPENDED[language] in text
        assert "компенсац" not in text and "remedy" not in text
        assert SENIOR[language] not in text


CLIENT_TOLD = {
    "ru": ("клиенту мы сами сообщили о задержке", "нового срока клиенту никто не назвал"),
    "uk": ("клієнтові ми самі повідомили про затримку", "нового строку клієнтові ніхто не назвав"),
    "en": ("we told the client of the delay ourselves", "nobody gave the client a new date"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_climb_says_whether_the_client_was_told(language: Language) -> None:
    told, untold = CLIENT_TOLD[language]
    for client_told, said, unsaid in ((True, told, untold), (False, untold, told)):
        rendered = render(climb_notice(language, client_told=client_told))
        assert said in rendered.body and unsaid not in rendered.body


TAKEN_SAID = {
    "ru": "В работе у o.petrova@careline.example.",
    "uk": "У роботі в o.petrova@careline.example.",
    "en": "Acknowledged by o.petrova@careline.example.",
}
OVERDUE_SAID = {
    "ru": "Никто не взял в работу, срок был",
    "uk": "Ніхто не взяв у роботу, строк був",
    "en": "Nobody acknowledged it; it was due",
}
TAKE_BY = {"ru": "Возьмите в работу до", "uk": "Візьміть у роботу до", "en": "Acknowledge by"}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_holders_are_not_asked_to_take_a_case_by_a_time_gone_by(language: str) -> None:
    """Its deadline (NOW) passed long ago: whoever took it reads that they have it; a case
    nobody took reads that nobody did, not "take it by" that time."""
    missed = MissedPromise(PROMISED, None)
    taken = replace(ON_FILE, taken_by=AM.address, climb_due_at=None)
    (note, _) = holder_notices(taken, missed, StaffLanguages("ru"), NOW)
    assert (note.data["taken_by"], note.data["ack_overdue"]) == (AM.address, False)
    rendered = render(note.model_copy(update={"language": language}))
    assert TAKEN_SAID[language] in rendered.body
    assert TAKE_BY[language] not in rendered.body + (rendered.html or "")
    assert AM.address in (rendered.html or "")

    (note, _) = holder_notices(ON_FILE, missed, StaffLanguages("ru"), NOW)
    assert (note.data["taken_by"], note.data["ack_overdue"]) == (None, True)
    rendered = render(note.model_copy(update={"language": language}))
    assert OVERDUE_SAID[language] in rendered.body
    assert OVERDUE_SAID[language] in (rendered.html or "")
    assert TAKE_BY[language] not in rendered.body

    due = replace(ON_FILE, ack_deadline=datetime(2025, 3, 18, 12, 0, tzinfo=UTC))
    (note, _) = holder_notices(due, missed, StaffLanguages("ru"), NOW)
    assert TAKE_BY[language] in render(note.model_copy(update={"language": language})).body


# Seed 000: the promise of an answer held for a probable sender (settlement.promise_owed).
CEO = "andrey.sokolov.1975@mail.ru"
DISOWNED_SAID = {
    "ru": "зарегистрированный контакт клиента не признал запрос, поэтому о задержке "
    "автоматически никому не сообщается",
    "uk": "зареєстрований контакт клієнта не визнав запит, тому про затримку автоматично "
    "нікому не повідомляється",
    "en": "the client's registered contact disowned the request, so nobody is told of the "
    "delay automatically",
}


def test_a_confirmed_senders_promise_is_owned_up_to_at_its_own_address() -> None:
    confirmed = replace(ON_FILE, promise_to={**PROMISE_TO, "recipient": CEO})

    note = client_delay_notice(confirmed, missed_promise(POLICY, confirmed, NOW), True, NOW)

    assert note is not None and note.recipient == CEO
    # In the words, on the clock and with the names the promise was made in.
    assert (note.language, note.recipient_timezone) == ("ru", "Asia/Yekaterinburg")
    assert note.data["account_manager"] == "Ольга Петрова"
    assert note.data["subject"] == "Экспорт не работает"


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_disowned_promise_mails_no_client_and_tells_the_holders_why(language: str) -> None:
    disowned = replace(ON_FILE, promise_to={**PROMISE_TO, "recipient": None})

    assert not owned_up_automatically(POLICY, disowned)
    missed = missed_promise(POLICY, disowned, NOW)
    assert missed.new_date is None
    assert client_delay_notice(disowned, missed, True, NOW) is None
    # Not a used-up promise: the first miss, and why nobody is told.
    (head, _) = holder_notices(missed.kept_on(disowned), missed, StaffLanguages("ru"), NOW)
    assert head.data["change_items"][0]["kind"] == "promise_missed_disowned"
    rendered = render(head.model_copy(update={"language": language}))
    assert DISOWNED_SAID[language] in rendered.body
    assert LAST_SAID[language] not in rendered.body
