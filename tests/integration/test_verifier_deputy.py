"""The account manager's deputy on the identity (`account_manager.deputy`): the CRM mirror's
`deputy_id` as a person the escalator knows (a threat naming them, the cases a threatened
manager is spared), the same from the mirror, the in-memory CRM and the HTTP CRM."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.verifier.http_crm import http_directory
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import CrmBatch, apply_batch
from services.verifier.service import VerifierService
from shared.contracts import (
    CrmAccountManager,
    CrmChannel,
    CrmContact,
    CrmCustomer,
    MessageNormalized,
    SenderIdentifiers,
    StaffRef,
)
from shared.db import Database
from shared.embedded import free_port
from shared.http import http_server
from tests.conftest import Servers
from tests.integration.test_verifier_mirror import NOW, crm_http_app, seed_000, settings

pytestmark = pytest.mark.integration

DEPUTY = StaffRef(
    id="am-sokolov",
    name="Игорь Соколов",
    email="i.sokolov@careline.example",
    role="deputy",
    language="uk",
)


def batch() -> CrmBatch:
    """Two customers: one whose manager has a deputy on file, one whose manager names a
    deputy the CRM does not have (no deputy on the identity then)."""
    return CrmBatch(
        account_managers=[
            CrmAccountManager(
                id="am-orlova",
                name="Ольга Орлова",
                email="O.Orlova@careline.example",
                deputy_id="am-sokolov",
            ),
            CrmAccountManager(
                id="am-sokolov",
                name="Игорь Соколов",
                email="i.sokolov@careline.example",
                deputy_id="am-orlova",
                language="uk-UA",
            ),
            CrmAccountManager(
                id="am-lone", name="Тарас Бондар", email="t.bondar@careline.example", deputy_id="x"
            ),
        ],
        customers=[
            CrmCustomer(id="c-dep", name="ООО «Вектор»", account_manager_id="am-orlova"),
            CrmCustomer(id="c-lone", name="ТОВ «Злагода»", account_manager_id="am-lone"),
        ],
        contacts=[
            CrmContact(
                id=f"ct-{cid}",
                customer_id=cid,
                name="Андрей Котов",
                channels=[CrmChannel(kind="email", address=f"boss@{cid}.example", verified=True)],
            )
            for cid in ("c-dep", "c-lone")
        ],
    )


def written_by(address: str) -> MessageNormalized:
    return seed_000().model_copy(
        update={
            "message_id": uuid.uuid4(),
            "sender": SenderIdentifiers(email=address),
            "text": "А вашему Игорю передайте, что я его найду.",
            "signature": "",
            "entities": [],
        }
    )


async def test_the_identity_carries_the_account_managers_deputy_from_every_directory(
    servers: Servers, db: Database
) -> None:
    memory = InMemoryCrm(batch())
    port = free_port()
    server = http_server(crm_http_app(memory, []), "127.0.0.1", port, 30)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.01)
        async with db.transaction() as session:
            await apply_batch(session, batch(), NOW)
        mirror = VerifierService(db, settings(servers), lambda: NOW)
        url = f"http://127.0.0.1:{port}"
        over_http = VerifierService(db, settings(servers), lambda: NOW, http_directory(url, 5.0))
        for service in (mirror, over_http):
            async with db.transaction() as session:
                verified = await service.decide(session, written_by("boss@c-dep.example"))
                lone = await service.decide(session, written_by("boss@c-lone.example"))
            manager = verified.account_manager
            assert verified.customer is not None and verified.customer.id == "c-dep"
            assert manager is not None
            assert (manager.id, manager.role) == ("am-orlova", "account_manager")
            # Its own deputy (the manager again) is not carried: one level only.
            assert manager.deputy == DEPUTY
            assert lone.account_manager is not None and lone.account_manager.deputy is None
    finally:
        server.should_exit = True
        await serving
