"""Nothing lost, nothing doubled: duplicates, bad input, retries, restarts on real servers."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from faststream._internal.testing.app import TestApp

from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from shared.contracts import SendNotification
from shared.demo import load_stories
from tests.integration.conftest import Env, count, drained

pytestmark = pytest.mark.integration


def seed_000_email() -> bytes:
    message = load_stories()[0]["messages"][0]
    return json.dumps(message).encode()


async def settled(recorder) -> set[str]:
    """Until every requested notification has its outcome; the requested ids.

    The notifier acks a request once it is in its outbox and delivers after, so an idle
    pipeline (`drained`) can still have mail in flight: wait for the outcomes themselves.
    """
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        requested = {r["notification_id"] for r in recorder.of("notify.request")}
        done = {r["notification_id"] for r in recorder.of("notify.sent")}
        done |= {r["notification_id"] for r in recorder.of("notify.failed")}
        if requested <= done:
            return requested
        assert asyncio.get_running_loop().time() < deadline, f"unsettled: {requested - done}"
        await asyncio.sleep(0.05)


def chat(text: str, external_id: str, handle: str = "@lebedev_smm") -> bytes:
    return json.dumps(
        {"channel": "chat", "external_id": external_id, "sender": {"handle": handle}, "text": text}
    ).encode()


async def test_same_inbound_message_twice_yields_one_escalation(pipeline, bus, servers, mailbox):
    nc, recorder = bus
    js = nc.jetstream()
    # No Nats-Msg-Id: JetStream stores both copies, so intake's own idempotency is what counts.
    await js.publish("inbound.email", seed_000_email())
    await recorder.wait_for("notify.sent", 5)
    await drained(nc)
    await js.publish("inbound.email", seed_000_email())
    await drained(nc)
    requested = await settled(recorder)

    assert await count(servers, "SELECT count(*) FROM intake.messages") == 1
    assert await count(servers, "SELECT count(*) FROM crm.identity_decisions") == 1
    assert await count(servers, "SELECT count(*) FROM escalator.escalations") == 2
    assert await count(servers, "SELECT sum(message_count) FROM escalator.escalations") == 2
    # Seed 000: staff (billing, and one notice of both escalations to the account manager),
    # the confirmation, the explanation and the billing answer; each sent exactly once.
    kinds = {r["kind"] for r in recorder.of("notify.request")}
    assert {"identity_confirmation", "unknown_sender_explanation", "billing_dispute_ack"} <= kinds
    assert "staff_digest" in kinds
    assert len(requested) >= 5
    assert await count(servers, "SELECT count(*) FROM notifier.notifications") == len(requested)
    assert sorted(m["notification_id"] for m in mailbox.messages()) == sorted(requested)
    # The redelivered input re-published the very same events (same ids), nothing new.
    opened = recorder.of("escalation.opened")
    assert len({e["event_id"] for e in opened}) == 2


async def test_invalid_payload_is_dead_lettered_and_the_next_message_flows(pipeline, bus):
    nc, recorder = bus
    js = nc.jetstream()
    await js.publish("inbound.chat", b'{"channel": "chat", "text": "hello"}')
    await js.publish("inbound.chat", b"\xff\xfe not json at all")
    await js.publish("inbound.chat", chat("Верните деньги за подписку!", "after-bad-input"))

    letters = await recorder.wait_for("dlq.intake", 2)
    reasons = [letter["reason"] for letter in letters]
    assert any("needs a sender" in r for r in reasons), reasons
    assert all(letter["service"] == "intake" for letter in letters)
    assert {letter["subject"] for letter in letters} == {"inbound.chat"}
    assert '"text": "hello"' in letters[0]["payload"] or "hello" in letters[0]["payload"]
    verified = await recorder.wait_for("message.verified", 1)
    assert verified[0]["message"]["external_id"] == "after-bad-input"


async def test_channel_mismatch_between_subject_and_payload_is_rejected(pipeline, bus):
    nc, recorder = bus
    await nc.jetstream().publish("inbound.email", chat("hi", "wrong-subject"))
    (letter,) = await recorder.wait_for("dlq.intake", 1)
    assert "does not match subject channel" in letter["reason"]


def notification(recipient: str = "client@example.com") -> SendNotification:
    message_id = uuid.uuid4()
    return SendNotification(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at="2026-01-01T00:00:00Z",
        notification_id=uuid.uuid4(),
        kind="manager_escalation",
        recipient=recipient,
        recipient_role="supervisor",
        recipient_verified=True,
        content_class="account",
        language="en",
        data={
            "severity": "P3",
            "kind": "abuse",
            "rule": "r",
            "reason": "why",
            "ack_deadline": "soon",
            "customer": None,
            "identity_status": "unknown",
            "identity_confidence": 0.0,
            "identity_evidence": [],
            "signals": [],
            "playbook": "do",
            "escalation_id": "e",
        },
    )


async def test_transient_failure_is_retried_then_reported_failed_with_reason(
    servers, clean, var_dir, bus
):
    """The request is accepted into the outbox at once; the sender retries the delivery with
    backoff and, when the attempts run out, reports notify.failed with the reason. A failed
    delivery is an outcome, not bad input: nothing is dead-lettered."""
    nc, recorder = bus
    settings = NotifierSettings(
        **Env(servers, var_dir, smtp_port=1).base(),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=1,  # nothing listens there
        NOTIFIER_MAX_ATTEMPTS=3,
        NOTIFIER_RETRY_BASE=0.05,
    )
    cmd = notification()
    async with TestApp(build_notifier(settings)):
        await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())
        (failed,) = await recorder.wait_for("notify.failed", 1)
    assert failed["notification_id"] == str(cmd.notification_id)
    assert failed["attempts"] == 3
    assert failed["permanent"] is False
    assert "gave up after 3 attempts" in failed["reason"]
    assert "SMTP unavailable" in failed["reason"]
    assert recorder.of("dlq.notifier") == []
    sql = "SELECT count(*) FROM notifier.notifications WHERE status = 'failed' AND attempts = 3"
    assert await count(servers, sql) == 1


async def test_message_waits_while_a_service_is_down_and_flows_after_restart(
    running, bus, servers, mailbox
):
    nc, recorder = bus
    await running.start("intake", "verifier", "escalator")
    await nc.jetstream().publish("inbound.email", seed_000_email())
    requests = await recorder.wait_for("notify.request", 5)
    assert recorder.of("notify.sent") == []

    await running.start("notifier")  # the notifier was down: nothing was lost meanwhile
    await recorder.wait_for("notify.sent", len(requests))
    await running.stop()
    await running.start("intake", "verifier", "escalator", "notifier")  # a full restart
    await drained(nc)
    requested = await settled(recorder)
    assert len(requested) >= 5  # seed 000 asks for at least five notifications
    assert sorted(m["notification_id"] for m in mailbox.messages()) == sorted(requested)
    assert await count(servers, "SELECT count(*) FROM notifier.notifications") == len(requested)


async def test_unverified_address_never_receives_account_content(running, bus, servers, mailbox):
    nc, recorder = bus
    await running.start("notifier")
    cmd = notification("stranger@example.com").model_copy(update={"recipient_verified": False})
    await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())
    (failed,) = await recorder.wait_for("notify.failed", 1)
    assert "unverified" in failed["reason"]
    assert failed["attempts"] == 0  # refused on acceptance: it never reached the outbox sender
    await drained(nc)
    assert mailbox.messages() == []
    assert (
        await count(servers, "SELECT count(*) FROM notifier.notifications WHERE status = 'refused'")
        == 1
    )
