"""One mail per staff address for one client message, on the real servers: a message of
three kinds through all four services, its mail, its acknowledge links, and redeliveries
that send nothing again."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import AsyncIterator

import nats
import pytest
from faststream._internal.testing.app import TestApp

from services.escalator.app import build_app as build_escalator
from services.escalator.settings import EscalatorSettings
from shared.case_ref import case_ref
from tests.integration.conftest import Env, Mailbox, Recorder, Running, drained, rows

pytestmark = pytest.mark.integration
REGISTERED = "buh@stroymontazh.ru"  # ООО «СтройМонтаж»'s verified address in the demo CRM
MANAGER = "o.petrova@careline.example"
HEAD = "head.support@careline.example"
BILLING = "billing@careline.example"
LINK_BASE = "https://escalator.example"
# A disputed invoice, a broken promise and money demanded back: billing, service failure
# and compensation, and the account manager is among the roles of all three rules.
THREE_KINDS = (
    "Счёт за март мы уже оплатили, а нам пишут о задолженности и грозят отключением. "
    "Вы обещали починить экспорт и опять не сделали. Верните деньги за месяц."
)
TIMEOUT = 30.0


@pytest.fixture
async def services(running: Running, env: Env) -> AsyncIterator[None]:
    """All four services; the escalator signs acknowledge links."""
    await running.start("intake", "verifier", "notifier")
    settings = EscalatorSettings(
        **env.base(), ESCALATOR_LINK_SECRET="digest-secret", ESCALATOR_LINK_BASE_URL=LINK_BASE
    )
    async with TestApp(build_escalator(settings)):
        yield


def inbound(text: str, message_id: str = "three-kinds-1@stroymontazh.ru") -> bytes:
    return json.dumps(
        {
            "channel": "email",
            "email": {
                "from": f"Бухгалтерия <{REGISTERED}>",
                "to": ["support@careline.example"],
                "subject": "Счёт, экспорт и деньги",
                "text": text,
                "message_id": message_id,
                "headers": {
                    "Authentication-Results": "mx.careline.example; spf=pass; dkim=pass; dmarc=pass"
                },
            },
        }
    ).encode()


def plain_text(mailbox: Mailbox, mail: dict[str, object]) -> str:
    raw = (mailbox.directory / str(mail["file"])).read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def staff_mail(mailbox: Mailbox) -> dict[str, list[dict[str, object]]]:
    by_address: dict[str, list[dict[str, object]]] = {}
    for mail in mailbox.messages():
        for to in mail["rcpt_tos"]:
            if to.endswith("@careline.example"):
                by_address.setdefault(to, []).append(mail)
    return by_address


async def test_three_kinds_make_one_mail_per_staff_address_and_a_redelivery_sends_nothing(
    services: None, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    nc, recorder = bus
    await nc.jetstream().publish("inbound.email", inbound(THREE_KINDS))

    opened = await recorder.wait_for("escalation.opened", 3, timeout=TIMEOUT)
    assert sorted(e["kind"] for e in opened) == ["billing", "compensation", "service_failure"]
    # Staff: the manager's digest, the head of support, billing; the client: the bad news
    # first and the billing answer, in one mail to its registered address.
    requests = await recorder.wait_for("notify.request", 4, timeout=TIMEOUT)
    await recorder.wait_for("notify.sent", 4, timeout=TIMEOUT)
    await drained(nc)

    by_address = staff_mail(mailbox)
    assert {a: [m["kind"] for m in ms] for a, ms in by_address.items()} == {
        MANAGER: ["staff_digest"],
        HEAD: ["manager_escalation"],
        BILLING: ["manager_escalation"],
    }
    (digest,) = [r for r in requests if r["kind"] == "staff_digest"]
    assert (digest["recipient"], digest["recipient_role"]) == (MANAGER, "account_manager")
    text = plain_text(mailbox, by_address[MANAGER][0])
    links = re.findall(re.escape(LINK_BASE) + r"/\S+", text)
    assert len(links) == len(set(links)) == 3  # each escalation its own link
    for event in opened:
        # Named by its reference; the full id once, on its small last line.
        assert text.count(event["escalation_id"]) == 1
        assert f"Эскалация {case_ref(event['escalation_id'])}, правило" in text
        assert event["rule"] in text
    assert text.count("Пакет фактов") == 1  # the team's language; the facts once
    (to_client,) = [m for m in mailbox.messages() if REGISTERED in m["rcpt_tos"]]
    assert to_client["kind"] == "client_digest"
    answer = plain_text(mailbox, to_client)
    assert answer.count("Здравствуйте!") == answer.count("Служба поддержки") == 1
    answered = {e["escalation_id"] for e in opened if e["kind"] != "compensation"}
    # The client reads each case's reference, never its id.
    assert {x for x in answered if f"Номер обращения: {case_ref(x)}" in answer} == answered
    assert not any(x in answer for x in answered)
    assert "Ваша роль: менеджер клиента." in text
    # Each link is the manager's, for one of the three escalations.
    issued = await rows(
        env,
        "SELECT escalation_id::text AS escalation_id, role FROM escalator.ack_links "
        "WHERE address = :address ORDER BY escalation_id",
        address=MANAGER,
    )
    assert issued == sorted(
        ({"escalation_id": e["escalation_id"], "role": "account_manager"} for e in opened),
        key=lambda row: row["escalation_id"],
    )

    # The same email again (intake's idempotency), and the verified message again (the
    # escalator's): the same notices, by id, and no mail.
    (verified,) = recorder.of("message.verified")
    await nc.jetstream().publish("inbound.email", inbound(THREE_KINDS))
    await nc.jetstream().publish("message.verified", json.dumps(verified).encode())
    await drained(nc)

    assert {r["notification_id"] for r in recorder.of("notify.request")} == {
        r["notification_id"] for r in requests
    }
    assert len(recorder.of("notify.sent")) == 4
    assert sorted(m["notification_id"] for m in mailbox.messages()) == sorted(
        r["notification_id"] for r in requests
    )
    assert await rows(env, "SELECT count(*) AS n FROM notifier.notifications") == [{"n": 4}]
