"""One mail to the client for one message, on the real notifier (NATS, PostgreSQL, SMTP):
a client digest goes once with every section; an answer it took does not go again alone;
an answer that went before is left out of a later digest, which then goes as the other."""

from __future__ import annotations

import nats
import pytest

from services.escalator.digest import client_digests
from shared.contracts import SendNotification
from tests.integration.conftest import Env, Mailbox, Recorder, Running, drained, rows
from tests.unit.test_staff_digest import THREE_KINDS, notices

pytestmark = pytest.mark.integration
TIMEOUT = 30.0


Answers = tuple[SendNotification, SendNotification, SendNotification]


@pytest.fixture
async def answers(running: Running) -> Answers:
    """The notifier running; the digest of a message reporting a failure and disputing an
    invoice, and its two answers as they would go alone."""
    await running.start("notifier")
    by_kind = {n.kind: n for n in notices(THREE_KINDS)[1]}
    failure, billing = by_kind["service_failure_notice"], by_kind["billing_dispute_ack"]
    (digest,) = client_digests([failure, billing])
    return digest, failure, billing


async def request(nc: nats.NATS, note: SendNotification) -> None:
    await nc.jetstream().publish("notify.request", note.model_dump_json().encode())


async def test_the_digest_goes_once_and_its_answers_never_alone(
    answers: Answers, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    nc, recorder = bus
    digest, failure, billing = answers

    await request(nc, digest)
    (sent,) = await recorder.wait_for("notify.sent", 1, timeout=TIMEOUT)
    # A redelivered digest, and each answer asked for alone (a later message of the case).
    for note in (digest, failure, billing):
        await request(nc, note)
    await drained(nc)

    assert (sent["notification_id"], sent["kind"]) == (str(digest.notification_id), "client_digest")
    (mail,) = mailbox.messages()
    assert mail["kind"] == "client_digest" and mail["rcpt_tos"] == [digest.recipient]
    assert len(recorder.of("notify.sent")) == 1 and recorder.of("notify.failed") == []
    assert await rows(env, "SELECT kind FROM notifier.notifications") == [{"kind": "client_digest"}]


async def test_an_answer_sent_before_is_left_out_and_the_other_goes_as_itself(
    answers: Answers, bus: tuple[nats.NATS, Recorder], mailbox: Mailbox, env: Env
) -> None:
    nc, recorder = bus
    digest, failure, billing = answers

    await request(nc, failure)  # an earlier message asked for the apology alone
    await recorder.wait_for("notify.sent", 1, timeout=TIMEOUT)
    await request(nc, digest)
    await recorder.wait_for("notify.sent", 2, timeout=TIMEOUT)
    await request(nc, billing)
    await drained(nc)

    assert [(m["notification_id"], m["kind"]) for m in mailbox.messages()] == [
        (str(failure.notification_id), "service_failure_notice"),
        (str(billing.notification_id), "billing_dispute_ack"),
    ]
    assert len(recorder.of("notify.sent")) == 2
    stored = await rows(env, "SELECT kind FROM notifier.notifications ORDER BY created_at")
    assert stored == [{"kind": "service_failure_notice"}, {"kind": "billing_dispute_ack"}]
