"""A contract's terms from the CRM to the account manager's notice (seed 002, case 4:
"another manager did it for free" — find out the terms they had, offer something similar
on ours): the import formats and their errors, what an identity carries whichever CRM
answers, the services a message names, the fact pack, and the notice in ru / uk / en."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import httpx
import pytest

from services.escalator.detection.lexicon import default_morphology
from services.escalator.detection.text import is_cyrillic
from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.escalator.notifications import staff_notifications
from services.escalator.terms import named_services, same_service_words
from services.notifier.domain import render
from services.verifier.http_crm import HttpCrmDirectory
from services.verifier.importer import DocumentRow, batch_of, parse_csv, parse_jsonl
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import demo_batch
from services.verifier.terms import MAX_CARRIED_CONTRACTS, carried_contracts
from shared.contracts import (
    MAX_INCLUDED_SERVICES,
    MAX_TERMS_NOTES,
    ContractTerms,
    CustomerRef,
    IncludedService,
)
from tests.unit.test_default_policy import POLICY, decide
from tests.unit.test_routing_policy import escalation, identity, message, verified_message

pytestmark = pytest.mark.unit

SEED_002_FREEBIE = (
    "Інший менеджер зробив нам налаштування безкоштовно, а тепер ви виставляєте рахунок. "
    "Зробіть так само, як раніше."
)
KVITKA_TERMS = ContractTerms(
    number="15/2021",
    amount="24000.00",
    currency="UAH",
    plan="Стандарт",
    valid_from=date(2021, 3, 1),
    valid_until=date(2027, 2, 28),
    included=[
        IncludedService(service="консультація", quantity=2, period="quarter", free=True),
        IncludedService(
            service="первинне налаштування кабінету", quantity=1, period="contract", free=True
        ),
        IncludedService(service="налаштування інтеграцій"),
    ],
    notes="Первинне налаштування виконано безкоштовно при підключенні (березень 2021).",
)
KVITKA = CustomerRef(id="cust-kvitka", name="ТОВ «Квітка»", tier="silver", contracts=[KVITKA_TERMS])


# --- import: CSV and JSON Lines ----------------------------------------------------------

CSV_HEADER = "record,id,customer_id,name,kind,number,plan,valid_from,valid_until,included,notes"
CSV = "\n".join(
    [
        CSV_HEADER,
        "customer,c-2,,ТОВ «Квітка»,,,,,,,",
        "document,,c-2,,contract,15/2021,Стандарт,2021-03-01,2027-02-28,"
        '"консультація:2:quarter:free;первинне налаштування кабінету:1:contract:free;'
        'налаштування інтеграцій:::paid;підтримка:unlimited:month:free",'
        "Повторне налаштування — за прайсом",
    ]
)


def test_csv_terms_are_a_list_of_service_quantity_period_charge() -> None:
    parsed = parse_csv(CSV)

    assert parsed.errors == []
    (_, doc) = parsed.rows[1]
    assert isinstance(doc, DocumentRow)
    assert (doc.plan, doc.valid_from, doc.valid_until, doc.notes) == (
        "Стандарт",
        date(2021, 3, 1),
        date(2027, 2, 28),
        "Повторне налаштування — за прайсом",
    )
    assert doc.included == [
        IncludedService(service="консультація", quantity=2, period="quarter", free=True),
        IncludedService(
            service="первинне налаштування кабінету", quantity=1, period="contract", free=True
        ),
        IncludedService(service="налаштування інтеграцій", free=False),
        IncludedService(service="підтримка", quantity=None, period="month", free=True),
    ]
    ((customer_id, document),) = batch_of(parsed, set()).documents
    assert customer_id == "c-2" and document.included == doc.included


def test_jsonl_and_csv_give_the_same_terms() -> None:
    (_, from_csv) = parse_csv(CSV).rows[1]
    line = json.dumps({"record": "document", **from_csv.model_dump(mode="json")})

    (_, from_jsonl) = parse_jsonl(line).rows[0]

    assert from_jsonl == from_csv


def test_invalid_terms_in_csv_are_reported_per_row_with_the_field() -> None:
    rows = [
        "document,,c-2,,invoice,2207,Стандарт,,,,",
        "document,,c-2,,contract,1,,2022-01-01,2021-12-31,,",
        "document,,c-2,,contract,2,,,,консультація:two:quarter:free,",
        "document,,c-2,,contract,3,,,,консультація:2:week:free,",
        "document,,c-2,,contract,4,,,,консультація:2:quarter:maybe,",
        "document,,c-2,,contract,5,,,,консультація:2:quarter:free:extra,",
        "document,,c-2,,contract,6,,01.03.2021,,,",
    ]
    parsed = parse_csv("\n".join([CSV_HEADER, *rows]))

    assert [str(e) for e in parsed.errors] == [
        "line 2: document 2207: kind: Value error, plan: only a contract has terms, not an invoice",
        "line 3: document 1: valid_until: Value error, 2021-12-31 is before valid_from 2022-01-01",
        "line 4: document 2: included.0.quantity: Input should be a valid integer, unable to "
        "parse string as an integer",
        "line 5: document 3: included.0.period: Input should be 'month', 'quarter', 'year' or "
        "'contract'",
        "line 6: document 4: included.0.free: Input should be a valid boolean, unable to "
        "interpret input",
        "line 7: document 5: included: 'консультація:2:quarter:free:extra': use "
        "service:quantity:period:free|paid",
        "line 8: document 6: valid_from: Input should be a valid date or datetime, invalid "
        "character in year",
    ]
    assert parsed.rows == []


def test_invalid_terms_in_jsonl_are_reported_per_line() -> None:
    lines = [
        {"record": "document", "customer_id": "c-2", "kind": "contract", "number": "1",
         "included": [{"service": "", "quantity": 0}]},
        {"record": "document", "customer_id": "c-2", "kind": "contract", "number": "2",
         "included": [{"service": f"s{i}"} for i in range(MAX_INCLUDED_SERVICES + 1)]},
        {"record": "document", "customer_id": "c-2", "kind": "contract", "number": "3",
         "notes": "x" * (MAX_TERMS_NOTES + 1)},
        {"record": "document", "customer_id": "c-2", "kind": "contract", "number": "4",
         "plan": "Стандарт", "included": [{"service": "консультація", "quantity": 2}]},
    ]  # fmt: skip
    parsed = parse_jsonl("\n".join(json.dumps(line, ensure_ascii=False) for line in lines))

    assert [str(e) for e in parsed.errors] == [
        "line 1: document 1: included.0.service: String should have at least 1 character",
        "line 1: document 1: included.0.quantity: Input should be greater than or equal to 1",
        "line 2: document 2: included: List should have at most 20 items after validation, not 21",
        "line 3: document 3: notes: String should have at most 1000 characters",
    ]
    assert [line for line, _ in parsed.rows] == [4]


# --- what an identity carries ------------------------------------------------------------


def test_only_the_latest_active_contracts_ride_along_bounded() -> None:
    many = [{"number": f"A-{i}", "status": "active"} for i in range(5)]
    closed = {"number": "C-1", "status": "closed", "plan": "Старий"}
    long = {
        "number": "L-1",
        "notes": "n" * (MAX_TERMS_NOTES + 50),
        "included": [{"service": f"s{i}"} for i in range(MAX_INCLUDED_SERVICES + 5)],
    }

    carried = carried_contracts([*many, closed, long])

    assert len(carried) == MAX_CARRIED_CONTRACTS
    assert [c.number for c in carried] == ["A-3", "A-4", "L-1"]
    assert len(carried[-1].included) == MAX_INCLUDED_SERVICES
    assert carried[-1].notes is not None and len(carried[-1].notes) == MAX_TERMS_NOTES
    assert carried[-1].notes.endswith("…")


def test_the_demo_crm_gives_kvitka_its_terms() -> None:
    facts = asyncio.run(InMemoryCrm(demo_batch()).customer_facts(["cust-kvitka"]))

    (contract,) = facts["cust-kvitka"].customer.contracts
    assert (contract.number, contract.plan) == ("15/2021", "Стандарт")
    assert IncludedService(service="консультація", quantity=2, period="quarter", free=True) in (
        contract.included
    )
    assert contract.valid_from == date(2021, 3, 1) and contract.notes


def test_the_http_crm_adapter_maps_the_terms_as_the_mirror_does() -> None:
    answer = {
        "customers": [
            {
                "id": "cust-kvitka",
                "name": "ТОВ «Квітка»",
                "tier": "silver",
                "contracts": [
                    {"number": "7/2018", "status": "closed", "plan": "Старт"},
                    KVITKA_TERMS.model_dump(mode="json"),
                ],
                "account_manager": None,
                "authorized_channels": [],
            }
        ]
    }
    asked: list[Any] = []

    def crm(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    async def lookup() -> Any:
        transport = httpx.MockTransport(crm)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm") as client:
            return await HttpCrmDirectory(client).customer_facts(["cust-kvitka"])

    facts = asyncio.run(lookup())

    assert asked == [{"ids": ["cust-kvitka"]}]
    assert facts["cust-kvitka"].customer.contracts == [KVITKA_TERMS]


# --- the services a message names --------------------------------------------------------


def beside_kvitka(*included: IncludedService) -> list[ContractTerms]:
    """Kvitka's contract and a second one (118/2019) that includes these services."""
    return [KVITKA_TERMS, ContractTerms(number="118/2019", included=list(included))]


@pytest.mark.parametrize(
    ("text", "service", "words"),
    [
        (SEED_002_FREEBIE, "первинне налаштування кабінету", ["налаштування"]),
        ("Дайте ще одну консультацію безкоштовно.", "консультація", ["консультацію"]),
        ("Другой менеджер давал консультации бесплатно.", "консультация", ["консультации"]),
        ("Your last manager gave us two consultations for free.", "consultation",
         ["consultations"]),
        ("Do the onbording for free like before.", "onboarding", ["onbording"]),
    ],
)  # fmt: skip
def test_a_service_of_the_contract_named_in_the_message_is_found_with_its_words(
    text: str, service: str, words: list[str]
) -> None:
    contracts = beside_kvitka(
        IncludedService(service="консультация", quantity=4, period="quarter", free=True),
        IncludedService(service="consultation", period="month", free=True),
        IncludedService(service="onboarding", quantity=1, free=True),
    )

    named = {n["service"]: n for n in named_services(text, contracts)}

    assert named[service]["words"] == words


@pytest.mark.parametrize(
    ("text", "service", "words"),
    [
        ("Прошлый менеджер делал настройку бесплатно.", "первинне налаштування кабінету",
         ["настройку"]),
        ("Your colleague did the setup for free.", "первинне налаштування кабінету", ["setup"]),
        ("Минулого разу ви провели навчання безкоштовно.", "обучение сотрудников", ["навчання"]),
        ("Training was free last year.", "обучение сотрудников", ["training"]),
        ("Ви обіцяли консультації без оплати.", "consultation", ["консультації"]),
        ("Перенесите данные бесплатно, миграцию обещали.", "data migration",
         ["данные", "миграцию"]),
    ],
)  # fmt: skip
def test_a_service_is_found_when_the_client_names_it_in_another_language(
    text: str, service: str, words: list[str]
) -> None:
    contracts = beside_kvitka(
        IncludedService(service="обучение сотрудников", quantity=2, free=True),
        IncludedService(service="consultation", period="month", free=True),
        IncludedService(service="data migration", free=False),
    )

    named = {n["service"]: n for n in named_services(text, contracts)}

    assert named[service]["words"] == words


TRAINING_SETUP_MIGRATION = [
    ContractTerms(
        number="1",
        included=[
            IncludedService(service="обучение сотрудников", quantity=2, free=True),
            IncludedService(service="первинне налаштування кабінету", quantity=1, free=True),
            IncludedService(service="data migration"),
        ],
    )
]


@pytest.mark.parametrize(
    "text",
    [
        "У нас новые сотрудники, добавьте их в кабинет.",
        "Сотрудники не могут войти, что случилось?",
        "Наші співробітники не можуть увійти в кабінет.",
        "Новий співробітник просить доступ.",
        "Our staff cannot log in to the dashboard.",
        "Перенесите данные клиента в другой договор.",
        "The data in the report is wrong.",
    ],
)
def test_a_word_around_a_services_name_alone_names_none(text: str) -> None:
    # «сотрудники» is no «обучение сотрудников», «кабінет» no «первинне налаштування
    # кабінету», "data" no "data migration": only the head says which service it is.
    assert named_services(text, TRAINING_SETUP_MIGRATION) == []


@pytest.mark.parametrize(
    ("text", "service", "words"),
    [
        ("Проведите обучение сотрудников бесплатно.", "обучение сотрудников",
         ["обучение", "сотрудников"]),
        ("Обучите сотрудников бесплатно, как в прошлый раз.", "обучение сотрудников",
         ["обучите", "сотрудников"]),
        ("Навчіть наших співробітників безкоштовно.", "обучение сотрудников",
         ["навчіть", "співробітників"]),
        ("Staff training was free last year.", "обучение сотрудников",
         ["training", "staff"]),
        ("Налаштуйте нам кабінет безкоштовно.", "первинне налаштування кабінету",
         ["налаштуйте", "кабінет"]),
        ("Do the migration of our data for free.", "data migration", ["data", "migration"]),
    ],
)  # fmt: skip
def test_a_services_name_is_found_by_its_head(text: str, service: str, words: list[str]) -> None:
    named = {n["service"]: n for n in named_services(text, TRAINING_SETUP_MIGRATION)}

    assert named[service]["words"] == words


def test_the_head_of_a_name_in_another_order_is_its_noun() -> None:
    # English puts the head before a preposition ("training of staff"), Russian and
    # Ukrainian after their adjectives («резервное копирование данных»).
    contracts = [
        ContractTerms(
            number="1",
            included=[
                IncludedService(service="training of staff"),
                IncludedService(service="резервное копирование данных"),
            ],
        )
    ]
    assert named_services("New staff start on Monday.", contracts) == []
    assert named_services("Резервная копия данных нужна?", contracts) == []
    assert [n["service"] for n in named_services("Was the training free?", contracts)] == [
        "training of staff"
    ]
    assert [n["words"] for n in named_services("Копирование не работает", contracts)] == [
        ["копирование"]
    ]


FORM_AND_SERVICE = [
    ContractTerms(
        number="1",
        included=[
            IncludedService(service="onboarding session", quantity=1, free=True),
            IncludedService(service="сессия обучения", quantity=2, free=True),
            IncludedService(service="пакет впровадження", quantity=1, free=True),
            IncludedService(service="basic plan"),
            IncludedService(service="priority support"),
            IncludedService(service="initial setup"),
        ],
    )
]


@pytest.mark.parametrize(
    ("text", "service", "words"),
    [
        ("Do the onboarding for free like before.", "onboarding session", ["onboarding"]),
        ("Book our onboarding session, it was free last time.", "onboarding session",
         ["onboarding", "session"]),
        ("Проведите обучение бесплатно, как раньше.", "сессия обучения", ["обучение"]),
        ("Навчіть наших людей безкоштовно.", "сессия обучения", ["навчіть"]),
        ("Зробіть впровадження безкоштовно.", "пакет впровадження", ["впровадження"]),
        ("Сделайте внедрение бесплатно.", "пакет впровадження", ["внедрение"]),
        # a head that is a service itself stays the head
        ("Our support is slow.", "priority support", ["support"]),
        ("The setup was free last time.", "initial setup", ["setup"]),
    ],
)  # fmt: skip
def test_a_head_that_is_only_the_services_form_gives_way_to_the_service(
    text: str, service: str, words: list[str]
) -> None:
    # Round 30: "onboarding session" wanted "session" in the message, «пакет впровадження»
    # «пакет»: the head of the name, though the service is the onboarding.
    named = {n["service"]: n for n in named_services(text, FORM_AND_SERVICE)}

    assert named[service]["words"] == words


@pytest.mark.parametrize(
    "text",
    [
        "The session expired, I cannot log in.",
        "Сессия истекла, не могу войти.",
        "Пакет документів надіслали?",
        "Is it a priority for you?",
        "Initial payment is done.",
        "Basic questions only, thanks.",
    ],
)
def test_the_form_or_a_modifier_alone_names_no_service(text: str) -> None:
    assert named_services(text, FORM_AND_SERVICE) == []


TRAINING_SESSIONS = [
    ContractTerms(
        number=language,
        included=[IncludedService(service=service, quantity=2, free=True)],
    )
    for language, service in (
        ("uk", "навчальна сесія"),
        ("ru", "учебная сессия"),
        ("en", "training session"),
    )
]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Навчіть наших людей безкоштовно, як минулого разу.", ["навчіть"]),
        ("Проведіть навчання безкоштовно.", ["навчання"]),
        ("Проведите обучение бесплатно, как раньше.", ["обучение"]),
        ("Do the training for free like before.", ["training"]),
    ],
)
def test_a_form_head_gives_way_to_its_adjective(text: str, words: list[str]) -> None:
    # Round 33: «навчальна сесія» («учебная сессия») wanted «сесія» in the message: its
    # adjective says which service it is, as "training" of "training session".
    named = {n["service"]: n["words"] for n in named_services(text, TRAINING_SESSIONS)}

    assert named == {
        "навчальна сесія": words,
        "учебная сессия": words,
        "training session": words,
    }


@pytest.mark.parametrize(
    "text", ["Сесія закінчилась, не можу увійти.", "Сессия истекла.", "The session expired."]
)
def test_the_session_alone_names_no_training_session(text: str) -> None:
    assert named_services(text, TRAINING_SESSIONS) == []


def test_the_words_of_other_languages_are_dictionary_forms() -> None:
    # The glossary is matched against the lemmas of the client's words: a Russian or
    # Ukrainian entry that is not its own lemma would never match.
    morph = default_morphology()
    for word in same_service_words():
        if is_cyrillic(word):
            assert any(word in morph.lemmas(word, lang) for lang in ("ru", "uk")), word


def test_a_word_that_only_looks_like_a_service_names_none() -> None:
    contracts = [ContractTerms(number="1", included=[IncludedService(service="data migration")])]
    assert named_services("В данный момент ничего не работает.", contracts) == []


def test_nothing_is_named_when_the_message_names_no_service_of_the_contract() -> None:
    assert named_services("Зробіть знижку, як раніше.", [KVITKA_TERMS]) == []
    assert named_services(SEED_002_FREEBIE, [ContractTerms(number="1")]) == []


# --- the fact pack and the account manager's notice -------------------------------------


def _freebie_notice(team_language: str) -> Any:
    who = identity("verified", customer=KVITKA)
    d = decide(SEED_002_FREEBIE, who, channel="chat")["freebie"]
    verified = verified_message(message(SEED_002_FREEBIE, language="uk", channel="chat"), who)
    pack = fact_pack(
        verified, d.signals, seen_message(verified, list(d.signals), [], []), History()
    )
    policy = POLICY.model_copy(update={"team_language": team_language})
    (manager,) = staff_notifications(
        policy, d, escalation(d, verified), verified, {"fact_pack": pack}
    )
    return manager


def test_the_fact_pack_holds_the_terms_and_the_service_the_client_names() -> None:
    pack = _freebie_notice("ru").data["fact_pack"]

    (contract,) = pack["crm"]["contracts"]
    assert contract["plan"] == "Стандарт"
    assert (contract["valid_from"], contract["valid_until"], contract["in_force"]) == (
        "2021-03-01",
        "2027-02-28",
        True,
    )
    assert contract["included"][0] == {
        "service": "консультація",
        "quantity": 2,
        "period": "quarter",
        "free": True,
    }
    assert [(n["service"], n["words"], n["free"]) for n in pack["crm"]["named_services"]] == [
        ("налаштування інтеграцій", ["налаштування"], False),
        ("первинне налаштування кабінету", ["налаштування"], True),
    ]


def test_a_contract_out_of_its_validity_is_marked_so() -> None:
    who = identity("verified", customer=KVITKA.model_copy(update={"contracts": [
        KVITKA_TERMS.model_copy(update={"valid_until": date(2024, 12, 31)})]}))  # fmt: skip
    verified = verified_message(message(SEED_002_FREEBIE, language="uk"), who)

    pack = fact_pack(verified, (), seen_message(verified, [], [], []), History())

    assert pack["crm"]["contracts"][0]["in_force"] is False


NOTICE = {
    "ru": [
        "договор 15/2021 (действует, 24000.00 UAH), план «Стандарт», срок действия 2021-03-01 – "
        "2027-02-28",
        "· консультація: 2 в квартал, бесплатно",
        "· первинне налаштування кабінету: 1 на весь срок договора, бесплатно",
        "· налаштування інтеграцій: платно",
        "примечания: Первинне налаштування виконано безкоштовно",
        "Клиент называет услуги из договора:",
        "«налаштування» → первинне налаштування кабінету: 1 на весь срок договора, бесплатно "
        "(договор 15/2021)",
    ],
    "uk": [
        "договір 15/2021 (діє, 24000.00 UAH), план «Стандарт», строк дії 2021-03-01 – 2027-02-28",
        "· консультація: 2 на квартал, безкоштовно",
        "· налаштування інтеграцій: платно",
        "примітки: Первинне налаштування",
        "«налаштування» → первинне налаштування кабінету: 1 на весь строк договору, "
        "безкоштовно (договір 15/2021)",
    ],
    "en": [
        "contract 15/2021 (active, 24000.00 UAH), plan «Стандарт», term 2021-03-01 – 2027-02-28",
        "· консультація: 2 per quarter, free",
        "· налаштування інтеграцій: paid",
        "notes: Первинне налаштування",
        "Services of the contract the client names:",
        "«налаштування» → первинне налаштування кабінету: 1 per contract term, free "
        "(contract 15/2021)",
    ],
}


@pytest.mark.parametrize("team_language", ["ru", "uk", "en"])
def test_the_freebie_notice_shows_the_terms_in_the_team_language(team_language: str) -> None:
    manager = _freebie_notice(team_language)
    rendered = render(manager)

    assert (manager.kind, manager.recipient, manager.language) == (
        "manager_escalation",
        "o.petrova@careline.example",
        team_language,
    )
    for line in NOTICE[team_language]:
        assert line in rendered.body
        assert line.removeprefix("· ") in (rendered.html or "")
    # The playbook in the client's language comes along when the team speaks another one.
    client_playbook = "(uk): «Інший менеджер зробив безкоштовно». З'ясувати, на яких умовах"
    assert (client_playbook in rendered.body) is (team_language != "uk")


@pytest.mark.parametrize(
    ("status", "said"),
    [("Suspended", "приостановлен"), ("closed", "закрыт"), ("на_паузе", "на паузе")],
)
def test_a_contracts_status_is_said_in_the_team_language_or_as_the_crm_wrote_it(
    status: str, said: str
) -> None:
    """A CRM's own word (any case) when the labels know it; one they do not, as written."""
    manager = _freebie_notice("ru")
    pack = manager.data["fact_pack"]
    contract = {**pack["crm"]["contracts"][0], "status": status}
    data = {**manager.data, "fact_pack": {**pack, "crm": {**pack["crm"], "contracts": [contract]}}}

    rendered = render(manager.model_copy(update={"data": data}))

    assert f"договор 15/2021 ({said}, 24000.00 UAH)" in rendered.body
    assert f"15/2021 ({said}, 24000.00 UAH)" in (rendered.html or "")


def test_the_html_notice_escapes_what_the_crm_wrote() -> None:
    hostile = KVITKA_TERMS.model_copy(
        update={
            "plan": "<b>Gold</b>",
            "notes": "<script>alert(1)</script>",
            "included": [IncludedService(service="<i>налаштування</i>", free=True)],
        }
    )
    who = identity("verified", customer=KVITKA.model_copy(update={"contracts": [hostile]}))
    d = decide(SEED_002_FREEBIE, who, channel="chat")["freebie"]
    verified = verified_message(message(SEED_002_FREEBIE, language="uk"), who)
    pack = fact_pack(
        verified, d.signals, seen_message(verified, list(d.signals), [], []), History()
    )
    (manager,) = staff_notifications(
        POLICY, d, escalation(d, verified), verified, {"fact_pack": pack}
    )

    html = render(manager).html or ""

    assert "<script>" not in html and "<b>Gold</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;налаштування&lt;/i&gt;" in html
