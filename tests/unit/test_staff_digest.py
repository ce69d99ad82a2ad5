"""One staff notice per person for one client message: the grouping (pure) and what the
digest says, in ru, uk and en."""

from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from services.escalator.detection import detect
from services.escalator.digest import (
    client_digests,
    held_answer,
    message_notices,
    staff_digests,
)
from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.escalator.notifications import client_contacts, staff_notifications
from services.escalator.policy import Policy, evaluate
from services.notifier.domain import render
from services.notifier.figures import percent
from shared.contracts import Identity, Language, SendNotification
from tests.unit.test_held_answers import CONFIRMATION
from tests.unit.test_routing_policy import (
    MANAGER,
    POLICY,
    escalation,
    identity,
    message,
    verified_message,
)

pytestmark = pytest.mark.unit

# A disputed invoice, a broken promise and a demand for money back: three kinds, and the
# account manager is among the roles of all three rules.
THREE_KINDS = (
    "Счёт за март мы уже оплатили, а нам пишут о задолженности и грозят отключением. "
    "Вы обещали починить экспорт и опять не сделали. Верните деньги за месяц."
)
# A threat of court beside the disputed invoice.
COURT_AND_INVOICE = "Счёт за март мы уже оплатили, а нам пишут о задолженности. Подам на вас в суд."


def notices(
    text: str, who: Identity | None = None, policy: Policy = POLICY
) -> tuple[list[SendNotification], list[SendNotification]]:
    """The staff notices and client contacts the message's escalations ask for, each staff
    notice with its own acknowledge link, as the escalator makes them before grouping."""
    verified = verified_message(message(text), who or identity("verified"))
    signals = detect(text, language="ru")
    pack = fact_pack(verified, tuple(signals), seen_message(verified, signals, [], []), History())
    staff, clients = [], []
    for decision in evaluate(policy, signals, verified.identity):
        event = escalation(decision, verified)
        for note in staff_notifications(policy, decision, event, verified, {"fact_pack": pack}):
            link = f"https://ack.example/{note.notification_id}"
            data = {**note.data, "ack_url": link, "level": 1, "change": "opened"}
            staff.append(note.model_copy(update={"data": data}))
        clients += client_contacts(decision, event, verified)
    return staff, clients


def to(notes: list[SendNotification], address: str) -> list[SendNotification]:
    return [n for n in notes if n.recipient.casefold() == address.casefold()]


def with_roles(**addresses: str) -> Policy:
    return POLICY.model_validate({**POLICY.model_dump(), "roles": {**POLICY.roles, **addresses}})


# --- the grouping ----------------------------------------------------------------------


def test_three_kinds_reach_the_account_manager_in_one_notice_listing_the_three() -> None:
    staff, _ = notices(THREE_KINDS)
    assert len(to(staff, MANAGER.email)) == 3  # what the escalations ask for, one each

    grouped = staff_digests(staff)

    (digest,) = to(grouped, MANAGER.email)
    assert (digest.kind, digest.recipient_role, digest.escalation_id) == (
        "staff_digest",
        "account_manager",
        None,
    )
    items = digest.data["escalations"]
    assert sorted(i["kind"] for i in items) == ["billing", "compensation", "service_failure"]
    assert [i["severity"] for i in items] == sorted(i["severity"] for i in items)  # gravest first
    assert digest.severity == digest.data["severity"] == items[0]["severity"]
    by_escalation = {n.escalation_id: n for n in to(staff, MANAGER.email)}
    for item in items:
        told = by_escalation[uuid.UUID(item["escalation_id"])]
        assert (item["rule"], item["reason"], item["ack_deadline"], item["ack_url"]) == (
            told.data["rule"],
            told.data["reason"],
            told.data["ack_deadline"],
            told.data["ack_url"],
        )
        assert item["roles"] == ["account_manager"]
        assert "fact_pack" not in item  # the fact pack is the message's: once, beside them
    assert digest.data["fact_pack"] == staff[0].data["fact_pack"]


def test_every_staff_address_gets_exactly_one_notice() -> None:
    staff, _ = notices(THREE_KINDS)

    grouped = staff_digests(staff)

    addresses = [n.recipient.casefold() for n in grouped]
    assert sorted(addresses) == sorted({n.recipient.casefold() for n in staff})
    assert len(addresses) == len(set(addresses)) == 3  # manager, head of support, billing


def test_a_person_told_of_one_escalation_gets_the_notice_of_before() -> None:
    staff, _ = notices(THREE_KINDS)

    grouped = staff_digests(staff)

    for address in (POLICY.address("head_of_support"), POLICY.address("billing")):
        (before,) = to(staff, address)
        (after,) = to(grouped, address)
        assert after == before  # same kind, data and ids: nothing changes for them


def test_the_roles_a_person_is_told_under_are_all_kept() -> None:
    # A small team: the account manager also answers for legal.
    policy = with_roles(legal=MANAGER.email)
    staff, _ = notices(COURT_AND_INVOICE, policy=policy)

    (digest,) = to(staff_digests(staff), MANAGER.email)

    assert digest.data["roles"] == ["legal", "account_manager"]
    assert digest.recipient_role == "legal,account_manager"
    assert {i["kind"]: i["roles"] for i in digest.data["escalations"]} == {
        "billing": ["account_manager"],
        "legal": ["legal"],
    }
    # What legal needs beyond the rest (the client's words, the sender) comes along.
    assert digest.data["message_text"] == COURT_AND_INVOICE
    assert digest.data["sender"]["email"] == "ceo@stroymontazh.ru"


def test_one_escalation_told_to_one_address_under_two_roles_is_one_item() -> None:
    policy = with_roles(head_of_support="legal@careline.example")
    staff, _ = notices("Подам на вас в суд.", policy=policy)
    assert len(staff) == 2

    (digest,) = staff_digests(staff)

    (item,) = digest.data["escalations"]
    assert (item["kind"], item["roles"]) == ("legal", ["legal", "head_of_support"])
    assert item["ack_url"] == staff[0].data["ack_url"]  # the first role's link


def test_addresses_are_compared_as_people_write_them() -> None:
    policy = with_roles(billing=" " + MANAGER.email.upper())
    staff, _ = notices(THREE_KINDS, policy=policy)

    grouped = staff_digests(staff)

    (digest,) = [n for n in grouped if n.kind == "staff_digest"]
    assert digest.data["roles"] == ["account_manager", "billing"]  # the gravest (P1) first
    assert len(grouped) == 2


def test_a_webhook_and_an_email_of_the_same_name_are_not_one_recipient() -> None:
    policy = with_roles(billing="webhook:" + MANAGER.email)
    staff, _ = notices(THREE_KINDS, policy=policy)

    grouped = staff_digests(staff)

    assert sorted((n.channel, n.kind) for n in to(grouped, MANAGER.email)) == [
        ("email", "staff_digest"),
        ("webhook", "manager_escalation"),
    ]


# --- ids: a redelivered message asks for the same notices --------------------------------


def test_digest_ids_are_the_same_for_the_same_message_and_recipient() -> None:
    first = staff_digests(notices(THREE_KINDS)[0])
    again = staff_digests(notices(THREE_KINDS)[0])

    assert [(n.notification_id, n.event_id) for n in first] == [
        (n.notification_id, n.event_id) for n in again
    ]


def test_digest_ids_differ_per_recipient_and_per_message() -> None:
    policy = with_roles(head_of_support=POLICY.address("billing"))
    first = [n for n in staff_digests(notices(THREE_KINDS, policy=policy)[0])]
    other = staff_digests(notices(THREE_KINDS + " Срочно.", policy=policy)[0])

    digests = [n for n in first if n.kind == "staff_digest"]
    assert len(digests) == 2  # the account manager; billing with the head of support
    assert len({n.notification_id for n in digests}) == len({n.event_id for n in digests}) == 2
    assert not {n.notification_id for n in first} & {n.notification_id for n in other}


# --- the answer held for a confirmation ---------------------------------------------------


def probable() -> Identity:
    return identity("probable").model_copy(update={"confirmation": CONFIRMATION})


def test_staff_are_told_in_one_line_that_the_answer_waits_for_the_confirmation() -> None:
    staff, clients = notices(THREE_KINDS, probable())
    assert any(n.held_for_confirmation for n in clients)
    verified = verified_message(message(THREE_KINDS), probable())

    told = message_notices(verified, staff, clients)

    held = {
        "confirmation_id": str(CONFIRMATION.confirmation_id),
        "expires_at": CONFIRMATION.expires_at.isoformat(),
        "kinds": ["billing_dispute_ack", "service_failure_notice", "request_ack"],
    }
    assert held_answer(verified, clients) == held
    staff_told = [n for n in told if not n.recipient_role.startswith("client")]
    assert staff_told and all(n.data["answer_held"] == held for n in staff_told)
    # The client contacts, the held answers to the sender released together, in one mail.
    assert told[len(staff_told) :] == client_digests(clients)
    digests = {n.recipient_role: n for n in told if n.kind == "client_digest"}
    assert digests["client_sender"].held_for_confirmation == CONFIRMATION.confirmation_id
    assert digests["client_registered"].held_for_confirmation is None


def test_nothing_is_said_of_a_hold_when_no_answer_is_held() -> None:
    staff, clients = notices(THREE_KINDS)
    verified = verified_message(message(THREE_KINDS), identity("verified"))

    told = message_notices(verified, staff, clients)

    assert held_answer(verified, clients) is None
    assert all("answer_held" not in n.data for n in told)


# On the team's clock (the shipped policy's Moscow), as staff notices give every time.
EXPIRES = CONFIRMATION.expires_at.astimezone(ZoneInfo("Europe/Moscow")).strftime(
    "%Y-%m-%d %H:%M MSK"
)
HELD_LINE = {
    "ru": "Ответ на адрес отправителя задержан, пока зарегистрированный контакт не подтвердит "
    f"запрос (запрос истекает {EXPIRES}).",
    "uk": "Відповідь на адресу відправника затримано, доки зареєстрований контакт не підтвердить "
    f"запит (запит спливає {EXPIRES}).",
    "en": "The answer to the sending address is held until the registered contact confirms the "
    f"request (the request expires {EXPIRES}).",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_held_line_is_in_single_notices_and_digests_and_names_nobody(
    language: Language,
) -> None:
    staff, clients = notices(COURT_AND_INVOICE, probable())
    verified = verified_message(message(COURT_AND_INVOICE), probable())

    told = message_notices(verified, staff, clients)

    kinds = set()
    for note in told:
        if note.recipient_role.startswith("client"):
            continue
        kinds.add(note.kind)
        rendered = render(note.model_copy(update={"language": language}))
        (line,) = [x for x in rendered.body.splitlines() if EXPIRES in x]
        assert line == HELD_LINE[language]
        assert HELD_LINE[language].rstrip(".") in (rendered.html or "")
        assert "@" not in line and "OK-ABCD" not in line
    assert kinds == {"legal_notice", "manager_escalation", "staff_digest"}


# --- a hold withholds the automatic contacts ---------------------------------------------

# Seed 003: content promised back and not, and blackmail; the blackmail rule pauses the
# investigation until the threats stop (the head of support has both in one digest, the
# account manager the failure alone).
BLACKMAIL_AND_FAILURE = (
    "Вы обещали восстановить контент и опять не сделали, деньги на ветер. Иначе я стану "
    "вашим кошмаром: распишу про вас во всех SMM-сообществах."
)
WITHHELD_LINE = {
    "ru": "Пока действует пауза, клиенту не отправлено автоматически: сообщение о сбое.",
    "uk": "Доки діє пауза, клієнтові не надіслано автоматично: повідомлення про збій.",
    "en": "While the hold stands, not sent to the client automatically: service failure notice.",
}


def test_under_a_hold_the_failure_notice_is_withheld_and_staff_are_told() -> None:
    staff, clients = notices(BLACKMAIL_AND_FAILURE)
    assert sorted(n.kind for n in clients) == ["conduct_notice", "service_failure_notice"]
    verified = verified_message(message(BLACKMAIL_AND_FAILURE), identity("verified"))

    told = message_notices(verified, staff, clients, under_hold=True)
    without_hold = message_notices(verified, staff, clients)

    # What goes is the warning that announces the pause; what would promise waits.
    (conduct,) = [n for n in told if n.recipient_role.startswith("client")]
    assert (conduct.kind, conduct.data["paused"]) == ("conduct_notice", True)
    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert to_staff and all(
        n.data["client_contacts_withheld"] == {"kinds": ["service_failure_notice"], "why": "hold"}
        for n in to_staff
    )
    assert sorted(n.kind for n in without_hold if n.recipient_role.startswith("client")) == [
        "conduct_notice",
        "service_failure_notice",
    ]
    assert all("client_contacts_withheld" not in n.data for n in without_hold)


def test_a_hold_still_asks_the_registered_contact_who_is_speaking() -> None:
    # A probable sender: the registered contact is asked to confirm, and the failure
    # notice waits for that confirmation; under a hold only the question goes.
    staff, clients = notices(BLACKMAIL_AND_FAILURE, probable())
    kinds = {n.kind for n in clients}
    assert {"identity_confirmation", "service_failure_notice"} <= kinds
    verified = verified_message(message(BLACKMAIL_AND_FAILURE), probable())

    told = message_notices(verified, staff, clients, under_hold=True)

    sent = [n for n in told if n.recipient_role.startswith("client")]
    assert sent and {n.kind for n in sent} == kinds - {"service_failure_notice"}
    assert not [n for n in sent if n.held_for_confirmation]  # the held copy is withheld too
    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert all(
        n.data["client_contacts_withheld"]["kinds"] == ["service_failure_notice"] for n in to_staff
    )
    assert all("answer_held" not in n.data for n in to_staff)  # nothing waits to be sent


def test_a_hold_with_nothing_to_withhold_says_nothing() -> None:
    staff, _ = notices(BLACKMAIL_AND_FAILURE)
    verified = verified_message(message(BLACKMAIL_AND_FAILURE), identity("verified"))

    told = message_notices(verified, staff, [], under_hold=True)

    assert all("client_contacts_withheld" not in n.data for n in told)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_withheld_line_is_in_single_notices_and_digests_and_names_nobody(
    language: Language,
) -> None:
    staff, clients = notices(BLACKMAIL_AND_FAILURE)
    verified = verified_message(message(BLACKMAIL_AND_FAILURE), identity("verified"))

    kinds = set()
    for note in message_notices(verified, staff, clients, under_hold=True):
        if note.recipient_role.startswith("client"):
            continue  # the conduct notice: the client is not told what staff are
        kinds.add(note.kind)
        rendered = render(note.model_copy(update={"language": language}))
        (line,) = [x for x in rendered.body.splitlines() if x == WITHHELD_LINE[language]]
        assert "@" not in line
        assert WITHHELD_LINE[language] in (rendered.html or "")
    assert {"staff_digest", "manager_escalation"} <= kinds


# --- what the digest says ---------------------------------------------------------------

COUNT = {
    "ru": "Эскалации по одному сообщению клиента: 3. Ваши роли: менеджер клиента; юрист.",
    "uk": "Ескалації за одним повідомленням клієнта: 3. Ваші ролі: менеджер клієнта; юрист.",
    "en": "Escalations of one client message: 3. Your roles: account manager; legal.",
}
PACK = {"ru": "Пакет фактов", "uk": "Пакет фактів", "en": "Fact pack"}
KIND_NAMES = {
    "ru": {
        "service_failure": "сбой сервиса",
        "legal": "юридическая угроза",
        "billing": "спор об оплате",
    },
    "uk": {
        "service_failure": "збій сервісу",
        "legal": "юридична загроза",
        "billing": "суперечка щодо оплати",
    },
    "en": {
        "service_failure": "service failure",
        "legal": "legal threat",
        "billing": "billing dispute",
    },
}
# The first signal of each escalation's reason, by name (kinds and signals share words).
SIGNAL_NAMES = {
    language: {
        "service_failure": names["service_failure"],
        "billing_dispute": names["billing"],
        "legal_threat": {"ru": "угроза судом", "uk": "погроза судом", "en": "legal threat"}[
            language
        ],
    }
    for language, names in KIND_NAMES.items()
}
WHY = {"ru": "Почему: правило", "uk": "Чому: правило", "en": "Why: rule"}
# fed-up-several-signals holds when three signals come at once.
AT_ONCE = {
    "ru": "сигналов сразу: 3 (нужно не меньше 3)",
    "uk": "сигналів одночасно: 3 (потрібно щонайменше 3)",
    "en": "3 signals at once (at least 3)",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_digest_lists_each_escalation_with_its_link_and_the_fact_pack_once(
    language: Language,
) -> None:
    text = COURT_AND_INVOICE.replace(
        "Подам", "Вы обещали починить экспорт и опять не сделали. Подам"
    )
    staff, _ = notices(text, policy=with_roles(legal=MANAGER.email))
    (digest,) = to(staff_digests(staff), MANAGER.email)

    rendered = render(digest.model_copy(update={"language": language}))

    body, html = rendered.body, rendered.html or ""
    names = KIND_NAMES[language]
    kinds = ", ".join(names[k] for k in ("service_failure", "legal", "billing"))
    assert rendered.subject == f"[P1] {kinds}: ООО «СтройМонтаж»"
    assert COUNT[language] in body and COUNT[language].split(": ")[-1].rstrip(".") in html
    items = digest.data["escalations"]
    numbered = re.findall(r"^(\d)\. \[(P\d)\] ([^,]+),", body, re.MULTILINE)
    assert numbered == [(str(n), i["severity"], names[i["kind"]]) for n, i in enumerate(items, 1)]
    for item in items:
        for value in (item["escalation_id"], item["ack_url"], item["playbook"]):
            assert body.count(value) == 1 and value in html, value
        # Why, in the digest's language: the rule, its signals by name, its conditions.
        first = item["signals"][0]
        why = f"{WHY[language]} {item['rule']}: {SIGNAL_NAMES[language][first['name']]} "
        assert why + percent(first["score"], language) in body, why
        assert item["reason"] not in body  # the escalator's own account, in English
    if language != "en":
        assert "signals at once" not in body
    assert AT_ONCE[language] in body and AT_ONCE[language] in html
    assert body.count(PACK[language]) == html.count(PACK[language]) == 1
    assert body.count("CRM: ООО «СтройМонтаж»") == 1
    assert "> " + COURT_AND_INVOICE.split(". ")[0] in body  # legal: the client's words


def test_a_digest_about_an_unknown_sender_says_who_stands_in() -> None:
    nobody = identity("unknown", manager=None, customer=None, evidence=())
    staff, _ = notices(THREE_KINDS, nobody)

    grouped = staff_digests(staff)

    (deputy,) = to(grouped, POLICY.address("deputy"))
    assert deputy.kind == "staff_digest" and deputy.data["roles"] == ["deputy"]
    rendered = render(deputy.model_copy(update={"language": "en"}))
    assert rendered.subject.endswith(": unknown sender")
    assert len(deputy.data["escalations"]) == 3
    assert rendered.body.count("you are told in their place") == 1  # said once, for all


# --- the holds on the client's other escalations ------------------------------------------

STANDING = {
    "escalation_id": "5f0e3c59-3e4f-4c9a-9d35-0c1b7c2b8a10",
    "kind": "reputation",
    "reason": "Разбирательство приостановлено до прекращения угроз.",
    "since": "2025-03-14T09:00:00+00:00",
}
SUBJECT_HOLD = {
    "ru": "По клиенту действует пауза",
    "uk": "Щодо клієнта діє пауза",
    "en": "A hold stands for this client",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_every_notice_names_the_hold_on_the_clients_other_escalation(language: Language) -> None:
    """Seed 003 beside a panic or a failure: whoever is told of those knows the client is
    under a hold, and on which escalation, in single notices and digests."""
    staff, clients = notices(THREE_KINDS)
    verified = verified_message(message(THREE_KINDS), identity("verified"))

    told = message_notices(verified, staff, clients, under_hold=True, holds=[STANDING])

    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert {n.kind for n in to_staff} >= {"staff_digest", "manager_escalation"}
    for note in to_staff:
        assert note.data["subject_holds"] == [STANDING]
        rendered = render(note.model_copy(update={"language": language}))
        (line,) = [x for x in rendered.body.splitlines() if x.startswith(SUBJECT_HOLD[language])]
        assert line.endswith("2025-03-14 12:00 MSK): " + STANDING["reason"])
        assert SUBJECT_HOLD[language] in (rendered.html or "")


SPARING = {
    **STANDING,
    "kind": "harassment",
    "reason": "Менеджер, которому клиент адресовал личные знаки внимания, не ведёт его дела.",
    "spares_only": True,
    "spared": ["Ольга Петрова"],
    "over": "advances",
}
SPARED = {
    "ru": "Дела клиента ведёт заместитель, а не Ольга Петрова — адресат личных знаков внимания "
    "клиента",
    "uk": "Справи клієнта веде заступник, а не Ольга Петрова — адресат особистих знаків уваги "
    "клієнта",
    "en": "The client's cases go to the deputy, not to Ольга Петрова, whom the client's advances "
    "named",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_hold_that_only_spares_the_manager_is_told_as_such_not_as_a_pause(
    language: Language,
) -> None:
    """Seed 002, case 3: advances named the account manager, so the deputy takes the
    client's cases; nothing is paused, so no notice says a hold stands for the client."""
    staff, clients = notices(THREE_KINDS)
    verified = verified_message(message(THREE_KINDS), identity("verified"))

    told = message_notices(verified, staff, clients, holds=[SPARING])

    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert {n.kind for n in to_staff} >= {"staff_digest", "manager_escalation"}
    for note in to_staff:
        rendered = render(note.model_copy(update={"language": language}))
        (line,) = [x for x in rendered.body.splitlines() if x.startswith(SPARED[language])]
        assert line.endswith("2025-03-14 12:00 MSK).")
        assert SUBJECT_HOLD[language] not in rendered.body
        assert escape(SPARED[language]) in (rendered.html or "")
        assert SUBJECT_HOLD[language] not in (rendered.html or "")
    # The client hears nothing of it (its mails name the manager only as the service
    # leaves them: threatened.unnamed_to_client).
    clients_told = [n for n in told if n.recipient_role.startswith("client")]
    assert clients_told
    for note in clients_told:
        assert "subject_holds" not in note.data and not note.data.get("hold")
        assert "заместитель" not in render(note).body


def test_a_sparing_hold_stored_before_its_names_were_kept_names_the_manager() -> None:
    staff, clients = notices(THREE_KINDS)
    verified = verified_message(message(THREE_KINDS), identity("verified"))
    unnamed = {**SPARING, "spared": []}

    told = message_notices(verified, staff, clients, holds=[unnamed])

    note = next(n for n in told if n.kind == "manager_escalation")
    body = render(note.model_copy(update={"language": "ru"})).body
    assert "Дела клиента ведёт заместитель, а не его менеджер — адресат" in body


def test_a_notice_about_the_held_escalation_does_not_name_its_own_hold_again() -> None:
    staff, clients = notices(BLACKMAIL_AND_FAILURE)
    verified = verified_message(message(BLACKMAIL_AND_FAILURE), identity("verified"))
    held = next(n for n in staff if n.data["kind"] == "reputation")
    own = {**STANDING, "escalation_id": str(held.escalation_id)}

    told = message_notices(verified, staff, clients, under_hold=True, holds=[own])

    for note in [n for n in told if not n.recipient_role.startswith("client")]:
        about = {str(note.escalation_id)} | {
            e["escalation_id"] for e in note.data.get("escalations") or []
        }
        assert ("subject_holds" in note.data) == (own["escalation_id"] not in about), note.kind


# --- a claim the lawyers weigh withholds the admission of fault --------------------------

CLAIM = (
    "Вы обещали восстановить контент и опять не сделали. Если до пятницы не вернёте деньги, "
    "я подам на вас в суд."
)
LEGAL_LINE = {
    "ru": "Пока юристы оценивают претензию, признания вины клиенту не отправлено автоматически "
    "(что писать клиенту, решают юристы): сообщение о сбое.",
    "uk": "Доки юристи оцінюють претензію, визнання провини клієнтові не надіслано автоматично "
    "(що писати клієнтові, вирішують юристи): повідомлення про збій.",
    "en": "While the lawyers weigh the claim, no admission of fault was sent to the client "
    "automatically (the lawyers decide what the client is told): service failure notice.",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_while_the_lawyers_weigh_a_claim_no_admission_of_fault_goes(language: str) -> None:
    staff, clients = notices(CLAIM)
    assert "service_failure_notice" in {n.kind for n in clients}
    verified = verified_message(message(CLAIM), identity("verified"))

    told = message_notices(verified, staff, clients, legal_claim=True)

    assert not [n for n in told if n.kind == "service_failure_notice"]
    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert to_staff and all(
        n.data["client_contacts_withheld"] == {"kinds": ["service_failure_notice"], "why": "legal"}
        for n in to_staff
    )
    rendered = render(to_staff[0].model_copy(update={"language": language}))
    assert LEGAL_LINE[language] in rendered.body


SENT_LINE = {
    "ru": "Клиенту написано автоматически: сообщение о сбое.",
    "uk": "Клієнтові написано автоматично: повідомлення про збій.",
    "en": "Written to the client automatically: service failure notice.",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_what_was_written_to_the_client_and_what_was_not(language: str) -> None:
    failure = "Вы обещали восстановить контент и опять не сделали."
    staff, clients = notices(failure)
    verified = verified_message(message(failure), identity("verified"))

    told = message_notices(verified, staff, clients)
    withheld = message_notices(verified, staff, clients, legal_claim=True)

    to_staff = [n for n in told if not n.recipient_role.startswith("client")]
    assert to_staff and all(
        n.data["client_contacts_sent"]["kinds"] == ["service_failure_notice"] for n in to_staff
    )
    rendered = render(to_staff[0].model_copy(update={"language": language}))
    assert SENT_LINE[language] in rendered.body
    assert SENT_LINE[language] in (rendered.html or "")
    # Withheld, it is not said to be written (the withheld line says why instead).
    assert all(
        "client_contacts_sent" not in n.data
        for n in withheld
        if not n.recipient_role.startswith("client")
    )
