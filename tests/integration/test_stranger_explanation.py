"""A stranger reporting a failure hears how we can find them (seed 000, the acceptance run's
stranger who heard nothing): the real escalator on NATS and PostgreSQL asks the notifier for
one `stranger_explanation` to an unknown sender whose mail passed authentication, tells
staff it went, asks for the same one (taken once) when the stranger writes into the case
again, and for none to a mail whose From may be forged."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest

from services.notifier.domain import render
from shared.contracts import AuthResults, Identity, SenderIdentifiers, SendNotification
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    HEAD,
    Bus,
    escalator_settings,
    publish_verified,
    start,
    until,
    verified_payload,
)

pytestmark = pytest.mark.integration

FAILURE = "Выгрузка отчётов не работает со вчерашнего дня, все файлы пустые."
AGAIN = "Выгрузка отчётов до сих пор не работает, файлы снова пустые."
UNKNOWN = Identity(status="unknown", confidence=0.0)


def from_stranger(address: str, text: str, auth: AuthResults) -> bytes:
    return verified_payload(
        text,
        UNKNOWN,
        SenderIdentifiers(email=address),
        domain="mail.some-startup.example",
        subject="Выгрузка отчётов",
        auth=auth,
    )


def told_of(note: dict[str, Any], sender: str) -> bool:
    return (note["data"].get("sender") or {}).get("email") == sender


async def test_an_unknown_authenticated_sender_reporting_a_failure_is_told_how_to_be_matched(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    stranger = f"ivan-{uuid.uuid4().hex[:8]}@some-startup.example"
    forged = f"victim-{uuid.uuid4().hex[:8]}@some-startup.example"
    passed = AuthResults(spf="pass", dkim="pass", dmarc="pass")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_stranger(stranger, FAILURE, passed))
        await until(lambda: bus.to(stranger))
        (opened,) = [e for e in await bus.wait("escalation.opened") if e["customer_id"] is None]
        # The same stranger writes into the case again; a forged From writes the same.
        await publish_verified(nc, from_stranger(stranger, AGAIN, passed))
        forged_from = AuthResults(spf="pass", dmarc="fail")
        await publish_verified(nc, from_stranger(forged, FAILURE, forged_from))
        await until(lambda: len(bus.to(stranger)) >= 2)
        await until(lambda: any(told_of(n, forged) for n in bus.of("notify.request")))

    (asked,) = {n["notification_id"]: n for n in bus.to(stranger)}.values()
    note = SendNotification.model_validate(asked)
    assert note.kind == "stranger_explanation"
    assert note.escalation_id == uuid.UUID(opened["escalation_id"])
    assert (note.recipient_role, note.recipient_verified, note.content_class) == (
        "client_sender",
        False,
        "general",
    )
    assert note.language == "ru" and note.data == {"subject": "Выгрузка отчётов"}
    body = render(note).body
    assert "не удалось сопоставить" in body and "номер договора или счёта" in body
    # Asked at both messages with one id: the notifier takes it once.
    assert len(bus.to(stranger)) == 2

    # Staff hear the failure with the line that says the stranger was written to.
    staff = [
        n
        for n in bus.of("notify.request")
        if n["recipient"] == HEAD and n["escalation_id"] == opened["escalation_id"]
    ]
    assert staff and staff[0]["data"]["client_contacts_sent"]["kinds"] == ["stranger_explanation"]
    said = render(SendNotification.model_validate(staff[0])).body
    assert "Клиенту написано автоматически: объяснение неопознанному отправителю" in said

    # A From that failed DMARC is never answered (we reflect nothing to its owner); staff
    # are still told of the failure.
    assert bus.to(forged) == []
    escalations = await rows(
        env,
        "SELECT kind FROM escalator.escalations WHERE subject_key = :key",
        key=f"sender:{forged}",
    )
    assert escalations == [{"kind": "service_failure"}]
