"""Seed 000, taken back, and what the address writes afterwards (on the real servers).

- A message from the confirmed address the verifier passed just before the revoke reaches
  the escalator after it (it lags): the sender is disowned by staff there too
  (services/escalator/revoked_sender.py), nothing about the account and no promise waits at
  the address, and the batch reads the revokes of its senders in one query.
- The forger writes again after the revoke: the verifier marks the address suspicious, in
  the name of the client that disowned it (a staff revoke is a denial on file:
  services/verifier/denials.py). Its words merged into the client's open cases are a sender
  disowned for the client writing in its name, not "the client wrote again", and no stale
  "the registered contact confirmed the sender's address" stands beside them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from sqlalchemy import event

from services.escalator.policy import load_policy
from services.escalator.revocation import EVIDENCE_REVOKED, Revocation
from services.escalator.revocations import ChannelRevocations
from services.escalator.service import EscalatorService
from services.escalator.staff_language import CONFIRMED_NOTE, REVOKED_NOTE
from services.notifier.domain import render
from services.verifier.denials import Denial, heed_denials
from services.verifier.settings import EvidenceWeights
from shared.contracts import Identity, IdentityVerified, SendNotification
from shared.db import Database
from shared.outbox import Outgoing
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    publish_verified,
    start,
    until,
)
from tests.integration.test_channel_revoked import (
    BILLING,
    CEO,
    CUSTOMER,
    MANAGER,
    REGISTERED,
    _both_handled,
    confirmed,
    from_the_ceo,
    from_the_confirmed_ceo,
    promised_to,
    revoked,
)

pytestmark = pytest.mark.integration
BILLING_TEXT = (
    "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
)
# Something new for the billing case: another charge disputed, and money demanded back.
DOUBLE_CHARGE = "С нас дважды списали оплату за март, верните деньги за двойное списание."


def decided(text: str, at: datetime) -> IdentityVerified:
    """The CEO's message as the verifier passed it at `at`, his address the client's then."""
    verified = IdentityVerified.model_validate_json(from_the_confirmed_ceo(text))
    return verified.model_copy(update={"occurred_at": at})


async def test_a_message_verified_before_the_revoke_and_handled_after_it_is_disowned(
    db: Database, env: Env
) -> None:
    now = lambda: datetime.now(UTC)  # noqa: E731
    late_at = now() - timedelta(seconds=30)  # passed by the verifier, waiting for the escalator
    late = [decided(BILLING_TEXT, late_at), decided(DOUBLE_CHARGE, late_at)]

    async def nowhere(outputs: list[Outgoing]) -> None:
        pass

    revoke = revoked(uuid.uuid4(), uuid.uuid4())
    await ChannelRevocations(db, load_policy(), now, nowhere).revoke(Revocation.of(revoke))
    statements: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    service = EscalatorService(db, load_policy(), now)
    outputs = [o for outs in await asyncio.gather(*map(service.handle, late)) for o in outs]
    promised = await rows(env, "SELECT promise_to, identity_status FROM escalator.escalations")
    # Decided after the revoke (the address confirmed again since): the client's, as it says.
    again = decided("С нас дважды списали оплату за апрель.", now())
    after = await service.handle(again)

    opened = [o.payload for o in outputs if o.subject == "escalation.opened"]
    notices = [o.payload for o in outputs if o.subject == "notify.request"]
    assert opened and {e["identity_status"] for e in opened} == {"suspicious"}
    # The policy read the disowned sender: the account manager hears of it as such.
    assert "suspicious_sender" in {e["kind"] for e in opened}
    # Nothing about the account to the address, and no promise waits there.
    assert not [n for n in notices if n["recipient"].casefold() == CEO]
    assert not [r for r in promised if CEO in json.dumps(r["promise_to"] or {})]
    # Every staff notice says who took the address back, first; none calls it verified.
    staff = [n for n in notices if not n["recipient_role"].startswith("client")]
    assert staff
    for n in staff:  # a digest says who is speaking once for all its cases
        items = n["data"]["identity_evidence_items"]
        assert items[0]["kind"] == EVIDENCE_REVOKED, items
        assert items[0]["values"]["by"] == revoke.revoked_by
        assert "verified_channel" not in {i["kind"] for i in items}
        assert n["data"]["identity_status"] == "suspicious"
        pack = n["data"].get("fact_pack") or n["data"]["escalations"][0]["fact_pack"]
        assert pack["crm"]["registered"] == [{"kind": "email", "address": REGISTERED}]
    assert {r["identity_status"] for r in promised} == {"suspicious"}
    changed = [o.payload for o in after if o.subject.startswith("escalation.")]
    assert changed and {e["identity_status"] for e in changed} == {"verified"}
    # One lookup of the revokes per transaction, however many messages share it (each
    # transaction records what it saw in one insert at its end).
    looked = [s for s in statements if "revoked_addresses" in s]
    transactions = [s for s in statements if s.startswith("INSERT INTO escalator.subject_messages")]
    assert 2 <= len(looked) <= len(transactions) <= len(late) + 1


def from_the_disowned(text: str, confirmation_id: uuid.UUID, at: datetime) -> bytes:
    """The address after the revoke, as the verifier sends it: the revoke is a denial by
    staff on file, so the sender is suspicious in the client's name (heed_denials)."""
    verified, _ = from_the_ceo(text, uuid.uuid4())
    data = json.loads(verified)
    identity = Identity.model_validate({**data["identity"], "confirmation": None})
    denial = Denial(confirmation_id, CUSTOMER, "email", CEO, at)
    disowned = heed_denials(identity, denial, [denial], EvidenceWeights())
    data["identity"] = disowned.model_dump(mode="json")
    return json.dumps(data).encode()


async def confirmed_then_revoked(
    nc: nats.NATS, bus: Bus, env: Env
) -> tuple[str, uuid.UUID, datetime]:
    """The CEO's billing case, his address confirmed (its promise moves there), then taken
    back by staff: the billing case's id, the confirmation, when it was taken back."""
    confirmation_id = uuid.uuid4()
    payload, message_id = from_the_ceo(BILLING_TEXT, confirmation_id)
    await publish_verified(nc, payload)
    opened = await bus.wait("escalation.opened", 2)
    (billing,) = [e["escalation_id"] for e in opened if e["kind"] == "billing"]
    event = confirmed(message_id, confirmation_id)
    await nc.jetstream().publish("crm.channel.confirmed", event.model_dump_json().encode())

    async def moved() -> bool:
        return (await promised_to(env, billing) or {}).get("recipient") == CEO

    await until(moved)
    revoke = revoked(uuid.UUID(message_id), confirmation_id)
    await nc.jetstream().publish("crm.channel.revoked", revoke.model_dump_json().encode())
    await until(lambda: _both_handled(env, revoke.event_id))
    return billing, confirmation_id, revoke.revoked_at


def about(bus: Bus, escalation_id: str, message_id: str) -> list[dict[str, Any]]:
    """The staff notices of one message that name the escalation (alone or in a digest)."""
    found = []
    for n in bus.of("notify.request"):
        if n["message_id"] != message_id or n["recipient_role"].startswith("client"):
            continue
        cases = n["data"].get("escalations") or [n["data"]]
        found += [c for c in cases if c.get("escalation_id") == escalation_id]
    return found


async def test_the_disowned_address_writing_again_is_no_client_writing_again(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        billing, confirmation_id, at = await confirmed_then_revoked(nc, bus, env)
        before = len(bus.of("notify.request"))
        forged = from_the_disowned(DOUBLE_CHARGE, confirmation_id, at)
        message_id = json.loads(forged)["message_id"]
        await publish_verified(nc, forged)
        await until(lambda: about(bus, billing, message_id))
        await asyncio.sleep(0.5)  # anything else the message told is on the bus by now
        said = bus.of("notify.request")[before:]
        notes = await rows(
            env,
            "SELECT resolution_note FROM escalator.escalations WHERE kind = :kind",
            kind="identity_confirmation",
        )

    # The billing case's holders hear something new, and whose it is: not the client's.
    for case in about(bus, billing, message_id):
        kinds = [c["kind"] for c in case["change_items"]]
        assert "disowned_wrote" in kinds and "wrote_again" not in kinds
    # The identity check the confirmation closed says it was taken back, not confirmed.
    assert notes == [{"resolution_note": REVOKED_NOTE["ru"]}]
    staff = [SendNotification.model_validate(n) for n in said if n["recipient"] != CEO]
    bodies = {n.recipient: (n.language, render(n).body) for n in staff}
    assert {BILLING, MANAGER} <= set(bodies)
    assert (bodies[BILLING][0], bodies[MANAGER][0]) == ("ru", "uk")
    for language, body in bodies.values():
        assert {"ru": "за клиента не признали", "uk": "за клієнта не визнали"}[language] in body
        for stale in (
            "клиент написал снова",
            "клієнт написав знову",
            *CONFIRMED_NOTE.values(),
        ):
            assert stale not in body, (language, stale)
    assert REVOKED_NOTE["uk"] in bodies[MANAGER][1]
    # Nothing about the account goes to the address.
    assert not [n for n in said if n["recipient"].casefold() == CEO]
