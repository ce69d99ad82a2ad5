"""The CRM's language of an account manager reaches the identity from the mirror too (an
acceptance run found the London client's manager reading Russian notices under `careline
up`): the record's field, the import formats, the mirror's row and the demo CRM."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.verifier.adapters import _facts
from services.verifier.importer import parse_csv, parse_jsonl
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import MANAGER_KEPT_WHEN_OMITTED, demo_batch, omitted
from shared.contracts import CrmAccountManager, CustomerUpserted

MANAGER = {"id": "am-1", "name": "Emily Carter", "email": "e.carter@careline.example"}


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("uk_UA", "uk"),
        (" RU ", "ru"),
        ("de", None),  # Careline writes no staff notices in German: the team's language
        ("", None),
        (None, None),
    ],
)
def test_the_crm_language_is_kept_as_a_language_staff_notices_are_written_in(
    said: str | None, kept: str | None
) -> None:
    assert CrmAccountManager.model_validate({**MANAGER, "language": said}).language == kept


def test_an_event_without_a_language_still_reads_and_says_none() -> None:
    # Events published before the field existed stay valid: no language, the team's then.
    event = CustomerUpserted.model_validate_json(
        CustomerUpserted(
            event_id=uuid.uuid4(),
            occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
            customer={"id": "c-1", "name": "Northwind Logistics"},  # type: ignore[arg-type]
            account_manager=CrmAccountManager.model_validate(MANAGER),
        ).model_dump_json(exclude={"account_manager": {"language"}})
    )
    assert event.account_manager is not None and event.account_manager.language is None


def test_an_upsert_overwrites_only_the_optional_fields_it_names_after_the_json_round_trip() -> None:
    # What an exporter left out is kept on file (the upsert does not write those columns), an
    # explicit null clears; the set of fields given must survive the event's JSON through
    # NATS, or every upsert would clear.
    def kept(manager: dict[str, object]) -> frozenset[str]:
        event = CustomerUpserted.model_validate_json(
            CustomerUpserted(
                event_id=uuid.uuid4(),
                occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
                customer={"id": "c-1", "name": "Northwind Logistics"},  # type: ignore[arg-type]
                account_manager=CrmAccountManager.model_validate(manager),
            ).model_dump_json(exclude_unset=True)
        )
        assert event.account_manager is not None
        return omitted(event.account_manager, MANAGER_KEPT_WHEN_OMITTED)

    assert kept(MANAGER) == {"phone", "handle", "deputy_id", "language", "timezone"}
    assert kept({**MANAGER, "language": None}) == {"phone", "handle", "deputy_id", "timezone"}
    assert kept({**MANAGER, "phone": "+442071234567", "deputy_id": None}) == {
        "handle",
        "language",
        "timezone",
    }
    assert kept({**MANAGER, "timezone": "Europe/London"}) == {
        "phone",
        "handle",
        "deputy_id",
        "language",
    }


def test_a_csv_rows_empty_language_cell_is_not_given_so_it_keeps_the_language_on_file() -> None:
    # An empty cell means "not given" in CSV (docs/crm.md): it keeps, JSON Lines' null clears.
    csv = parse_csv(
        "record,id,name,email,language\naccount_manager,am-2,Тарас,t.k@careline.example,\n"
    )
    jsonl = parse_jsonl(
        '{"record": "account_manager", "id": "am-3", "name": "Ольга", '
        '"email": "o.p@careline.example", "language": null}'
    )
    managers = [row for _, row in [*csv.rows, *jsonl.rows]]
    assert [omitted(m, MANAGER_KEPT_WHEN_OMITTED) for m in managers] == [
        {"phone", "handle", "deputy_id", "language", "timezone"},
        {"phone", "handle", "deputy_id", "timezone"},
    ]


def test_both_import_formats_read_the_language() -> None:
    jsonl = parse_jsonl(
        '{"record": "account_manager", "id": "am-1", "name": "Emily Carter", '
        '"email": "e.carter@careline.example", "language": "en-GB"}'
    )
    csv = parse_csv(
        "record,id,name,email,language\n"
        "account_manager,am-2,Тарас Коваленко,t.kovalenko@careline.example,uk\n"
        "account_manager,am-3,Ольга Петрова,o.petrova@careline.example,\n"
    )
    assert not jsonl.errors and not csv.errors
    rows = [row for _, row in [*jsonl.rows, *csv.rows]]
    assert [(r.id, r.language) for r in rows] == [  # type: ignore[attr-defined]
        ("am-1", "en"),
        ("am-2", "uk"),
        ("am-3", None),
    ]


def _row(language: str | None) -> dict[str, object]:
    return {
        "id": "cust-northwind",
        "name": "Northwind Logistics Ltd",
        "tier": "gold",
        "timezone": "Europe/London",
        "contracts": None,
        "contact_zones": None,
        "account_manager_id": "am-carter",
        "am_name": "Emily Carter",
        "am_email": "e.carter@careline.example",
        "am_language": language,
        "am_timezone": "Europe/London",
        "deputy_id": None,
        "deputy_name": None,
        "deputy_email": None,
        "deputy_language": None,
        "deputy_timezone": None,
    }


@pytest.mark.parametrize("language", ["ru", "uk", "en", None])
def test_the_mirrors_row_gives_the_manager_their_language(language: str | None) -> None:
    manager = _facts(_row(language), []).account_manager
    assert manager is not None
    assert (manager.email, manager.language) == ("e.carter@careline.example", language)


async def test_the_demo_crm_gives_carter_english_kovalenko_ukrainian_and_petrova_none() -> None:
    # The acceptance run: Тарас Коваленко (Kyiv, ТОВ «Квітка») read his notices in Russian.
    facts = await InMemoryCrm(demo_batch()).customer_facts(
        [c.id for c in demo_batch().customers if c.status == "active"]
    )
    languages = {
        f.account_manager.name: f.account_manager.language
        for f in facts.values()
        if f.account_manager
    }
    assert languages.pop("Emily Carter") == "en"
    assert languages.pop("Тарас Коваленко") == "uk"
    assert languages and set(languages.values()) == {None}  # the team's (ru): Петрова
    assert facts["cust-northwind"].account_manager.email == "e.carter@careline.example"  # type: ignore[union-attr]


async def test_the_demo_crm_gives_petrova_and_kovalenko_a_deputy_and_carter_none() -> None:
    # Under `careline up` a threatened manager's cases go to their deputy at their own
    # address, in their language (Ірина reads Ukrainian); a client of Emily Carter's still
    # shows the policy's shared deputy address.
    facts = await InMemoryCrm(demo_batch()).customer_facts(
        ["cust-stroymontazh", "cust-kvitka", "cust-northwind"]
    )
    deputies = {
        customer: (d.id, d.email, d.language, d.role) if d else None
        for customer, f in facts.items()
        for d in [f.account_manager.deputy if f.account_manager else None]
    }
    assert deputies == {
        "cust-stroymontazh": ("am-nazarov", "i.nazarov@careline.example", None, "deputy"),
        "cust-kvitka": ("am-melnyk", "i.melnyk@careline.example", "uk", "deputy"),
        "cust-northwind": None,
    }


def test_a_csv_null_clears_an_optional_field_and_an_empty_cell_keeps_it() -> None:
    # Review: an empty CSV cell keeps what is on file, so a customer whose account manager
    # left could not be cleared from CSV; `null` clears, as JSON Lines' null does.
    from services.verifier.mirror import (
        CONTACT_KEPT_WHEN_OMITTED,
        CUSTOMER_KEPT_WHEN_OMITTED,
        omitted,
    )

    parsed = parse_csv(
        "record,id,customer_id,name,account_manager_id,timezone,role\n"
        "customer,c-1,,ООО «Ромашка»,null,,\n"
        "contact,ct-1,c-1,Пётр Иванов,,NULL,null\n"
    )
    assert not parsed.errors
    (_, customer), (_, contact) = parsed.rows
    assert customer.account_manager_id is None  # type: ignore[attr-defined]
    assert omitted(customer, CUSTOMER_KEPT_WHEN_OMITTED) == {"value", "timezone"}  # type: ignore[arg-type]
    assert contact.timezone is None and contact.role == ""  # type: ignore[attr-defined]
    assert omitted(contact, CONTACT_KEPT_WHEN_OMITTED) == frozenset()  # type: ignore[arg-type]
