"""Seed 000, taken back, and what the address writes afterwards (on the real servers).

- A message from the confirmed address the verifier passed just before the revoke reaches
  the escalator after it (it lags): the sender is disowned by staff there too
  (services/escalator/revoked_sender.py), nothing about the account and no promise waits at
  the address, and the batch reads the revokes of its senders in one query.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from services.escalator.policy import load_policy
from services.escalator.revocation import EVIDENCE_REVOKED, Revocation
from services.escalator.revocations import ChannelRevocations
from services.escalator.service import EscalatorService
from shared.contracts import IdentityVerified
from shared.db import Database
from shared.outbox import Outgoing
from tests.integration.conftest import Env, rows
from tests.integration.test_channel_revoked import (
    CEO,
    REGISTERED,
    from_the_confirmed_ceo,
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
