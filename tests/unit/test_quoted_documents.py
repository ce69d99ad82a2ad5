"""Staff see the documents the client names as the CRM has them (seed 000: the invoice he
says he paid is paid, so the suspension notice went out by mistake): in the fact pack of
single notices and digests, in ru, uk and en; another customer's documents never."""

from __future__ import annotations

import pytest

from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES
from services.verifier.domain import DocumentMatch, with_quoted_documents
from shared.contracts import QuotedDocument
from tests.unit.test_routing_policy import identity

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
