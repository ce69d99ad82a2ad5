"""A client on a chat has no address for Careline's conduct notice, so no warning is
recorded for him by the machine; the agent who warns him in the chat records it
(`escalation.cmd.warned`), and his next threats count as after a warning (seeds 002, 003):
the real escalator, PostgreSQL and NATS."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack

import nats
import pytest

from services.notifier.domain import render
from shared.case_ref import case_ref
from shared.contracts import RecordWarning, SendNotification, derived_id
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    ask,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
)

pytestmark = pytest.mark.integration

THREAT = "Я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."
AGAIN = "Я же сказал: стану вашим кошмаром и распишу про вас во всех SMM-сообществах."


def on_chat(text: str) -> bytes:
    """A verified client writing in the chat under a handle: no email to write back to."""
    verified = json.loads(legal_threat(text))
    message = verified["message"]
    handle = f"@sokolov-{uuid.uuid4().hex[:6]}"
    message_id = str(derived_id("message", "chat", handle, text))
    message.update(
        channel="chat",
        sender={"handle": handle},
        subject="",
        message_id=message_id,
        correlation_id=message_id,
        external_id=f"chat-{message_id}",
        thread_id=handle,
    )
    verified.update(message_id=message_id, correlation_id=message_id)
    verified["event_id"] = str(derived_id("verified", message_id))
    return json.dumps(verified).encode()


async def test_a_warning_given_in_the_chat_makes_the_next_threat_one_after_a_warning(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, on_chat(THREAT))
        (opened,) = [e for e in await bus.wait("escalation.opened") if e["kind"] == "reputation"]
        assert (opened["rule"], opened["severity"]) == ("blackmail-to-head-of-support", "P2")
        # No conduct notice: the chat has no address for it; no warning is marked either.
        assert not [n for n in bus.of("notify.request") if n["kind"] == "conduct_notice"]
        notice = next(
            n for n in bus.of("notify.request") if n["recipient_role"] == "head_of_support"
        )
        head = notice["recipient"]
        escalation_id = uuid.UUID(opened["escalation_id"])
        # Staff are told no warning could go in writing, and how to record theirs.
        assert notice["data"]["unwarned"] == str(escalation_id)
        assert (
            f"careline warned {case_ref(escalation_id)}"
            in render(SendNotification.model_validate(notice)).body
        )

        def warned(by: str) -> RecordWarning:
            return RecordWarning(
                command_id=uuid.uuid4(),
                escalation_id=escalation_id,
                actor=by,
                note="told in the chat: threats stop, or we continue by email only",
            )

        assert (await ask(env, warned("stranger@example.com"))).outcome == "forbidden"
        result = await ask(env, warned(head))
        assert result.outcome == "recorded"
        assert (await ask(env, warned(head))).outcome == "recorded"  # once is enough

        await publish_verified(nc, on_chat(AGAIN))
        (merged,) = [e for e in await bus.wait("escalation.updated") if e["kind"] == "reputation"]

    assert merged["escalation_id"] == opened["escalation_id"]
    assert (merged["rule"], merged["severity"]) == ("blackmail-after-warning", "P1")
    marks = await rows(
        env,
        "SELECT marks FROM escalator.subject_messages WHERE subject_key = :key "
        "AND message_id = :id",
        key="customer:cust-stroymontazh",
        id=uuid.UUID(opened["message_id"]),
    )
    assert marks == [{"marks": [{"kind": "warning", "name": "reputation"}]}]
    entries = await rows(
        env,
        "SELECT detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id AND entry = 'warned' ORDER BY id",
        id=escalation_id,
    )
    assert [e["detail"]["new"] for e in entries] == [True, False]


async def test_a_client_warned_by_email_needs_no_warning_from_staff(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat(THREAT))
        (opened,) = [e for e in await bus.wait("escalation.opened") if e["kind"] == "reputation"]
        await bus.wait("notify.request", 2)

    notes = [n for n in bus.of("notify.request") if n["escalation_id"] == opened["escalation_id"]]
    assert [n["kind"] for n in notes if n["kind"] == "conduct_notice"] == ["conduct_notice"]
    assert not [n for n in notes if n["data"].get("unwarned")]
