"""Staff see the documents the client names as the CRM has them (seed 000: the invoice he
says he paid is paid, so the suspension notice went out by mistake): in the fact pack of
single notices and digests, in ru, uk and en; another customer's documents never. And
where the client can be reached for sure: its verified channels on file."""

from __future__ import annotations

import pytest

from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES
from services.verifier.domain import DocumentMatch, with_quoted_documents
from shared.contracts import QuotedDocument
from tests.unit.test_routing_policy import identity, message, verified_message

pytestmark = pytest.mark.unit

PAID = {"kind": "invoice", "number": "4512", "status": "paid", "amount": "184500.00"}
SAID = {
    "ru": "Документы, которые называет клиент, в CRM:\n  - счёт № 4512: оплачен, 184500.00 RUB",
    "uk": "Документи, які називає клієнт, у CRM:\n  - рахунок № 4512: оплачений, 184500.00 RUB",
    "en": "Documents the client names, in the CRM:\n  - invoice № 4512: paid, 184500.00 RUB",
}


def test_the_customers_quoted_documents_only() -> None:
    who = identity("verified")
    assert who.customer is not None
    found = [
        DocumentMatch(who.customer.id, "invoice", "4512", "paid", "184500.00", "RUB"),
        DocumentMatch("cust-other", "invoice", "4512", "unpaid", "10.00", "RUB"),
    ]

    quoted = with_quoted_documents(who, found)

    assert quoted.customer is not None
    assert quoted.customer.documents == [QuotedDocument(**PAID, currency="RUB")]
    assert with_quoted_documents(who, []) == who
    unknown = identity("unknown", customer=None)
    assert with_quoted_documents(unknown, found) == unknown


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_the_quoted_invoice_and_its_status(language: str) -> None:
    sample = SAMPLES["manager_escalation"]
    pack = sample["fact_pack"]
    crm = {**pack["crm"], "documents": [{**PAID, "currency": "RUB"}]}
    data = {**sample, "fact_pack": {**pack, "crm": crm}}

    rendered = render_kind("manager_escalation", language, data)

    assert SAID[language] in rendered.body
    assert SAID[language].split(":\n  - ")[1] in (rendered.html or "")


OPEN = {"kind": "invoice", "number": "2207", "status": "open", "amount": "8600.00"}
OPEN_SAID = {
    "ru": "счёт № 2207: не оплачен, 8600.00 UAH",
    "uk": "рахунок № 2207: не оплачений, 8600.00 UAH",
    "en": "invoice № 2207: unpaid, 8600.00 UAH",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_open_invoice_reads_unpaid_in_the_staffs_language(language: str) -> None:
    """Seed 000 turns on whether the invoice is paid: the CRM's "open" (ТОВ «Квітка»'s 2207)
    was shown as is, in English, beside «оплачен» of a paid one."""
    sample = SAMPLES["manager_escalation"]
    pack = sample["fact_pack"]
    crm = {**pack["crm"], "documents": [{**OPEN, "currency": "UAH"}]}

    rendered = render_kind(
        "manager_escalation", language, {**sample, "fact_pack": {**pack, "crm": crm}}
    )

    assert OPEN_SAID[language] in rendered.body and OPEN_SAID[language] in (rendered.html or "")


REACH = {
    "ru": "Контакты клиента в CRM: электронная почта buh@stroymontazh.ru, телефон +74951234567",
    "uk": "Контакти клієнта в CRM: електронна пошта buh@stroymontazh.ru, телефон +74951234567",
    "en": "The client's contacts on file: email buh@stroymontazh.ru, phone +74951234567",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_where_the_client_can_be_reached_for_sure(language: str) -> None:
    """Seed 000: "contact the client itself through the registered channel" (the playbook of
    a probable or disowned sender says so) needs the channel: the verified ones on file, in
    the fact pack; an unverified one is not offered."""
    channels = (
        ("email", "buh@stroymontazh.ru", True),
        ("phone", "+74951234567", True),
        ("email", "old@stroymontazh.ru", False),
    )
    verified = verified_message(message("Счёт оплачен."), identity("probable", channels))
    pack = fact_pack(verified, (), seen_message(verified, [], [], []), History())
    assert pack["crm"]["registered"] == [
        {"kind": "email", "address": "buh@stroymontazh.ru"},
        {"kind": "phone", "address": "+74951234567"},
    ]
    sample = SAMPLES["manager_escalation"]
    data = {**sample, "fact_pack": {**sample["fact_pack"], "crm": pack["crm"]}}

    rendered = render_kind("manager_escalation", language, data)

    assert REACH[language] in rendered.body
    assert REACH[language].split(": ")[1] in (rendered.html or "")
    assert "old@stroymontazh.ru" not in rendered.body
