"""Who is speaking, case by case: a message in, the identity and its evidence out.

Each case runs the verifier's whole decision — what to look up (lookup_for), the CRM's
answers (an in-memory CRM indexed exactly like the mirror), the ladder (decide_identity) —
on the demo CRM plus a few customers made for the hard cases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from services.verifier.domain import decide_identity
from services.verifier.lookup import facts_for, gather, lookup_for
from services.verifier.matching import company_key, company_keys_in, name_key_pairs, name_keys
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import CrmBatch, demo_batch, nested_batch
from services.verifier.settings import EvidenceWeights, MatchingRules
from shared.contracts import (
    AuthResults,
    CrmContact,
    CrmCustomer,
    Entity,
    Identity,
    MessageNormalized,
    SenderIdentifiers,
)

pytestmark = pytest.mark.unit

EXTRA = {
    "account_managers": [
        {"id": "am-lysenko", "name": "Ірина Лисенко", "email": "i.lysenko@careline.example"}
    ],
    "customers": [
        {
            "id": "cust-rubikon", "name": "ТОВ «Рубікон»", "tier": "gold",
            "account_manager_id": "am-lysenko", "domains": ["rubikon.ua"],
            "documents": [{"kind": "contract", "number": "301/2023"}],
            "contacts": [
                {"id": "ct-ivanov", "name": "Іван Іванов", "role": "директор",
                 "channels": [{"kind": "email", "address": "ivanov@rubikon.ua", "verified": True}]}
            ],
        },
        # Two companies with one name, in two cities: a name alone cannot choose.
        {
            "id": "cust-vektor-msk", "name": "ООО «Вектор»", "account_manager_id": "am-petrova",
            "domains": ["vektor-msk.ru"],
            "documents": [{"kind": "contract", "number": "501"}],
            "contacts": [
                {"id": "ct-vektor-msk", "name": "Павел Громов", "role": "директор",
                 "channels": [{"kind": "email", "address": "gromov@vektor-msk.ru",
                               "verified": True},
                              {"kind": "phone", "address": "+74959990000", "verified": True}]}
            ],
        },
        {
            "id": "cust-vektor-spb", "name": "ООО «Вектор»", "account_manager_id": "am-kovalenko",
            "domains": ["vektor-spb.ru"],
            "documents": [{"kind": "contract", "number": "502"}],
            "contacts": [
                {"id": "ct-vektor-spb", "name": "Олег Громов", "role": "директор",
                 "channels": [{"kind": "email", "address": "o.gromov@vektor-spb.ru",
                               "verified": True},
                              {"kind": "phone", "address": "+7 495 999-00-00", "verified": True}]}
            ],
        },
        {
            "id": "cust-gone", "name": "ООО «Былое»", "status": "inactive",
            "domains": ["byloe.ru"],
            "contacts": [
                {"id": "ct-gone", "name": "Пётр Былов",
                 "channels": [{"kind": "email", "address": "petr@byloe.ru", "verified": True}]}
            ],
        },
    ],
}  # fmt: skip


def crm() -> InMemoryCrm:
    demo, extra = demo_batch(), nested_batch(EXTRA)
    return InMemoryCrm(
        CrmBatch(
            account_managers=demo.account_managers + extra.account_managers,
            customers=demo.customers + extra.customers,
            contacts=demo.contacts + extra.contacts,
        )
    )


PASS = AuthResults(spf="pass", dkim="pass", dmarc="pass")
SOKOLOV_SIGNATURE = "С уважением,\nАндрей Соколов\nгенеральный директор ООО «СтройМонтаж»"


@dataclass(frozen=True)
class Case:
    email: str | None = None
    phone: str | None = None
    handle: str | None = None
    name: str | None = None
    signature: str = ""
    text: str = ""  # the body before the entities' values
    entities: tuple[tuple[str, str], ...] = ()
    auth: AuthResults = PASS
    # expected
    status: str = "unknown"
    customer: str | None = None
    contact: str | None = None
    evidence: frozenset[str] = field(default_factory=frozenset)


def message(case: Case) -> MessageNormalized:
    text = " ".join([case.text, *(value for _, value in case.entities)]).strip() or "Добрый день"
    entities = []
    for kind, value in case.entities:
        start = text.index(value)
        entities.append(Entity(kind=kind, value=value, start=start, end=start + len(value)))  # type: ignore[arg-type]
    now = datetime(2022, 3, 26, 11, 2, tzinfo=UTC)
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=now,
        channel="email" if case.email else "chat",
        sender=SenderIdentifiers(
            email=case.email, phone=case.phone, handle=case.handle, display_name=case.name
        ),
        text=text,
        signature=case.signature,
        thread_id="t",
        external_id="x",
        auth=case.auth,
        entities=entities,
        received_at=now,
    )


async def identify(msg: MessageNormalized, directory: InMemoryCrm | None = None) -> Identity:
    directory = directory or crm()
    rules = MatchingRules()
    candidate = await gather(directory, lookup_for(msg, rules), rules)
    facts = await facts_for(directory, candidate)
    return decide_identity(candidate, msg.auth, facts, EvidenceWeights(), 0.4, rules)


def ev(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


CASES: dict[str, Case] = {
    # --- the sender's own channel ------------------------------------------------------
    "exact-verified-email": Case(email="buh@stroymontazh.ru", status="verified",
        customer="cust-stroymontazh", contact="ct-kovaleva", evidence=ev("verified_channel")),
    "email-in-another-case": Case(email="BUH@StroyMontazh.RU", status="verified",
        customer="cust-stroymontazh", contact="ct-kovaleva", evidence=ev("verified_channel")),
    "email-with-plus-tag": Case(email="buh+billing@stroymontazh.ru", status="verified",
        customer="cust-stroymontazh", evidence=ev("verified_channel")),
    "english-plus-tag-and-case": Case(email="J.Miller+support@Northwind-Logistics.com",
        status="verified", customer="cust-northwind", contact="ct-miller"),
    "gmail-without-dots": Case(email="vlebedevsmm@gmail.com", status="verified",
        customer="cust-smmpro", contact="ct-lebedev"),
    "googlemail-with-plus-tag": Case(email="v.lebedev.smm+x@googlemail.com", status="verified",
        customer="cust-smmpro"),
    "verified-phone-any-format": Case(phone="8 (495) 123-45-67", status="verified",
        customer="cust-stroymontazh", evidence=ev("verified_channel")),
    "verified-handle-any-case": Case(handle="@Lebedev_SMM", status="verified",
        customer="cust-smmpro"),
    "verified-handle-without-at": Case(handle="lebedev_smm", status="verified",
        customer="cust-smmpro"),
    "unverified-handle-on-file": Case(handle="@olena_kvitka", name="Олена", status="probable",
        customer="cust-kvitka", contact="ct-shevchuk", evidence=ev("unverified_channel")),
    "unverified-email-on-shared-domain": Case(email="belova@alfa-group.ru", status="probable",
        customer="cust-alfa-trade", contact="ct-belova",
        evidence=ev("unverified_channel", "corporate_domain")),
    "verified-email-naming-another-company": Case(email="buh@stroymontazh.ru",
        signature="Марина\nNorthwind Logistics", status="verified", customer="cust-stroymontazh"),
    "same-phone-at-two-customers": Case(phone="+74959990000", status="conflict",
        evidence=ev("verified_channel")),
    # --- spoofing ------------------------------------------------------------------------
    "known-address-dmarc-fail": Case(email="buh@stroymontazh.ru",
        auth=AuthResults(spf="pass", dkim="fail", dmarc="fail"), status="suspicious",
        customer="cust-stroymontazh", evidence=ev("verified_channel", "authentication_failed")),
    "known-address-spf-fail": Case(email="j.miller@northwind-logistics.com",
        auth=AuthResults(spf="fail"), status="suspicious", customer="cust-northwind"),
    "known-address-forwarded-dmarc-pass": Case(email="j.miller@northwind-logistics.com",
        auth=AuthResults(spf="fail", dkim="pass", dmarc="pass"), status="verified",
        customer="cust-northwind"),
    "corporate-address-forwarded-dmarc-pass": Case(email="new.person@stroymontazh.ru",
        auth=AuthResults(spf="fail", dkim="pass", dmarc="pass"), status="probable",
        customer="cust-stroymontazh", evidence=ev("corporate_domain")),
    "unknown-corporate-address-dmarc-fail": Case(email="ceo@stroymontazh.ru",
        auth=AuthResults(dmarc="fail"), status="unknown", evidence=ev("corporate_domain")),
    "dmarc-fail-but-invoice-number": Case(email="ceo@stroymontazh.ru",
        auth=AuthResults(dmarc="fail"), entities=(("invoice", "4512"),), status="probable",
        customer="cust-stroymontazh", evidence=ev("corporate_domain", "document")),
    # --- corporate domain and the seed-000 CEO -------------------------------------------
    "seed-000-ceo": Case(email="a.sokolov@stroymontazh.ru", name="Андрей Соколов",
        signature=SOKOLOV_SIGNATURE, entities=(("invoice", "4512"),), status="probable",
        customer="cust-stroymontazh", contact="ct-sokolov",
        evidence=ev("corporate_domain", "document", "signature_name", "display_name",
                    "company_name")),
    "corporate-domain-only": Case(email="new.person@stroymontazh.ru", status="probable",
        customer="cust-stroymontazh", evidence=ev("corporate_domain")),
    "corporate-domain-and-initial": Case(email="ceo@stroymontazh.ru",
        signature="А. Соколов", status="probable", customer="cust-stroymontazh",
        contact="ct-sokolov", evidence=ev("corporate_domain", "signature_name")),
    "domain-shared-by-two-customers": Case(email="someone@alfa-group.ru", status="conflict",
        evidence=ev("corporate_domain")),
    "shared-domain-decided-by-name-and-contract": Case(email="i.orlov@alfa-group.ru",
        signature="Игорь Орлов\nАО «Альфа-Строй»", entities=(("contract", "88-А"),),
        status="probable", customer="cust-alfa-stroy", contact="ct-orlov",
        evidence=ev("corporate_domain", "document", "signature_name", "company_name")),
    "domain-of-one-name-of-another": Case(email="new@stroymontazh.ru",
        signature="James Miller\nNorthwind Logistics", status="conflict"),
    "inactive-customer-counts-for-nothing": Case(email="petr@byloe.ru", status="unknown"),
    # --- free mail ------------------------------------------------------------------------
    "free-mail-signature-and-contract": Case(email="sokolov.andrey@mail.ru",
        signature=SOKOLOV_SIGNATURE, entities=(("contract", "118/2019"),), status="probable",
        customer="cust-stroymontazh", contact="ct-sokolov",
        evidence=ev("free_mail_domain", "document", "signature_name", "company_name")),
    "free-mail-transliterated-name-and-invoice": Case(email="andrey.s@gmail.com",
        name="Andrey Sokolov", entities=(("invoice", "4512"),), status="probable",
        customer="cust-stroymontazh", contact="ct-sokolov",
        evidence=ev("display_name", "document")),
    "free-mail-transliterated-name-alone-is-not-enough": Case(email="m.kovaleva@yandex.ru",
        name="Marina Kovaleva", status="unknown", evidence=ev("display_name", "free_mail_domain")),
    "ivanov-is-ivanov": Case(email="ivan.ivanov@ukr.net", name="Ivan Ivanov",
        signature="Ivan Ivanov\nRubikon LLC", status="probable", customer="cust-rubikon",
        contact="ct-ivanov", evidence=ev("signature_name", "display_name", "company_name")),
    "ukrainian-name-and-contract": Case(email="olena.sh@i.ua", name="Олена Шевчук",
        entities=(("contract", "15/2021"),), status="probable", customer="cust-kvitka",
        contact="ct-shevchuk", evidence=ev("display_name", "document")),
    "phone-in-signature": Case(email="marina.k@yandex.ru",
        signature="Марина\nтел. +7 (495) 123-45-67", status="probable",
        customer="cust-stroymontazh", evidence=ev("mentioned_phone")),
    "phone-in-body": Case(email="olena@ukr.net", entities=(("phone", "+380441234567"),),
        status="probable", customer="cust-kvitka", evidence=ev("mentioned_phone")),
    "unknown-phone-in-body": Case(email="x@outlook.com", entities=(("phone", "+74950000001"),),
        status="unknown", evidence=ev("free_mail_domain")),
    "account-number": Case(email="smm.viktor@gmail.com", entities=(("account", "100542"),),
        status="probable", customer="cust-smmpro", evidence=ev("document")),
    # --- two companies sharing a name -----------------------------------------------------
    "two-companies-one-name-and-phone": Case(email="director@gmail.com",
        signature="Громов\nООО «Вектор»\n+7 495 999-00-00", status="conflict",
        evidence=ev("company_name", "mentioned_phone")),
    "company-name-alone-is-not-enough": Case(email="director@gmail.com",
        signature="ООО «Вектор»", status="unknown", evidence=ev("company_name")),
    "two-companies-one-name-contract-decides": Case(email="director@gmail.com",
        signature="ООО «Вектор»", entities=(("contract", "502"),), status="probable",
        customer="cust-vektor-spb", evidence=ev("company_name", "document")),
    # --- the writer says in the body who they are (introductions.py) -----------------------
    "free-mail-introduces-himself-and-his-company": Case(email="andrey.s.private@mail.ru",
        text="Добрый день! Это Андрей Соколов из ООО «СтройМонтаж». Почему нам пишут о долге?",
        status="probable", customer="cust-stroymontazh", contact="ct-sokolov",
        evidence=ev("introduction_name", "company_name", "free_mail_domain")),
    "free-mail-introduces-herself-uk": Case(email="olena.private@ukr.net",
        text="Доброго дня, мене звати Олена Шевчук, я директорка ТОВ «Квітка». Що з рахунком?",
        status="probable", customer="cust-kvitka", contact="ct-shevchuk",
        evidence=ev("introduction_name", "company_name")),
    "free-mail-introduces-himself-en": Case(email="jm.home@gmail.com",
        text="Hi, this is James Miller from Northwind Logistics. The export is broken again.",
        status="probable", customer="cust-northwind", contact="ct-miller",
        evidence=ev("introduction_name", "company_name")),
    "a-company-merely-mentioned-names-nobody": Case(email="someone@mail.ru",
        text="Нам пришло письмо от ООО «СтройМонтаж», Андрей Соколов просил переслать его вам.",
        status="unknown", evidence=ev("free_mail_domain")),
    "an-introduction-and-the-display-name-are-one-claim": Case(
        email="a.sokolov.home@gmail.com", name="Андрей Соколов",
        text="Меня зовут Андрей Соколов. Почему нам пишут?", status="unknown",
        evidence=ev("display_name", "free_mail_domain")),
    "an-introduction-and-a-signature-are-one-claim": Case(email="andrey.s.private@mail.ru",
        text="Меня зовут Андрей Соколов.", signature=SOKOLOV_SIGNATURE, status="probable",
        customer="cust-stroymontazh", evidence=ev("signature_name", "company_name")),
    # --- nobody ---------------------------------------------------------------------------
    "unknown-corporate-domain": Case(email="info@unknown-company.example", status="unknown",
        evidence=ev("no_match")),
    "free-mail-and-nothing-else": Case(email="someone@gmail.com", status="unknown",
        evidence=ev("free_mail_domain")),
    "unknown-handle": Case(handle="@roman_kyiv_88", name="Роман", status="unknown",
        evidence=ev("no_match")),
}  # fmt: skip

DISCLOSURE = {"verified": "account", "probable": "general"}


@pytest.mark.parametrize("name", CASES)
async def test_identity_case(name: str) -> None:
    case = CASES[name]
    identity = await identify(message(case))

    assert identity.status == case.status, [e.detail for e in identity.evidence]
    assert (identity.customer.id if identity.customer else None) == case.customer
    if case.contact:
        assert identity.contact is not None and identity.contact.id == case.contact
    assert case.evidence <= {e.kind for e in identity.evidence}
    if name.startswith("an-introduction-and-"):
        assert "introduction_name" not in {e.kind for e in identity.evidence}
    assert identity.disclosure == DISCLOSURE.get(case.status, "none")
    assert identity.evidence, "every decision says why"
    for evidence in identity.evidence:
        assert evidence.source and evidence.detail
    if case.status in ("probable", "verified"):
        assert identity.confidence >= 0.4
        assert identity.account_manager is not None
        assert all(c.verified for c in identity.authorized_channels)
    else:
        assert identity.customer is None or case.status == "suspicious"
        assert identity.disclosure == "none"


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


async def test_seed_000_ceo_is_probable_with_manager_and_registered_channels() -> None:
    identity = await identify(message(CASES["seed-000-ceo"]))

    assert identity.account_manager is not None
    assert identity.account_manager.email == "o.petrova@careline.example"
    assert ("email", "buh@stroymontazh.ru") in {
        (c.kind, c.address) for c in identity.authorized_channels
    }
    assert identity.confidence > EvidenceWeights().corporate_domain
    # Evidence shows ids, never the text it matched.
    for evidence in identity.evidence:
        assert "Соколов" not in evidence.detail and "4512" not in evidence.detail


async def test_lookups_per_message_are_fixed_however_much_evidence_it_carries() -> None:
    plain, directory = crm(), crm()
    await identify(message(Case(email="someone@gmail.com")), plain)
    rich = Case(
        email="a.sokolov@stroymontazh.ru",
        name="Андрей Соколов",
        signature=SOKOLOV_SIGNATURE + "\n+7 495 123-45-67\n+380 44 123 4567",
        entities=(
            *(("invoice", str(n)) for n in range(4500, 4530)),
            ("contract", "118/2019"),
            ("phone", "+74959990000"),
        ),
    )
    await identify(message(rich), directory)

    assert len(directory.calls) == len(set(directory.calls)) == 5
    assert sorted(plain.calls) == sorted(directory.calls)


def test_name_key_pairs_are_two_words_of_one_name_in_any_script() -> None:
    assert name_key_pairs("Андрей Соколов") == [("andr", "soko")]
    assert name_key_pairs("Андрій Соколов") == name_key_pairs("Andrii Sokolov")
    assert len(name_key_pairs("Соколов Андрей Петрович")) == 3
    assert name_key_pairs("Андрей") == [] and name_key_pairs("") == []


def test_pairs_are_taken_within_one_line_display_name_first_and_bounded() -> None:
    msg = message(
        Case(
            name="Олена Шевчук",
            signature="З повагою,\nАндрій Коваленко\nдиректорка ТОВ «Квітка»\nКиїв, вул. Хрещатик",
        )
    )
    lookup = lookup_for(msg, MatchingRules())
    assert ("kova", "olen") not in lookup.names.pairs  # words of different lines
    assert set(name_key_pairs("Олена Шевчук")) <= set(lookup.names.pairs)
    assert set(name_key_pairs("Андрій Коваленко")) <= set(lookup.names.pairs)
    bounded = lookup_for(msg, MatchingRules(max_name_pairs=1)).names.pairs
    assert bounded == tuple(name_key_pairs("Олена Шевчук"))  # the display name's comes first
    few = lookup_for(msg, MatchingRules(max_company_keys=2)).names.companies
    assert set(few) <= set(company_keys_in("Олена Шевчук")) and len(few) == 2


async def test_the_person_named_is_found_among_more_namesakes_than_the_lookup_fetches() -> None:
    namesakes = [
        CrmContact(id=f"ct-a{i:03}", customer_id="cust-crowd", name=f"Андрей Волков{'a' * i}")
        for i in range(10)
    ]
    demo = demo_batch()
    directory = InMemoryCrm(
        CrmBatch(
            account_managers=demo.account_managers,
            customers=[CrmCustomer(id="cust-crowd", name="Crowd"), *demo.customers],
            contacts=namesakes + demo.contacts,
        )
    )
    rules = MatchingRules(max_name_candidates=5)
    msg = message(Case(email="andrey@gmail.com", signature="С уважением,\nАндрей Соколов"))
    candidate = await gather(directory, lookup_for(msg, rules), rules)

    assert len(candidate.people) == 5
    assert candidate.people[0].contact_id == "ct-sokolov"  # both words: first
    assert [p.contact_id for p in candidate.people[1:]] == [
        "ct-a000",
        "ct-a001",
        "ct-a002",
        "ct-a003",
    ]


def test_a_company_key_is_its_name_without_legal_form_however_it_is_spaced() -> None:
    assert company_key("ООО «СтройМонтаж»") == "stroimon"
    assert company_key("ТОВ «Квітка»") == "kvitka" and company_key("LLC") == ""
    for line in ("генеральный директор ООО «Строй Монтаж»", "Stroi-Montazh LLC, Moscow"):
        assert "stroimon" in company_keys_in(line)
    assert company_key("ТОВ «Квітка»") in company_keys_in("директорка ТОВ «Квітка», Київ")
    assert company_key("Northwind Logistics LLC") in company_keys_in("James Miller, Northwind")


async def test_the_company_named_is_found_among_more_whose_names_start_alike() -> None:
    alike = [
        CrmCustomer(id=f"cust-a{i:02}", name=f"ООО «Строй{'Ресурс' * (i + 1)}»") for i in range(8)
    ]
    demo = demo_batch()
    directory = InMemoryCrm(CrmBatch(customers=alike + demo.customers, contacts=demo.contacts))
    rules = MatchingRules(max_name_candidates=4)
    msg = message(Case(email="x@gmail.com", signature="Андрей\nООО «СтройМонтаж»"))
    candidate = await gather(directory, lookup_for(msg, rules), rules)

    assert [c.customer_id for c in candidate.companies] == [
        "cust-stroymontazh", "cust-a00", "cust-a01", "cust-a02"
    ]  # fmt: skip


def test_legal_forms_are_left_out_however_they_fold() -> None:
    assert company_key("Acme Company") == company_key("Acme Co.") == "acme"
    assert company_key("Nokia Oy") == "nokia" and name_keys("Nokia Oy") == ["noki"]


def test_numbers_and_long_lines_do_not_crowd_out_the_name_and_the_company() -> None:
    signature = (
        "Андрей Соколов\nГенеральный директор\nТел.: +7 (495) 123-45-67, доб. 201\n"
        "Моб.: +7 (916) 765-43-21\nE-mail: a.sokolov@stroymontazh.ru\nООО «СтройМонтаж»"
    )
    names = lookup_for(
        message(Case(email="x@gmail.com", signature=signature)), MatchingRules()
    ).names
    assert ("andr", "soko") in names.pairs and "stroimon" in names.companies
    assert not any(ch.isdigit() for pair in names.pairs for key in pair for ch in key)

    # Only a line's first words are paired: its length does not make the work grow.
    endless = "Андрей Соколов " + " ".join(f"слово{chr(0x430 + i % 32)}а" for i in range(20_000))
    assert ("andr", "soko") in name_key_pairs(endless)
    assert len(name_key_pairs(endless)) <= 21 and len(company_keys_in(endless)) <= 24


async def test_a_company_named_by_its_key_alone_is_found() -> None:
    # "Эко Строй" shares no word's key with "ЭкоСтрой" (eko/stro against ekos): its
    # company key still finds it.
    eco = CrmCustomer(id="cust-eco", name="ООО «ЭкоСтрой»")
    directory = InMemoryCrm(CrmBatch(customers=[eco]))
    rules = MatchingRules()
    msg = message(Case(email="x@gmail.com", signature="директор ООО «Эко Строй»"))
    candidate = await gather(directory, lookup_for(msg, rules), rules)

    assert [c.customer_id for c in candidate.companies] == ["cust-eco"]
