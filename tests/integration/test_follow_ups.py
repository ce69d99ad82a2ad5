"""A client writing into an open case without a rule of its own firing ("any news?") goes on
with it on the real servers: the escalation names the message, its holders read it once,
and a client with no open case writing the same starts nothing."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import nats
import pytest
from typer.testing import CliRunner

from services.escalator.settings import EscalatorSettings
from shared.case_ref import case_ref
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    LEGAL,
    Bus,
    escalator_settings,
    legal_threat,
    policy_file,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration


def follow_ups(bus: Bus) -> list[dict[str, Any]]:
    return [r for r in bus.of("notify.request") if r["data"].get("change") == "follow_up"]


async def shown_by_cli(env: Env, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """What `careline ARGS` prints (in a thread: it runs its own loop)."""
    from shared.cli import app

    monkeypatch.setenv("DATABASE_URL", env.servers.database_url)
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def every_follow_up_heard(env: Env, tmp_path: Path) -> EscalatorSettings:
    """The shipped policy but for its quiet window: a follow-up right after the opening is
    told too (the window is tested on its own below)."""
    policy = policy_file(tmp_path, follow_up_quiet="0m")
    return escalator_settings(env, ESCALATOR_POLICY=str(policy))


async def test_any_news_goes_on_with_the_open_case_and_its_holders_read_it(
    env: Env, watch: tuple[nats.NATS, Bus], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, every_follow_up_heard(env, tmp_path))
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        told_at_opening = len(bus.of("notify.request"))

        news = json.loads(legal_threat("Есть новости по нашей претензии? Ждём ответа."))
        await publish_verified(nc, json.dumps(news).encode())
        (updated,) = await bus.wait("escalation.updated")
        await until(lambda: follow_ups(bus))
        notices = follow_ups(bus)

    assert updated["escalation_id"] == opened["escalation_id"]
    assert updated["change"] == "merged" and updated["message_id"] == news["message_id"]
    assert updated["signals"] == [] and updated["rule"] == opened["rule"]
    # Everyone the escalation told hears it (the lawyers among them), once each; nothing
    # else is asked of the notifier (no client contact: a person answers the client).
    assert sorted(n["recipient_role"] for n in notices) == sorted(opened["roles"])
    assert LEGAL in {n["recipient"] for n in notices}
    assert len(bus.of("notify.request")) == told_at_opening + len(notices)
    (fact,) = notices[0]["data"]["change_items"]
    assert fact["values"]["said"] == "Есть новости по нашей претензии? Ждём ответа."
    recent = notices[0]["data"]["fact_pack"]["recent_messages"]
    assert recent[0]["message_id"] == news["message_id"]  # the new message, first
    assert opened["escalation_id"] not in {
        e["id"] for e in notices[0]["data"]["fact_pack"].get("previous_escalations", [])
    }
    assert await rows(
        env,
        "SELECT e.message_count, t.entry FROM escalator.escalations e "
        "JOIN escalator.escalation_timeline t ON t.escalation_id = e.id "
        "WHERE t.message_id = :m",
        m=news["message_id"],
    ) == [{"message_count": 2, "entry": "followed_up"}]

    # Operators read the case with its timeline.
    shown = await shown_by_cli(env, monkeypatch, "escalation", opened["escalation_id"])
    lines = shown.splitlines()
    ref = case_ref(opened["escalation_id"])
    assert lines[0].startswith(f"{ref} P2 legal open (level 1)")
    assert lines[1] == f"  id {opened['escalation_id']}"
    timeline = lines[lines.index("timeline:") + 1 :]
    assert [line.split(" UTC ")[1].split(":")[0] for line in timeline] == [
        "opened",
        "followed_up",
    ]
    assert "rule legal-threat-to-legal" in timeline[0]
    listed = await shown_by_cli(env, monkeypatch, "escalations")
    assert f"{ref} (id {opened['escalation_id']})" in listed and " UTC;" in listed


async def test_thanks_joins_the_case_and_tells_nobody(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, every_follow_up_heard(env, tmp_path))
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        told_at_opening = len(bus.of("notify.request"))
        thanks = json.loads(legal_threat("Спасибо, ждём!"))
        await publish_verified(nc, json.dumps(thanks).encode())
        (updated,) = await bus.wait("escalation.updated")
        await asyncio.sleep(0.5)

    assert updated["escalation_id"] == opened["escalation_id"]
    assert len(bus.of("notify.request")) == told_at_opening  # nobody pinged for "thanks"
    assert await rows(
        env,
        "SELECT entry FROM escalator.escalation_timeline WHERE message_id = :m",
        m=thanks["message_id"],
    ) == [{"entry": "followed_up"}]


async def test_lines_written_one_after_another_tell_the_holders_once_per_quiet_window(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """A chat client writes "вы тут?", "ответьте" a line at a time: every line joins the case,
    but its holders, told of it moments ago, are not told again until the window passes."""
    nc, bus = watch
    settings = escalator_settings(
        env, ESCALATOR_POLICY=str(policy_file(tmp_path, follow_up_quiet=1.2))
    )
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        told_at_opening = len(bus.of("notify.request"))
        lines = [json.loads(legal_threat(t)) for t in ("Вы тут?", "Ответьте!", "Алло?")]
        for line in lines[:2]:  # within the window (1.2 s) of the opening
            await publish_verified(nc, json.dumps(line).encode())
        await bus.wait("escalation.updated", 2)
        await asyncio.sleep(1.5)
        await publish_verified(nc, json.dumps(lines[2]).encode())  # the window passed
        await until(lambda: follow_ups(bus))
        await asyncio.sleep(0.3)

    assert {n["message_id"] for n in follow_ups(bus)} == {lines[2]["message_id"]}
    assert len(bus.of("notify.request")) == told_at_opening + len(opened["roles"])
    joined = await rows(
        env,
        "SELECT message_id::text AS m, detail->>'told' AS told FROM escalator.escalation_timeline "
        "WHERE entry = 'followed_up'",
    )
    assert {row["m"]: row["told"] for row in joined} == {
        lines[0]["message_id"]: "false",
        lines[1]["message_id"]: "false",
        lines[2]["message_id"]: "true",
    }
    # What was not told is read in the next notice, among the recent messages.
    recent = follow_ups(bus)[0]["data"]["fact_pack"]["recent_messages"]
    assert recent[0]["message_id"] == lines[2]["message_id"]
    assert {r["message_id"] for r in recent[1:3]} == {x["message_id"] for x in lines[:2]}


async def test_the_same_words_without_an_open_case_start_nothing(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat("Есть новости по нашему вопросу?"))

        async def seen() -> bool:
            found = await rows(env, "SELECT count(*) AS n FROM escalator.subject_messages")
            return bool(found[0]["n"])

        await until(seen)
    assert bus.of("escalation.updated") == [] and bus.of("notify.request") == []
    assert await rows(env, "SELECT id FROM escalator.escalations") == []
