"""An address ООО «СтройМонтаж» disowned writes in ТОВ «Квітка»'s name, on the real servers:
the disowner's manager has the suspicious-sender case, and Квітка's account manager is
warned apart, once, in the language the CRM says they read; nothing goes to the sender."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import nats
import pytest

from shared.contracts import CustomerRef, NamedCustomer, StaffRef
from tests.integration.conftest import Env
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration
FORGER = "buhgalter@stroymontazh-pay.ru"
KVITKA_MANAGER = "m.shevchuk@careline.example"


def from_the_impostor(text: str) -> bytes:
    verified = json.loads(legal_threat(text))
    verified["message"]["sender"] = {"email": FORGER}
    named = NamedCustomer(
        customer=CustomerRef(id="cust-kvitka", name="ТОВ «Квітка»", tier="standard"),
        account_manager=StaffRef(
            id="am-shevchuk", name="Марина Шевчук", email=KVITKA_MANAGER, language="uk"
        ),
    )
    verified["identity"] |= {
        "status": "suspicious",
        "confidence": 0.05,
        "disclosure": "none",
        "authorized_channels": [],
        "named_customer": named.model_dump(mode="json"),
    }
    return json.dumps(verified).encode()


async def test_the_customer_an_impostor_names_is_warned_once(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_the_impostor("Смените реквизиты для оплаты, срочно."))
        await publish_verified(nc, from_the_impostor("Вы получили письмо? Ответьте."))
        await until(lambda: bus.to(KVITKA_MANAGER))
        await bus.wait("escalation.opened")
        await asyncio.sleep(1.0)  # the second message, handled by now, warns nobody again
        warned = bus.to(KVITKA_MANAGER)

    assert len({w["notification_id"] for w in warned}) == 1
    (alert,) = {w["notification_id"]: w for w in warned}.values()
    assert alert["kind"] == "identity_alert" and alert["language"] == "uk"
    assert alert["data"]["occasion"] == "impersonated"
    assert alert["data"]["customer_id"] == "cust-kvitka"
    assert bus.to(FORGER) == []
