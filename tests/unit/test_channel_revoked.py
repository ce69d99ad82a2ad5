"""Seed 000, taken back: staff found a confirmed address is not the client's (`careline crm
revoke`, `crm.channel.revoked`). The escalations it touched give a promise moved there back
to the registered contact and show the sender as disowned; their holders get an
`identity_alert` in the language they read (ru, uk, en) saying who took it back, that what
went there went to a stranger, and what to do; the notifier withdraws what is unsent."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from services.escalator.lifecycle import Escalation, Notified
from services.escalator.passed_over import Sparing
from services.escalator.policy import load_policy
from services.escalator.revocation import (
    Revocation,
    as_revoked,
    newly_revoked,
    promise_back,
    revoked_update,
    timeline_detail,
)
from services.escalator.revocation_alerts import revocation_alerts, unheld_alert
from services.escalator.settlement import Settlement, as_settled
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from services.notifier.holds import Resolution, Withdrawal, goes_to, revoked_reason, settle
from services.notifier.samples import SAMPLES
from services.notifier.sent_there import confirmed_since, lists_sent_there, sent_entry
from shared.case_ref import case_ref
from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ChannelRevoked,
    Language,
    SendNotification,
    StaffRef,
    TakenBack,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
CEO = "a.sokolov@stroymontazh.ru"  # the address confirmed, then taken back
REGISTERED = "buh@stroymontazh.ru"
MANAGER = "o.petrova@careline.example"
BILLING = "billing@careline.example"
MESSAGE = uuid.uuid4()
CONFIRMATION = uuid.uuid4()
PACK = {"crm": {"registered": [{"kind": "email", "address": REGISTERED}]}}
PROMISE_TO = {"recipient": REGISTERED, "language": "ru", "customer": "ООО «СтройМонтаж»"}


def case(kind: str, *holders: tuple[str, str], status: str = "open", **kw: object) -> Escalation:
    briefing = {
        **SAMPLES["manager_escalation"],
        "kind": kind,
        "identity_status": "probable",
        "sender": {"email": CEO},
        "fact_pack": PACK,
    }
    return Escalation(
        id=uuid.uuid4(),
        kind=kind,
        severity="P2" if kind == "billing" else "P3",
        status=status,
        level=1,
        message_id=MESSAGE,
        correlation_id=str(MESSAGE),
        ack_deadline=NOW + timedelta(hours=4),
        climb_due_at=NOW + timedelta(hours=4),
        notified=tuple(Notified(role, address, 1) for role, address in holders),
        briefing=briefing,
        **kw,  # type: ignore[arg-type]
    )


def revocation(event_id: uuid.UUID | None = None) -> Revocation:
    return Revocation.of(
        ChannelRevoked(
            event_id=event_id or uuid.uuid4(),
            message_id=MESSAGE,
            correlation_id=str(MESSAGE),
            occurred_at=NOW,
            confirmation_id=CONFIRMATION,
            customer_id="cust-stroymontazh",
            channel=ChannelRef(kind="email", address=CEO.upper(), verified=False),
            revoked_by="Ольга Петрова",
            revoked_at=NOW,
        )
    )


def confirmed() -> Settlement:
    return Settlement.confirmed(
        ChannelConfirmed(
            event_id=uuid.uuid4(),
            message_id=MESSAGE,
            correlation_id=str(MESSAGE),
            occurred_at=NOW - timedelta(days=1),
            confirmation_id=CONFIRMATION,
            customer_id="cust-stroymontazh",
            contact_id="ct-sokolov",
            channel=ChannelRef(kind="email", address=CEO, verified=True),
            via="reply",
            confirmed_at=NOW - timedelta(days=1),
        )
    )


BILLING_CASE = case(
    "billing",
    ("billing", BILLING),
    ("account_manager", MANAGER),
    client_reply_by=NOW + timedelta(hours=3),
    promise_to=PROMISE_TO,
)
IDENTITY_CASE = case("identity_confirmation", ("account_manager", MANAGER))


def test_a_promise_the_confirmation_moved_goes_back_where_it_was() -> None:
    moved = as_settled(BILLING_CASE, confirmed())
    assert moved.promise_to is not None and moved.promise_to["recipient"] == CEO

    back = as_revoked(moved, revocation())

    # The same promise, in the same words, to the registered contact again.
    assert back.promise_to == PROMISE_TO
    assert back.client_reply_by == BILLING_CASE.client_reply_by


def test_a_promise_kept_at_the_address_without_its_past_goes_to_the_registered_email() -> None:
    # A case the address opened once it wrote as the client's verified channel.
    own = replace(BILLING_CASE, promise_to={**PROMISE_TO, "recipient": CEO})
    assert promise_back(own, revocation()) == PROMISE_TO
    # Nothing on file to go back to: nobody is told of a delay automatically.
    alone = replace(own, briefing={**own.briefing, "fact_pack": {"crm": {"registered": []}}})
    assert promise_back(alone, revocation()) == {**PROMISE_TO, "recipient": None}
    # A promise elsewhere, or none, stays as it is.
    assert promise_back(BILLING_CASE, revocation()) == PROMISE_TO
    assert promise_back(IDENTITY_CASE, revocation()) is None


def test_the_sender_shows_as_disowned_by_staff_only_where_it_wrote() -> None:
    settled = as_settled(BILLING_CASE, confirmed())
    assert settled.briefing["identity_status"] == "verified"

    revoked = as_revoked(settled, revocation())

    assert revoked.briefing["identity_status"] == "suspicious"
    first = revoked.briefing["identity_evidence_items"][0]
    assert first["kind"] == "revoked_by_staff" and first["values"]["by"] == "Ольга Петрова"
    assert (
        revoked.briefing["identity_evidence_items"][1:]
        == (settled.briefing["identity_evidence_items"])
    )
    # Another sender's case keeps what it showed.
    theirs = replace(settled, briefing={**settled.briefing, "sender": {"email": REGISTERED}})
    assert as_revoked(theirs, revocation()).briefing == theirs.briefing


def test_the_timeline_says_who_when_and_where_the_promise_went() -> None:
    moved = as_settled(BILLING_CASE, confirmed())
    r = revocation()

    detail = timeline_detail(moved, as_revoked(moved, r), r)

    assert detail["by"] == "Ольга Петрова" and detail["at"] == NOW.isoformat()
    assert detail["confirmation_id"] == str(CONFIRMATION)
    assert detail["promise_to"] == REGISTERED
    assert "promise_to" not in timeline_detail(IDENTITY_CASE, IDENTITY_CASE, r)


def test_whoever_watches_the_escalations_sees_the_sender_disowned_and_the_promise_moved() -> None:
    moved = as_settled(BILLING_CASE, confirmed())
    held = replace(moved, hold={"reason": {"ru": "Ждём, пока угрозы прекратятся", "en": "Paused"}})
    r = revocation()
    after = as_revoked(held, r)

    update = revoked_update(held, after, r, "ru", NOW)

    assert (update.change, update.escalation_id, update.kind) == (
        "identity_revoked",
        held.id,
        "billing",
    )
    assert update.identity_status == "suspicious" and update.severity == "P2"
    assert update.hold == "Ждём, пока угрозы прекратятся"
    assert update.client_reply_by == BILLING_CASE.client_reply_by
    assert str(CONFIRMATION) in update.reason and "Ольга Петрова" in update.reason
    assert "promise" in update.reason and CEO not in update.reason.lower()  # ids only
    assert update.message_id == MESSAGE and update.occurred_at == NOW
    # A redelivery publishes the same id; another case, another.
    assert revoked_update(held, after, revocation(), "ru", NOW).event_id == update.event_id
    other = revoked_update(IDENTITY_CASE, as_revoked(IDENTITY_CASE, r), r, "ru", NOW)
    assert other.event_id != update.event_id and "promise" not in other.reason


def test_a_case_another_revoke_of_the_address_took_it_back_from_is_left_alone() -> None:
    """The address was confirmed twice and one command took both back (two events), or it
    is taken back a second time: a case already taken back that nothing gave back to the
    address since is not recorded, updated or alerted about again."""
    r = revocation()
    moved = as_settled(BILLING_CASE, confirmed())
    first = as_revoked(moved, r)
    assert newly_revoked(moved, first, revoked_before=False)

    # The second event finds it as the first left it: nothing to take back.
    again = as_revoked(first, revocation())
    assert not newly_revoked(first, again, revoked_before=True)
    closed = replace(first, status="resolved")
    assert not newly_revoked(closed, closed, revoked_before=True)
    # A promise there again since (a later confirmation moved it): taken back anew.
    assert first.promise_to is not None
    there_again = replace(first, promise_to={**first.promise_to, "recipient": CEO})
    assert newly_revoked(there_again, as_revoked(there_again, r), revoked_before=True)
    # A case no revoke of the address touched yet is recorded even when nothing changes in it.
    assert newly_revoked(closed, closed, revoked_before=False)


def test_each_holder_hears_once_about_the_open_cases_they_hold() -> None:
    done = replace(IDENTITY_CASE, status="resolved")
    r = revocation()
    cases = [as_revoked(e, r) for e in (BILLING_CASE, done)]
    languages = StaffLanguages("ru", {BILLING: "en"})

    alerts = revocation_alerts(cases, r, languages, "Europe/Moscow", NOW)

    by_recipient = {a.recipient: a for a in alerts}
    assert sorted(by_recipient) == [BILLING, MANAGER]
    assert {a.kind for a in alerts} == {"identity_alert"}
    assert (by_recipient[BILLING].language, by_recipient[MANAGER].language) == ("en", "ru")
    # The resolved identity check is not theirs to act on: only the billing case is listed.
    for alert in alerts:
        assert [c["escalation_id"] for c in alert.data["cases"]] == [str(BILLING_CASE.id)]
        assert alert.escalation_id == BILLING_CASE.id and alert.severity == "P2"
        assert alert.message_id == MESSAGE
    # A redelivery (or the command run again) makes the same ids: the notifier takes one.
    again = revocation_alerts(cases, revocation(r.event_id), languages, "Europe/Moscow", NOW)
    assert [a.notification_id for a in again] == [a.notification_id for a in alerts]


def test_one_holding_several_cases_gets_one_alert_listing_them() -> None:
    r = revocation()
    cases = [as_revoked(e, r) for e in (BILLING_CASE, IDENTITY_CASE)]

    (manager,) = [
        a
        for a in revocation_alerts(cases, r, StaffLanguages("ru"), None, NOW)
        if a.recipient == MANAGER
    ]

    assert [c["kind"] for c in manager.data["cases"]] == ["billing", "identity_confirmation"]
    assert manager.escalation_id is None  # about two: each named in the data


SAID = {
    "ru": ("Сотрудник отозвал подтверждение адреса", "Ольга Петрова", "платёжные реквизиты"),
    "uk": ("Співробітник відкликав підтвердження адреси", "Ольга Петрова", "платіжні реквізити"),
    "en": ("Staff took back a confirmed address", "Ольга Петрова", "payment details"),
}
PROMISE_SAID = {
    "ru": f"о задержке сообщим на {REGISTERED}",
    "uk": f"про затримку повідомимо на {REGISTERED}",
    "en": f"a delay is told to {REGISTERED}",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_alert_says_who_what_went_astray_and_what_to_do(language: Language) -> None:
    r = revocation()
    moved = as_settled(BILLING_CASE, confirmed())
    (alert, _) = revocation_alerts([as_revoked(moved, r)], r, StaffLanguages(language), None, NOW)

    rendered = render(alert)

    subject, who, payment = SAID[language]
    assert rendered.subject.startswith(subject) and CEO.upper() in rendered.subject
    for said in (who, payment, case_ref(BILLING_CASE.id), PROMISE_SAID[language], REGISTERED):
        assert said in rendered.body
        assert said in (rendered.html or "")
    # Not the words of the no-after-a-yes alert it shares a kind with.
    assert "careline crm revoke" not in rendered.body


def held_answer(recipient: str, **kw: object) -> SendNotification:
    return SendNotification(
        event_id=uuid.uuid4(),
        notification_id=uuid.uuid4(),
        message_id=MESSAGE,
        correlation_id=str(MESSAGE),
        occurred_at=NOW,
        kind="billing_dispute_ack",
        recipient=recipient,
        recipient_role="client_registered",
        recipient_verified=False,
        content_class="account",
        language="ru",
        data={},
        held_for_confirmation=CONFIRMATION,
        **kw,  # type: ignore[arg-type]
    )


def test_the_notifier_withdraws_a_late_held_answer_and_names_no_address() -> None:
    event = ChannelRevoked(
        event_id=uuid.uuid4(),
        message_id=MESSAGE,
        correlation_id=str(MESSAGE),
        occurred_at=NOW,
        confirmation_id=CONFIRMATION,
        customer_id="cust-stroymontazh",
        channel=ChannelRef(kind="email", address=CEO, verified=False),
        revoked_by="Ольга Петрова",
        revoked_at=NOW,
    )

    decision = settle(held_answer(CEO), Resolution.revoked(event))

    assert isinstance(decision, Withdrawal)
    assert decision.reason == revoked_reason(CONFIRMATION) and CEO not in decision.reason
    request = held_answer(CEO).model_dump(mode="json")
    assert goes_to(request, "email", CEO.upper())
    assert not goes_to({**request, "content_class": "general"}, "email", CEO)
    assert not goes_to(request, "email", REGISTERED)
    assert not goes_to(request, "phone", CEO)


PETROVA = StaffRef(
    id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example", language="uk"
)
NO_CASE_SAID = {
    "ru": "Ни одно открытое обращение клиента не написано с",
    "uk": "Жодне відкрите звернення клієнта не написане з",
    "en": "No open case of the client was written from",
}


def with_manager(
    manager: StaffRef | None, at: datetime = NOW, by: str = "Анна Белова"
) -> Revocation:
    """A revoke by a colleague (`by`) of the customer whose manager is `manager`."""
    return replace(revocation(), account_manager=manager, at=at, by=by)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_with_no_open_case_the_account_manager_hears_it(language: Language) -> None:
    """Nobody holds an open case to hear it: the customer's account manager the verifier
    named does, in the language they read, with no case listed."""
    policy = load_policy()
    done = replace(IDENTITY_CASE, status="resolved")
    manager = PETROVA.model_copy(update={"language": language})
    r = with_manager(manager)

    alert = unheld_alert(policy, [done], r, NOW)

    assert alert is not None
    assert (alert.recipient, alert.recipient_role) == (PETROVA.email, "account_manager")
    assert alert.language == language and alert.data["cases"] == []
    assert alert.data["stand_in_for"] is None and alert.escalation_id is None
    rendered = render(alert)
    subject, _, payment = SAID[language]
    assert rendered.subject.startswith(subject)
    for said in (NO_CASE_SAID[language], r.by, payment, REGISTERED):
        assert said in rendered.body and said in (rendered.html or "")
    assert case_ref(done.id) not in rendered.body
    # An open case has holders, who hear it (revocation_alerts): nothing for the manager.
    assert unheld_alert(policy, [BILLING_CASE, done], r, NOW) is None


SEVERAL_SAID = {
    "ru": ("Отозванные подтверждения (2):", "подтверждён"),
    "uk": ("Відкликані підтвердження (2):", "підтверджено"),
    "en": ("Confirmations taken back (2):", "confirmed"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_alert_names_every_confirmation_one_command_took_back(language: Language) -> None:
    """The address was confirmed twice (two requests said yes) and one command took both
    back: the alert no open case holds comes once, from whichever event comes first, and
    names both, each with its address and when it was confirmed, not only its own."""
    policy = load_policy()
    other = uuid.uuid4()
    first_at, second_at = NOW - timedelta(days=20), NOW - timedelta(days=3)
    taken = (
        TakenBack(confirmation_id=other, address=CEO, confirmed_at=first_at),
        TakenBack(confirmation_id=CONFIRMATION, address=CEO.upper(), confirmed_at=second_at),
    )
    manager = PETROVA.model_copy(update={"language": language})
    r = replace(with_manager(manager), taken_back=taken)
    alert = unheld_alert(policy, [], r, NOW)

    assert alert is not None
    assert [c["confirmation_id"] for c in alert.data["confirmations"]] == [
        str(other),
        str(CONFIRMATION),
    ]
    rendered = render(alert)
    heading, confirmed_word = SEVERAL_SAID[language]
    for body in (rendered.body, rendered.html or ""):
        assert heading in body and str(other) in body and str(CONFIRMATION) in body
        assert CEO.upper() in body and body.count(confirmed_word) >= 2
        # Each with its own day (the team's clock: Moscow, the same days here).
        assert f"{first_at:%Y-%m-%d}" in body and f"{second_at:%Y-%m-%d}" in body
    # The other event of the command makes the same alert: one id, one mail.
    twin = replace(r, confirmation_id=other, event_id=uuid.uuid4())
    again = unheld_alert(policy, [], twin, NOW)
    assert again is not None and again.notification_id == alert.notification_id
    assert again.data["confirmations"] == alert.data["confirmations"]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_one_confirmation_taken_back_is_named_with_when_it_was_confirmed(
    language: Language,
) -> None:
    policy = load_policy()
    at = NOW - timedelta(days=3)
    taken = (TakenBack(confirmation_id=CONFIRMATION, address=CEO, confirmed_at=at),)
    manager = PETROVA.model_copy(update={"language": language})
    r = replace(with_manager(manager), taken_back=taken)
    alert = unheld_alert(policy, [], r, NOW)

    assert alert is not None
    body = render(alert).body
    assert SEVERAL_SAID[language][0] not in body and str(CONFIRMATION) in body
    assert SEVERAL_SAID[language][1] in body.split(str(CONFIRMATION))[1]
    # From an older verifier (no list): its own confirmation, with no date.
    older = unheld_alert(policy, [], with_manager(manager), NOW)
    assert older is not None and older.data["confirmations"] == [
        {"address": CEO.upper(), "confirmed_at": None, "confirmation_id": str(CONFIRMATION)}
    ]
    assert str(CONFIRMATION) in render(older).body


def test_without_a_manager_on_file_the_head_of_support_hears_it_once_per_revoke() -> None:
    policy = load_policy()
    alone = unheld_alert(policy, [], with_manager(None), NOW)

    assert alone is not None
    assert (alone.recipient_role, alone.recipient) == (
        "head_of_support",
        policy.address("head_of_support"),
    )
    assert alone.data["stand_in_for"] == "account_manager" and alone.data["registered"] == []
    assert "вместо менеджера клиента" in render(alone).body
    # Two confirmations one command took back: one alert (the same id); a later revoke: new.
    first = unheld_alert(policy, [], with_manager(PETROVA), NOW)
    second = unheld_alert(policy, [], with_manager(PETROVA), NOW)
    later = unheld_alert(policy, [], with_manager(PETROVA, NOW + timedelta(days=1)), NOW)
    assert first is not None and second is not None and later is not None
    assert first.notification_id == second.notification_id != later.notification_id


NAZAROV = StaffRef(id="am-nazarov", name="Игорь Назаров", email="i.nazarov@careline.example")
THREAT_CASE = uuid.uuid4()  # the case whose hold spares them (another of the client's)
ADVANCES_CASE = uuid.uuid4()
# What the one told in their place reads: why them, and in which case (passed_over.py).
PASSED_OVER_SAID = {
    "ru": (
        "Вам, а не менеджеру клиента: клиент угрожал ему в деле {threat}.",
        "Вам, а не менеджеру клиента и не его заместителю: клиент угрожал им обоим в деле "
        "{threat}.",
        "Вам, а не менеджеру клиента и не его заместителю: клиент угрожал менеджеру в деле "
        "{threat}; клиент оказывал заместителю личные знаки внимания в деле {advances}.",
    ),
    "uk": (
        "Вам, а не менеджерові клієнта: клієнт погрожував йому у справі {threat}.",
        "Вам, а не менеджерові клієнта і не його заступникові: клієнт погрожував їм обом у "
        "справі {threat}.",
        "Вам, а не менеджерові клієнта і не його заступникові: клієнт погрожував менеджерові "
        "у справі {threat}; клієнт виявляв заступникові особисті знаки уваги у справі "
        "{advances}.",
    ),
    "en": (
        "To you, not the client's account manager: the client threatened them in case {threat}.",
        "To you, not the client's account manager nor their deputy: the client threatened "
        "them both in case {threat}.",
        "To you, not the client's account manager nor their deputy: the client threatened the "
        "manager in case {threat}; the client made advances to the deputy in case {advances}.",
    ),
}


def said(text: str) -> str:
    return text.format(threat=case_ref(THREAT_CASE), advances=case_ref(ADVANCES_CASE))


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_manager_the_clients_threats_spare_is_not_asked_their_deputy_is(
    language: Language,
) -> None:
    """Another case's hold spares the manager (the client threatened them): the unheld
    alert, which asks its reader to reach the client, goes to the CRM's deputy, in the
    deputy's language, and says why them and in which case; a deputy spared too passes it
    to the head of support, who reads that both were threatened."""
    policy = load_policy()
    deputy = NAZAROV.model_copy(update={"language": language})
    r = with_manager(PETROVA.model_copy(update={"deputy": deputy}))
    threats = Sparing(str(THREAT_CASE), "threats")
    spared_manager = {"am-petrova": threats}
    spared_both = {"am-petrova": threats, "am-nazarov": threats}
    both_apart = {"am-petrova": threats, "am-nazarov": Sparing(str(ADVANCES_CASE), "advances")}

    to_deputy = unheld_alert(policy, [], r, NOW, spared_manager)
    to_head = unheld_alert(policy, [], r, NOW, spared_both)
    apart = unheld_alert(policy, [], r, NOW, both_apart)
    unspared = unheld_alert(policy, [], r, NOW, {"am-nazarov": threats})

    assert to_deputy is not None and to_head is not None and unspared is not None
    assert apart is not None
    assert (to_deputy.recipient_role, to_deputy.recipient, to_deputy.language) == (
        "deputy",
        NAZAROV.email,
        language,
    )
    assert to_deputy.data["stand_in_for"] == "threatened_account_manager"
    assert to_deputy.data["passed_over"] == [
        {"role": "account_manager", "escalation_id": str(THREAT_CASE), "over": "threats"}
    ]
    assert (to_head.recipient_role, to_head.recipient) == (
        "head_of_support",
        policy.address("head_of_support"),
    )
    assert to_head.data["stand_in_for"] == "threatened_deputy"
    assert [p["role"] for p in to_head.data["passed_over"]] == ["account_manager", "deputy"]
    # The deputy alone threatened: the manager reads it as before, and nobody was passed over.
    assert (unspared.recipient_role, unspared.recipient) == ("account_manager", PETROVA.email)
    assert unspared.data["passed_over"] == []
    manager, both, each = PASSED_OVER_SAID[language]
    in_language = {"update": {"language": language}}
    for alert, line in ((to_deputy, manager), (to_head, both), (apart, each)):
        rendered = render(alert.model_copy(**in_language))  # type: ignore[arg-type]
        assert said(line) in rendered.body
        assert said(line) in _text_of(rendered.html)
    assert all(said(line) not in render(unspared).body for line in PASSED_OVER_SAID[language])


def _text_of(html: str | None) -> str:
    """The HTML part as read: tags away, entities said (the client's apostrophe)."""
    return unescape(re.sub(r"<[^>]+>", "", html or ""))


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_revoke_alert_of_before_passed_over_nobody_says_the_threat_as_it_did(
    language: Language,
) -> None:
    """A request of before (no `passed_over`, a hold that kept no case): the stand-in reads
    the threat without a case, as it did."""
    old = {
        "ru": "вместо менеджера клиента (клиент ему угрожает)",
        "uk": "замість менеджера клієнта (клієнт йому погрожує)",
        "en": "in the account manager's place (the client threatens them)",
    }
    policy = load_policy()
    deputy = NAZAROV.model_copy(update={"language": language})
    r = with_manager(PETROVA.model_copy(update={"deputy": deputy}))
    alert = unheld_alert(policy, [], r, NOW, {"am-petrova": Sparing(str(THREAT_CASE), "threats")})
    assert alert is not None
    data = {k: v for k, v in alert.data.items() if k != "passed_over"}
    assert old[language] in render(alert.model_copy(update={"data": data})).body


def test_a_spared_manager_without_a_deputy_or_anyone_to_stand_in() -> None:
    policy = load_policy()
    r = with_manager(PETROVA)
    spared = {"am-petrova": Sparing(str(THREAT_CASE), "threats")}
    # No deputy on file: the chain's next with an address, the policy's shared deputy.
    alert = unheld_alert(policy, [], r, NOW, spared)
    assert alert is not None
    assert (alert.recipient_role, alert.recipient) == ("deputy", policy.address("deputy"))
    assert alert.data["passed_over"][0]["escalation_id"] == str(THREAT_CASE)
    # Nobody in the chain: the manager still hears it (it must reach someone).
    lone = policy.model_copy(update={"chains": {}})
    alert = unheld_alert(lone, [], r, NOW, spared)
    assert alert is not None and alert.recipient == PETROVA.email
    assert alert.data["stand_in_for"] is None and alert.data["passed_over"] == []


def test_the_event_names_the_account_manager_for_the_escalator() -> None:
    event = ChannelRevoked(
        event_id=uuid.uuid4(),
        message_id=MESSAGE,
        correlation_id=str(MESSAGE),
        occurred_at=NOW,
        confirmation_id=CONFIRMATION,
        customer_id="cust-stroymontazh",
        channel=ChannelRef(kind="email", address=CEO, verified=False),
        revoked_by="Ольга Петрова",
        revoked_at=NOW,
        account_manager=PETROVA,
    )
    assert Revocation.of(event).account_manager == PETROVA
    older = ChannelRevoked.model_validate(event.model_dump(exclude={"account_manager"}))
    assert Revocation.of(older).account_manager is None


# Seed 000, the acceptance run: Ольга Петрова ran the revoke and was told «Ольга Петрова
# отозвала подтверждение адреса», as news.
BY_YOU_SAID = {
    "ru": ("Вы отозвали подтверждение адреса", "что осталось сделать", "вы "),
    "uk": ("Ви відкликали підтвердження адреси", "що лишилося зробити", "ви "),
    "en": ("You took back a confirmed address", "what is left to do", "you took back"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_whoever_revoked_reads_their_cases_as_a_checklist_not_as_news(language: Language) -> None:
    r = with_manager(PETROVA, by="Ольга  Петрова")  # as typed, spaces and all
    cases = [as_revoked(BILLING_CASE, r)]
    languages = StaffLanguages("ru", {MANAGER: language, BILLING: language})

    alerts = {a.recipient: a for a in revocation_alerts(cases, r, languages, None, NOW)}

    assert alerts[MANAGER].data["by_you"] and not alerts[BILLING].data["by_you"]
    mine, theirs = render(alerts[MANAGER]), render(alerts[BILLING])
    subject, left, you = BY_YOU_SAID[language]
    assert mine.subject.startswith(subject) and left in mine.subject
    assert you in mine.body.casefold() and "Ольга Петрова" not in mine.body
    assert case_ref(BILLING_CASE.id) in mine.body and REGISTERED in mine.body
    assert theirs.subject.startswith(SAID[language][0]) and r.by in theirs.body


def test_whoever_revoked_gets_no_alert_about_no_case() -> None:
    done = replace(IDENTITY_CASE, status="resolved")

    assert (
        unheld_alert(load_policy(), [done], with_manager(PETROVA, by="Ольга Петрова"), NOW) is None
    )
    by_address = with_manager(PETROVA, by=PETROVA.email.upper())
    assert unheld_alert(load_policy(), [done], by_address, NOW) is None


WHERE_SAID = {
    "ru": ("Что именно ушло", "и дальше пишите и звоните ему только по этим контактам из CRM"),
    "uk": ("Що саме пішло", "і далі пишіть і телефонуйте йому лише за цими контактами з CRM"),
    "en": ("What exactly went", "from now on write and call them only at those contacts on file"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_alert_says_where_to_see_what_went_and_where_to_answer(language: Language) -> None:
    r = revocation()
    (alert, _) = revocation_alerts(
        [as_revoked(BILLING_CASE, r)], r, StaffLanguages(language), None, NOW
    )

    rendered = render(alert)

    what, where = WHERE_SAID[language]
    for body in (rendered.body, rendered.html or ""):
        assert f"{what} " in body and f"careline notifications --recipient {CEO.upper()}" in body
        assert where in body
        assert "ему там" not in body and "йому там" not in body and "answer them there" not in body


# Seed 000: the alert said «расскажите, что ушло на X» without what did (the payment reply
# about invoice 4512). The notifier, which knows, lists what it sent there (sent_there.py).
SENT_SAID = {
    "ru": ("Что ушло на", "подтверждение по оплате", "Careline ничего не отправлял на"),
    "uk": ("Що пішло на", "підтвердження щодо оплати", "Careline нічого не надсилав на"),
    "en": ("What went to", "billing acknowledgement", "Careline sent nothing to"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_alert_lists_the_mails_the_notifier_sent_to_the_address(language: Language) -> None:
    r = revocation()
    (alert, _) = revocation_alerts(
        [as_revoked(BILLING_CASE, r)], r, StaffLanguages(language), None, NOW
    )
    request = {"parts": [{"kind": "billing_dispute_ack", "escalation_id": str(BILLING_CASE.id)}]}
    mail = sent_entry("client_digest", None, NOW - timedelta(hours=20), request)
    listed = alert.model_copy(update={"data": {**alert.data, "sent_there": [mail]}})
    nothing = alert.model_copy(update={"data": {**alert.data, "sent_there": []}})

    went, kind, none = SENT_SAID[language]
    said = render(listed)
    for body in (said.body, said.html or ""):
        assert f"{went} {CEO.upper()}" in body and kind in body
        assert case_ref(BILLING_CASE.id) in body and "2026-12-08 13:30 UTC" in body
        assert "careline notifications" not in body
    assert f"{none} {CEO.upper()}" in render(nothing).body
    assert lists_sent_there(alert) and not lists_sent_there(listed)


def test_what_went_is_counted_from_the_earliest_confirmation_taken_back() -> None:
    data = {
        "confirmations": [
            {"confirmed_at": "2026-12-08T09:00:00+00:00"},
            {"confirmed_at": "2026-12-01T09:00:00+00:00"},
            {"confirmed_at": None},
        ]
    }
    assert confirmed_since(data) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert confirmed_since({}) is None
    alone = sent_entry("billing_dispute_ack", CONFIRMATION, NOW, {})
    assert alone["kinds"] == ["billing_dispute_ack"] and alone["cases"] == [str(CONFIRMATION)]
