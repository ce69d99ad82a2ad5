"""The client's time zone: validated on the way into the CRM mirror, carried by the identity,
handed to the notifier as `recipient_timezone` for client notices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.escalator.notifications import client_contacts, staff_notifications
from services.verifier.importer import parse_csv, parse_jsonl
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import demo_batch, nested_batch
from shared.contracts import ContactUpserted, CustomerRef, CustomerUpserted
from tests.unit.test_identity_cases import CASES, identify, message
from tests.unit.test_routing_policy import POLICY, _notes
from tests.unit.test_routing_policy import identity as identity_of

pytestmark = pytest.mark.unit


def test_jsonl_import_accepts_iana_zones_and_reports_an_unknown_one_on_its_line() -> None:
    parsed = parse_jsonl(
        '{"record": "customer", "id": "c-1", "name": "ТОВ «Квітка»", "timezone": "Europe/Kyiv"}\n'
        '{"record": "customer", "id": "c-2", "name": "Acme", "timezone": "Kyiv"}\n'
        '{"record": "contact", "id": "ct-1", "customer_id": "c-1", "name": "Олена",'
        ' "timezone": "Europe/London"}\n'
        '{"record": "customer", "id": "c-3", "name": "Без зоны"}\n'
    )

    assert [str(e) for e in parsed.errors] == [
        "line 2: customer c-2: timezone: Value error, unknown IANA time zone 'Kyiv' "
        "(e.g. Europe/Kyiv)"
    ]
    zones = {r.id: r.timezone for _, r in parsed.rows}  # type: ignore[attr-defined]
    assert zones == {"c-1": "Europe/Kyiv", "ct-1": "Europe/London", "c-3": None}


def test_csv_import_reads_the_timezone_column_and_an_empty_cell_means_none() -> None:
    parsed = parse_csv(
        "record,id,customer_id,name,timezone\n"
        "customer,c-1,,ООО «Ромашка»,Europe/Moscow\n"
        "contact,ct-1,c-1,Пётр Иванов,\n"
        "contact,ct-2,c-1,Ivan,Mars/Olympus_Mons\n"
        "contact,ct-3,c-1,Local,localtime\n"
    )

    assert [e.line for e in parsed.errors] == [4, 5]
    assert "unknown IANA time zone 'Mars/Olympus_Mons'" in str(parsed.errors[0])
    assert {r.id: r.timezone for _, r in parsed.rows} == {  # type: ignore[attr-defined]
        "c-1": "Europe/Moscow",
        "ct-1": None,
    }


def test_crm_events_with_an_unknown_zone_are_invalid() -> None:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat()}
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        CustomerUpserted.model_validate(
            {**base, "customer": {"id": "c", "name": "C", "timezone": "Europe/Atlantis"}}
        )
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        ContactUpserted.model_validate(
            {
                **base,
                "contact": {"id": "ct", "customer_id": "c", "name": "N", "timezone": "+03:00"},
            }
        )
    event = ContactUpserted.model_validate(
        {**base, "contact": {"id": "ct", "customer_id": "c", "name": "N", "timezone": "UTC"}}
    )
    assert event.contact.timezone == "UTC"


def test_the_demo_crm_has_the_clients_zones() -> None:
    zones = {c.id: c.timezone for c in demo_batch().customers}
    assert zones["cust-stroymontazh"] == "Europe/Moscow"
    assert zones["cust-kvitka"] == "Europe/Kyiv"
    assert zones["cust-northwind"] == "Europe/London"


async def test_the_identity_carries_the_customers_zone_and_the_writing_contacts_wins() -> None:
    ceo = message(CASES["seed-000-ceo"])
    # The demo: СтройМонтаж in Moscow, Соколов with no zone of his own.
    identity = await identify(ceo)
    assert identity.contact is not None and identity.contact.id == "ct-sokolov"
    assert identity.customer is not None and identity.customer.timezone == "Europe/Moscow"

    # The same CRM with Соколов travelling: his own zone wins for his messages only.
    demo = demo_batch()
    data = {
        "account_managers": [m.model_dump() for m in demo.account_managers],
        "customers": [
            {
                **c.model_dump(),
                "contacts": [
                    {**ct.model_dump(), "timezone": "Asia/Yekaterinburg"}
                    if ct.id == "ct-sokolov"
                    else ct.model_dump()
                    for ct in demo.contacts
                    if ct.customer_id == c.id
                ],
            }
            for c in demo.customers
        ],
    }
    travelling = InMemoryCrm(nested_batch(data))
    identity = await identify(ceo, travelling)
    assert identity.customer is not None and identity.customer.timezone == "Asia/Yekaterinburg"
    kovaleva = await identify(message(CASES["exact-verified-email"]), travelling)
    assert kovaleva.customer is not None and kovaleva.customer.timezone == "Europe/Moscow"


KYIV = CustomerRef(id="cust-kvitka", name="ТОВ «Квітка»", tier="gold", timezone="Europe/Kyiv")


def test_client_notices_carry_the_clients_zone_to_the_registered_channel_and_the_sender() -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM?", identity_of("probable", customer=KYIV), "unconfirmed-sender"
    )

    notes = client_contacts(decision, event, verified)

    assert {n.recipient_role: n.recipient_timezone for n in notes} == {
        "client_registered": "Europe/Kyiv",
        "client_sender": "Europe/Kyiv",
    }
    # Staff are not held by the client's quiet hours: no zone of the client on their notices.
    staff = staff_notifications(POLICY, decision, event, verified)
    assert staff and all(n.recipient_timezone is None for n in staff)


def test_without_a_zone_on_file_the_notifier_default_applies() -> None:
    verified, decision, event = _notes(
        "Почему приостановили CRM?", identity_of("probable"), "unconfirmed-sender"
    )

    notes = client_contacts(decision, event, verified)

    assert notes and all(n.recipient_timezone is None for n in notes)
