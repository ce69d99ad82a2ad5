"""Nothing lost, nothing doubled: duplicates, bad input, retries, restarts on real servers."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.contracts import SendNotification
from shared.demo import load_stories
from tests.integration.conftest import Env, Running, count, drained

pytestmark = pytest.mark.integration


def seed_000_email() -> bytes:
    message = load_stories()[0]["messages"][0]
    return json.dumps(message).encode()


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

    assert await count(servers, "SELECT count(*) FROM intake.messages") == 1
    assert await count(servers, "SELECT count(*) FROM crm.identity_decisions") == 1
    assert await count(servers, "SELECT count(*) FROM escalator.escalations") == 2
    assert await count(servers, "SELECT sum(message_count) FROM escalator.escalations") == 2
    assert await count(servers, "SELECT count(*) FROM notifier.notifications") == 5
    assert len(mailbox.messages()) == 5
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


async def test_transient_failure_is_retried_then_dead_lettered_with_reason(
    servers, clean, var_dir, bus
):
    nc, recorder = bus
    unreachable = Env(servers, var_dir, smtp_port=1)  # nothing listens there
    running = Running(unreachable)
    await running.start("notifier")
    try:
        cmd = notification()
        await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())
        (letter,) = await recorder.wait_for("dlq.notifier", 1)
    finally:
        await running.stop()
    assert letter["deliveries"] == 3  # CARELINE_MAX_DELIVER in the test settings
    assert "SMTP unavailable" in letter["reason"]
    assert json.loads(letter["payload"])["notification_id"] == str(cmd.notification_id)


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
    assert len(mailbox.messages()) == 5
    assert await count(servers, "SELECT count(*) FROM notifier.notifications") == 5


async def test_unverified_address_never_receives_account_content(running, bus, servers, mailbox):
    nc, recorder = bus
    await running.start("notifier")
    cmd = notification("stranger@example.com").model_copy(update={"recipient_verified": False})
    await nc.jetstream().publish("notify.request", cmd.model_dump_json().encode())
    (failed,) = await recorder.wait_for("notify.failed", 1)
    assert "unverified" in failed["reason"]
    assert mailbox.messages() == []
    assert (
        await count(servers, "SELECT count(*) FROM notifier.notifications WHERE status = 'refused'")
        == 1
    )
