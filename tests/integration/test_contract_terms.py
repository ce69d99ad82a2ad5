"""A contract's terms on real PostgreSQL and NATS: `careline crm import` (JSON Lines and
CSV), the crm.* events, and seed 002's freebie demand reaching the account manager's
mailbox with the terms the client actually has."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream._internal.testing.app import TestApp

from services.verifier.app import build_app as build_verifier
from services.verifier.settings import VerifierSettings
from shared.contracts import (
    CrmCustomer,
    CrmDocument,
    CustomerUpserted,
    InboundMessage,
    IncludedService,
)
from shared.demo import load_stories, publish_inbound
from tests.integration.conftest import Env, Mailbox, count, rows
from tests.integration.test_verifier_mirror import _careline, _write

pytestmark = pytest.mark.integration

TERMS_SQL = (
    "SELECT number, plan, valid_from::text AS valid_from, valid_until::text AS valid_until, "
    "included, notes FROM crm.documents ORDER BY number"
)
JSONL = """\
{"record": "account_manager", "id": "am-2", "name": "Тарас Коваленко", "email": "t.kovalenko@careline.example"}
{"record": "customer", "id": "c-2", "name": "ТОВ «Квітка»", "tier": "silver", "account_manager_id": "am-2", "documents": [{"kind": "contract", "number": "15/2021", "plan": "Стандарт", "valid_from": "2021-03-01", "valid_until": "2027-02-28", "included": [{"service": "консультація", "quantity": 2, "period": "quarter", "free": true}], "notes": "Повторне налаштування — за прайсом"}]}
"""  # noqa: E501
CSV = """\
record,customer_id,kind,number,plan,valid_from,valid_until,included,notes
document,c-2,contract,16/2024,Інтеграції,2024-01-01,,"налаштування інтеграцій:1:year:free;навчання персоналу:::paid",
document,c-2,invoice,2207,,,,,
"""  # noqa: E501
EXPECTED = [
    {
        "number": "15/2021",
        "plan": "Стандарт",
        "valid_from": "2021-03-01",
        "valid_until": "2027-02-28",
        "included": [{"service": "консультація", "quantity": 2, "period": "quarter", "free": True}],
        "notes": "Повторне налаштування — за прайсом",
    },
    {
        "number": "16/2024",
        "plan": "Інтеграції",
        "valid_from": "2024-01-01",
        "valid_until": None,
        "included": [
            {"service": "налаштування інтеграцій", "quantity": 1, "period": "year", "free": True},
            {
                "service": "навчання персоналу",
                "quantity": None,
                "period": "contract",
                "free": False,
            },
        ],
        "notes": None,
    },
    {
        "number": "2207",
        "plan": None,
        "valid_from": None,
        "valid_until": None,
        "included": [],
        "notes": None,
    },
]


async def test_terms_import_from_jsonl_and_csv_idempotently(env: Env, tmp_path: Path) -> None:
    jsonl = _write(tmp_path / "terms.jsonl", JSONL)
    csv_file = _write(tmp_path / "terms.csv", CSV)
    snapshots = []
    for _ in range(2):
        for path, records in ((jsonl, 2), (csv_file, 2)):
            result = await asyncio.to_thread(_careline, env.servers, "crm", "import", str(path))
            assert result.returncode == 0, result.stderr
            assert f"imported {records} records, 0 invalid rows" in result.stdout
        snapshots.append(await rows(env, TERMS_SQL))

    assert snapshots[0] == snapshots[1] == EXPECTED


async def test_invalid_terms_are_reported_by_line_and_nothing_is_written(
    env: Env, tmp_path: Path
) -> None:
    bad = _write(
        tmp_path / "bad.csv",
        CSV
        + "document,c-2,contract,17/2025,,2025-06-01,2025-01-01,,\n"
        + 'document,c-2,contract,18/2025,,,,"консультація:2:fortnight:free",\n'
        + "document,c-2,invoice,2208,Стандарт,,,,\n",
    )
    # the customer is on file, so only the rows themselves can be wrong
    ok = await asyncio.to_thread(
        _careline, env.servers, "crm", "import", str(_write(tmp_path / "c.jsonl", JSONL))
    )
    assert ok.returncode == 0, ok.stderr

    result = await asyncio.to_thread(_careline, env.servers, "crm", "import", str(bad))

    assert result.returncode == 1
    for expected in (
        "line 4: document 17/2025: valid_until: Value error, 2025-01-01 is before valid_from "
        "2025-06-01",
        "line 5: document 18/2025: included.0.period: Input should be 'month', 'quarter', "
        "'year' or 'contract'",
        "line 6: document 2208: kind: Value error, plan: only a contract has terms, not an invoice",
        "nothing was imported",
    ):
        assert expected in result.stderr
    assert await count(env.servers, "SELECT count(*) FROM crm.documents") == 1


async def test_crm_events_carry_the_terms_newest_wins(env: Env, bus: Any) -> None:
    nc, _ = bus
    js = nc.jetstream()
    t0 = datetime.now(UTC)

    def upserted(at: datetime, plan: str, free: bool) -> CustomerUpserted:
        contract = CrmDocument(
            kind="contract",
            number="15/2021",
            plan=plan,
            included=[IncludedService(service="консультація", quantity=2, free=free)],
        )
        customer = CrmCustomer(id="c-ev", name="ТОВ «Подія»", documents=[contract])
        return CustomerUpserted(event_id=uuid.uuid4(), occurred_at=at, customer=customer)

    async with TestApp(build_verifier(VerifierSettings(**env.base()))):
        for event in (
            upserted(t0, "Старт", False),
            upserted(t0 + timedelta(minutes=5), "Стандарт", True),
            upserted(t0 - timedelta(hours=1), "Застарілий", False),  # late and older: ignored
        ):
            await js.publish(
                "crm.customer.upserted",
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": str(event.event_id)},
            )
        await _until(
            lambda: count(
                env.servers,
                "SELECT count(*) FROM crm.processed_messages WHERE key LIKE 'crm-event:%'",
            ),
            3,
        )
    assert await rows(env, "SELECT plan, included FROM crm.documents") == [
        {
            "plan": "Стандарт",
            "included": [
                {"service": "консультація", "quantity": 2, "period": "contract", "free": True}
            ],
        }
    ]


async def _until(probe: Any, expected: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (got := await probe()) != expected:
        assert time.monotonic() < deadline, f"{got!r} != {expected!r}"
        await asyncio.sleep(0.05)


def _seed_002_freebie() -> InboundMessage:
    (story,) = [s for s in load_stories() if s["id"] == "002"]
    (raw,) = [m for m in story["messages"] if m["external_id"] == "seed002-freebie"]
    return InboundMessage.model_validate({**raw, "external_id": f"freebie-{uuid.uuid4()}"})


async def test_a_freebie_demand_reaches_the_account_manager_with_the_contract_terms(
    pipeline: Any, bus: Any, mailbox: Mailbox, env: Env
) -> None:
    """Seed 002, case 4: Олена Шевчук of ТОВ «Квітка», from her verified phone, asks for
    the setup "another manager did for free"; Тарас Коваленко gets the terms she has, in
    the language he reads."""
    nc, recorder = bus
    await publish_inbound(nc, _seed_002_freebie())

    opened = await recorder.wait_for("escalation.opened", timeout=30)
    (freebie,) = [e for e in opened if e["kind"] == "freebie"]
    assert freebie["identity_status"] == "verified"

    def manager_mail() -> list[dict[str, Any]]:
        return [
            m
            for m in mailbox.messages()
            if "t.kovalenko@careline.example" in m["rcpt_tos"]
            and m["kind"] == "manager_escalation"
            and "вимога безкоштовної послуги" in m["subject"]
        ]

    await _until(lambda: _async(len(manager_mail())), 1)
    (mail,) = manager_mail()
    parsed = email.message_from_bytes(
        (mailbox.directory / mail["file"]).read_bytes(), policy=email.policy.default
    )
    assert isinstance(parsed, email.message.EmailMessage)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    body, markup = text.get_content(), html.get_content()

    # Тарас Коваленко reads Ukrainian (the demo CRM says so): the notice, the CRM's own
    # words and the playbook all in uk.
    for line in (
        "договір 15/2021 (діє, 24000.00 UAH), план «Стандарт», строк дії 2021-03-01 – 2027-02-28",
        "· консультація: 2 на квартал, безкоштовно",
        "· первинне налаштування кабінету: 1 на весь строк договору, безкоштовно",
        "· налаштування інтеграцій: платно",
        "примітки: Первинне налаштування виконано безкоштовно при підключенні",
        "«налаштування» → первинне налаштування кабінету: 1 на весь строк договору, безкоштовно "
        "(договір 15/2021)",
        "Що робити: «Інший менеджер зробив безкоштовно».",
    ):
        assert line in body
    assert "план «Стандарт»" in markup and "налаштування інтеграцій: платно" in markup

    (row,) = await rows(env, "SELECT facts FROM escalator.escalations WHERE kind = 'freebie'")
    (contract,) = row["facts"]["crm"]["contracts"]
    assert (contract["number"], contract["plan"]) == ("15/2021", "Стандарт")
    assert {n["service"] for n in row["facts"]["crm"]["named_services"]} == {
        "первинне налаштування кабінету",
        "налаштування інтеграцій",
    }


async def _async(value: object) -> object:
    return value
