"""A case nobody acknowledges climbs to the account manager's deputy the CRM names for the
client (Ігор, at his own address, in his language), not to the policy's shared deputy
address, and he may acknowledge it; a client with no deputy on file climbs to the shared
address, and a deputy the client's threats named is passed over (a handover to "the
deputy" goes to the shared address). The real escalator and its sweeper, PostgreSQL and
NATS; deadlines of about a second."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import nats
import pytest

from services.notifier.domain import render
from shared.case_ref import case_ref
from shared.contracts import ReassignEscalation, SendNotification, StaffRef
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    HEAD,
    Bus,
    ack,
    ask,
    escalator_settings,
    policy_file,
    publish_verified,
    start,
    until,
)
from tests.integration.test_threatened_staff import threat

pytestmark = pytest.mark.integration

SHARED = "deputy.support@careline.example"  # the shipped policy's deputy address
FAILURE = "Експорт не працює третій день."


def of_client(text: str, manager: str, deputy: str | None, suffix: str) -> bytes:
    """A message of a client of its own whose manager Ольга reads Ukrainian, and whose CRM
    deputy (if any) is Ігор at `deputy`, reading Ukrainian too."""
    payload, _ = threat(text, manager, suffix, "office")
    if deputy is None:
        return payload
    verified = json.loads(payload)
    verified["identity"]["account_manager"]["deputy"] = StaffRef(
        id=f"am-koval-{suffix}", name="Ігор Коваль", email=deputy, language="uk"
    ).model_dump()
    return json.dumps(verified).encode()


async def test_an_unacknowledged_case_climbs_to_the_clients_deputy_on_file(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    minutes = {s: 0.02 for s in ("P1", "P2", "P3", "P4")}
    policy = policy_file(tmp_path, ack_deadlines_minutes=minutes)
    tag = uuid.uuid4().hex[:8]
    igor, threatened_igor = f"i.koval.{tag}@careline.example", f"i.koval.t.{tag}@careline.example"

    def climbs(opened: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            n
            for n in bus.of("notify.request")
            if n["kind"] == "re_escalation" and n["escalation_id"] == opened["escalation_id"]
        ]

    def failure_of(customer: str) -> dict[str, Any]:
        (opened,) = [
            o
            for o in bus.of("escalation.opened")
            if o["kind"] == "service_failure" and o["customer_id"] == f"cust-{customer}"
        ]
        return opened

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        with_deputy, without, threatening = (f"{tag}{n}" for n in "abc")
        await publish_verified(nc, of_client(FAILURE, f"o.a.{tag}@x.example", igor, with_deputy))
        await publish_verified(nc, of_client(FAILURE, f"o.b.{tag}@x.example", None, without))
        # The third client threatens its deputy by name: the threats hold spares him.
        threat_text = FAILURE + " А вашому Ігорю передайте, що я його знайду."
        await publish_verified(
            nc, of_client(threat_text, f"o.c.{tag}@x.example", threatened_igor, threatening)
        )
        await until(lambda: len(bus.of("escalation.opened")) >= 4)
        cases = [failure_of(c) for c in (with_deputy, without, threatening)]
        # Each climbs to level 2: the manager's chain (deputy) and the head's (director).
        await until(lambda: all(any(n["data"]["level"] == 2 for n in climbs(c)) for c in cases))
        first, second, third = cases

        (to_igor,) = [n for n in climbs(first) if n["recipient_role"] == "deputy"]
        note = SendNotification.model_validate(to_igor)
        assert (note.recipient, note.language, note.data["level"]) == (igor, "uk", 2)
        assert "ack_url" in note.data  # his to take
        assert "Ніхто не взяв у роботу, тепер рівень 2" in render(note).subject
        assert not [n for n in climbs(first) if n["recipient"] == SHARED]
        # Who may act follows the address told: Ігор, as the deputy.
        (row,) = await rows(
            env,
            "SELECT notified FROM escalator.escalations WHERE id = :id",
            id=uuid.UUID(first["escalation_id"]),
        )
        assert {"role": "deputy", "address": igor, "level": 2, "origin": "climb"} in row["notified"]

        first_id = uuid.UUID(first["escalation_id"])
        assert (await ask(env, ack(first_id, SHARED))).outcome == "forbidden"
        assert (await ask(env, ack(first_id, igor, actor_role="deputy"))).outcome == (
            "acknowledged"
        )

        # No deputy on file: the policy's shared deputy address, as before.
        assert [n["recipient"] for n in climbs(second) if n["recipient_role"] == "deputy"] == [
            SHARED
        ]

        # The threatened deputy: passed over (the violence case's hold spares him), the
        # director alone at level 2; neither he nor the shared address is told.
        assert [n["recipient_role"] for n in climbs(third) if n["data"]["level"] == 2] == [
            "director"
        ]
        assert not [n for n in climbs(third) if n["recipient_role"] == "deputy"]
        assert not [n for n in bus.to(threatened_igor) if n["kind"] == "re_escalation"]
        # Handed to "the deputy" without an address: the shared one, not the threatened Ігор.
        handover = ReassignEscalation(
            command_id=uuid.uuid4(),
            escalation_id=uuid.UUID(third["escalation_id"]),
            actor=HEAD,
            to_role="deputy",
            note="передаю заступнику",
        )
        assert (await ask(env, handover)).outcome == "reassigned"
        await until(
            lambda: any(n["escalation_id"] == third["escalation_id"] for n in bus.to(SHARED))
        )
        assert not [n for n in bus.to(threatened_igor) if n["kind"] == "manager_escalation"]


async def test_the_head_of_support_a_climb_reaches_past_a_threatened_deputy_reads_why(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    # A refund demand (the account manager's alone) beside a threat naming the deputy Ігор:
    # the violence case's hold spares him, so the refund case climbs past him to the head
    # of support, who reads why it is them and in which case the client threatened him.
    nc, bus = watch
    minutes = {s: 0.02 for s in ("P1", "P2", "P3", "P4")}
    policy = policy_file(tmp_path, ack_deadlines_minutes=minutes)
    tag = uuid.uuid4().hex[:8]
    igor, olga = f"i.koval.{tag}@careline.example", f"o.{tag}@x.example"
    text = "Поверніть гроші за підписку. А вашому Ігорю передайте, що я його знайду."

    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, of_client(text, olga, igor, tag))
        opened = {e["kind"]: e for e in await bus.wait("escalation.opened", 2)}
        assert set(opened) == {"violence", "compensation"}
        refund = opened["compensation"]["escalation_id"]

        def climbed() -> list[dict[str, Any]]:
            return [
                n
                for n in bus.of("notify.request")
                if n["kind"] == "re_escalation" and n["escalation_id"] == refund
            ]

        await until(lambda: any(n["recipient"] == HEAD for n in climbed()))
        (to_head,) = [n for n in climbed() if n["recipient"] == HEAD]
        note = SendNotification.model_validate(to_head)
        assert (note.recipient_role, note.data["level"]) == ("head_of_support", 3)
        assert note.data["passed_over"] == [
            {
                "role": "deputy",
                "escalation_id": opened["violence"]["escalation_id"],
                "over": "threats",
            }
        ]
        line = {
            "ru": "Вам, а не заместителю менеджера клиента: клиент угрожал ему в деле",
            "uk": "Вам, а не заступникові менеджера клієнта: клієнт погрожував йому у справі",
            "en": "To you, not the account manager's deputy: the client threatened them in case",
        }[note.language]
        violence_ref = case_ref(opened["violence"]["escalation_id"])
        assert f"{line} {violence_ref}." in render(note).body
        # Neither Ігор nor the shared deputy address was told to take it.
        assert not [n for n in climbed() if n["recipient_role"] == "deputy"]
        assert not [n for n in bus.to(igor) if n["kind"] == "re_escalation"]
