"""A staff notice tells the truth about the client's mail on real servers: when the client's
rate limit makes the mail wait, the manager reads when the client gets it, not that the
client has it (acceptance finding: "written to the client automatically" while the mail
waited an hour)."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from faststream._internal.testing.app import TestApp

from services.notifier.app import build_app as build_notifier
from shared.contracts import SendNotification
from shared.embedded import free_port
from shared.smtp_sink import MailDirHandler
from tests.conftest import Servers
from tests.integration.test_notifier_outbox import (
    Notifier,
    Smtp,
    client_notice,
    publish,
    request,
    row,
    wait_row,
)

pytestmark = pytest.mark.integration

CLIENT = "buh@kvitka.ua"


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Smtp]:
    handler = MailDirHandler(tmp_path / "mail")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(handler, port, tmp_path / "mail")  # type: ignore[arg-type]
    finally:
        controller.stop()


def staff_notice_of(answer: SendNotification) -> SendNotification:
    """The manager's notice of the message `answer` answers, as the escalator sends it."""
    manager = request(severity="P3")
    sent = {
        "kinds": [answer.kind],
        "to": [
            {
                "ids": [str(answer.notification_id)],
                "recipient": answer.recipient,
                "role": answer.recipient_role,
                "kind": answer.kind,
                "kinds": [answer.kind],
                "severity": answer.severity,
                "timezone": "Europe/Kyiv",
            }
        ],
    }
    return manager.model_copy(
        update={
            "message_id": answer.message_id,
            "data": {**manager.data, "client_contacts_sent": sent},
        }
    )


def body_to(sink: Smtp, address: str) -> str:
    (mail,) = [m for m in sink.messages() if m["rcpt_tos"] == [address]]
    parsed = message_from_bytes((sink.directory / mail["file"]).read_bytes(), policy=policy.default)
    return str(parsed.get_body(("plain",)).get_content())  # type: ignore[union-attr]


async def test_the_manager_reads_when_the_rate_limited_client_gets_the_answer(
    servers: Servers, clean: None, var_dir: Path, sink: Smtp, bus: Any
) -> None:
    _, recorder = bus
    settings = Notifier(servers, var_dir, sink.port).settings(NOTIFIER_CLIENT_RATE_LIMIT="1/3600")
    earlier = client_notice(CLIENT)  # the client's one mail an hour, spent
    answer = client_notice(CLIENT)
    manager = staff_notice_of(answer)

    async with TestApp(build_notifier(settings)):
        await publish(bus, earlier)
        await recorder.wait_for("notify.sent", 1)
        await publish(bus, manager, answer)  # the escalator's order: staff, then the client
        await recorder.wait_for("notify.sent", 2)
        waiting = await wait_row(servers, answer.notification_id, deferred_reason="rate_limit")

    body = body_to(sink, manager.recipient)
    until = f"{waiting['next_attempt_at']:%Y-%m-%d %H:%M} UTC"  # the staff notice's clock
    assert (
        f"Клієнтові буде написано автоматично після {until} "
        "(не більше 1 повідомлення одному клієнтові за годину): повідомлення про збій."
    ) in body
    assert "Клієнтові написано автоматично" not in body
    # Stored as said, so a re-send after a crash says the same.
    stored = await row(servers, manager.notification_id)
    (wait,) = stored["request"]["data"]["client_contacts_sent"]["waits"]
    assert (wait["reason"], wait["kinds"]) == ("rate_limit", ["service_failure_notice"])
    assert [m["rcpt_tos"] for m in sink.messages()].count([CLIENT]) == 1
