"""Each staff member reads the mail in their own language, on the real servers: a policy
whose team language is Russian says the account manager reads English (the acceptance
run's London client); a failure reported through all four services reaches the manager in
English and the head of support in Russian."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from faststream._internal.testing.app import TestApp

from services.escalator.app import build_app as build_escalator
from services.escalator.settings import EscalatorSettings
from tests.integration.conftest import Env, Mailbox, Recorder, Running, drained
from tests.integration.escalator_harness import policy_file
from tests.integration.test_staff_digest import HEAD, MANAGER, REGISTERED, plain_text, staff_mail

pytestmark = pytest.mark.integration
FAILURE = "Вы обещали починить экспорт к пятнице, и опять ничего не работает."
TIMEOUT = 30.0


@pytest.fixture
async def services(running: Running, env: Env, tmp_path: Path) -> AsyncIterator[None]:
    """All four services; the escalator's policy: the team reads Russian, the account
    manager English."""
    await running.start("intake", "verifier", "notifier")
    policy = policy_file(tmp_path, team_language="ru", staff_languages={MANAGER: "en"})
    settings = EscalatorSettings(**env.base(), ESCALATOR_POLICY=str(policy))
    async with TestApp(build_escalator(settings)):
        yield


def inbound(text: str) -> bytes:
    return json.dumps(
        {
            "channel": "email",
            "email": {
                "from": f"Бухгалтерия <{REGISTERED}>",
                "to": ["support@careline.example"],
                "subject": "Экспорт",
                "text": text,
                "message_id": "staff-language-1@stroymontazh.ru",
                "headers": {
                    "Authentication-Results": "mx.careline.example; spf=pass; dkim=pass; dmarc=pass"
                },
            },
        }
    ).encode()


async def test_the_account_manager_reads_english_and_the_head_of_support_russian(
    services: None, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox
) -> None:
    nc, recorder = bus
    await nc.jetstream().publish("inbound.email", inbound(FAILURE))

    # A broken promise and "nothing works": a failure and a panic, the manager told of both.
    await recorder.wait_for("escalation.opened", 2, timeout=TIMEOUT)
    # Three staff; the client twice: the failure notice, and the panic's acknowledgement,
    # a mail of its own that quiet hours do not hold back.
    await recorder.wait_for("notify.sent", 5, timeout=TIMEOUT)
    await drained(nc)

    opened = recorder.of("escalation.opened")
    assert sorted(e["kind"] for e in opened) == ["panic", "service_failure"]
    requests = {r["recipient"]: r for r in recorder.of("notify.request")}
    assert (requests[MANAGER]["kind"], requests[MANAGER]["language"]) == ("staff_digest", "en")
    assert (requests[HEAD]["kind"], requests[HEAD]["language"]) == ("manager_escalation", "ru")
    by_address = staff_mail(mailbox)
    manager, head = (plain_text(mailbox, by_address[a][0]) for a in (MANAGER, HEAD))
    # The manager's one mail: English words and playbooks, the client's Russian ones beside.
    assert "Escalations of one client message: 2. Your role: account manager." in manager
    assert manager.count("Acknowledge by") == 2
    assert "What to do: Our failure." in manager
    assert "What to do: The client is panicking." in manager
    assert "In the client's language (ru): Наш провал." in manager
    assert "Fact pack" in manager and "Возьмите в работу" not in manager
    # The head of support: the team's Russian, as before.
    assert "Возьмите в работу до" in head and "Что делать: Наш провал." in head
    assert "Our failure" not in head and "Пакет фактов" in head
    # The client is answered in the language it wrote, whatever staff read.
    to_client = [plain_text(mailbox, m) for m in mailbox.messages() if REGISTERED in m["rcpt_tos"]]
    assert len(to_client) == 2 and all("Здравствуйте" in m for m in to_client)
    assert sum("специалист свяжется с вами в течение 10 минут" in m for m in to_client) == 1
