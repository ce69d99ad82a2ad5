"""Staff type the case reference a notice gave them (`CL-XXXX-XXXX`) where the CLI took the
escalation's id: `careline ack`, `careline escalation` find it with a read-only range on the
escalations' primary key (real PostgreSQL), then ask the escalator by id (real NATS). Two
escalations sharing a reference are both listed and no command guesses between them."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack

import nats
import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from shared.case_ref import case_ref, id_bounds
from shared.cli import app
from tests.integration.conftest import Env
from tests.integration.escalator_harness import (
    LEGAL,
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
)

pytestmark = pytest.mark.integration


async def careline(env: Env, *args: str) -> Result:
    """A `careline` command against the test's servers (in a thread: it runs its own loop)."""
    environment = {"NATS_URL": env.servers.nats_url, "DATABASE_URL": env.servers.database_url}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=environment)


async def sql(env: Env, *statements: str, **params: object) -> list[str]:
    """The statements in one transaction; the last one's first column."""
    engine = create_async_engine(env.servers.database_url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                found = await conn.execute(text(statement), params)
            return [str(row[0]) for row in found] if found.returns_rows else []
    finally:
        await engine.dispose()


async def test_staff_act_on_an_escalation_by_its_reference(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = opened["escalation_id"]
        ref = case_ref(escalation_id)

        shown = await careline(env, "escalation", ref)
        assert shown.exit_code == 0, shown.output
        assert shown.output.startswith(f"{ref} P2 legal open") and escalation_id in shown.output

        # As read off a notice or heard on the phone: lower case, no prefix, no dash.
        typed = ref.removeprefix("CL-").replace("-", "").lower()
        acked = await careline(env, "ack", typed, "--by", LEGAL)
        assert acked.exit_code == 0, acked.output
        assert acked.output.startswith("acknowledged:")
        (acknowledged,) = await bus.wait("escalation.acknowledged")
        assert acknowledged["escalation_id"] == escalation_id

        listing = await careline(env, "escalations")
        assert f"{ref} (id {escalation_id})" in listing.output

        nobody = "CL-0000-0000" if ref != "CL-0000-0000" else "CL-ZZZZ-ZZZZ"
        missing = await careline(env, "resolve", nobody, "--by", LEGAL, "--note", "-")
        assert missing.exit_code == 1 and f"no escalation {nobody}" in missing.output
        wrong = await careline(env, "ack", "CL-12U4-5678", "--by", LEGAL)
        assert wrong.exit_code == 2 and "not an escalation reference" in wrong.output


async def test_two_escalations_with_one_reference_are_both_listed_and_neither_is_chosen(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        first = uuid.UUID(opened["escalation_id"])
        # The chance of it is about n / 2^40 (docs/escalations.md); here it is made: a copy
        # of the row, another client's, whose id keeps the first 40 bits and changes the rest.
        twin = uuid.UUID(int=first.int ^ 0xFFFF)
        await sql(
            env,
            "CREATE TEMP TABLE twin ON COMMIT DROP AS"
            " SELECT * FROM escalator.escalations WHERE id = :first",
            "UPDATE twin SET id = :twin, opened_at = opened_at + interval '1 minute',"
            " subject_key = 'customer:cust-other'",
            "INSERT INTO escalator.escalations SELECT * FROM twin",
            first=first,
            twin=twin,
        )
        ref = case_ref(first)
        assert case_ref(twin) == ref

        for args in (("escalation", ref), ("ack", ref, "--by", LEGAL)):
            refused = await careline(env, *args)
            assert refused.exit_code == 1, refused.output
            assert f"2 escalations have the reference {ref}; give the id:" in refused.output
            assert refused.output.index(str(first)) < refused.output.index(str(twin))
        assert not bus.of("escalation.acknowledged")  # nothing was asked of the escalator

        by_id = await careline(env, "ack", str(first), "--by", LEGAL)
        assert by_id.exit_code == 0 and by_id.output.startswith("acknowledged:"), by_id.output


async def test_the_range_of_a_reference_is_answered_by_the_primary_key(env: Env) -> None:
    lower, upper = id_bounds("CL-BC69-MMKF")
    plan = await sql(
        env,
        "SET LOCAL enable_seqscan = off",
        "EXPLAIN SELECT id FROM escalator.escalations WHERE id BETWEEN :lower AND :upper",
        lower=lower,
        upper=upper,
    )
    assert any("escalations_pkey" in line for line in plan), plan
