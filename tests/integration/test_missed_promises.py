"""When the answer promised to a client passes with the escalation still open, the real
sweeper tells the client first with a new date, tells the holders, and climbs the
escalation (its new holder must acknowledge it); when the policy's new dates are used up,
the client is not given another one. Once per promise, across sweeps (seed 001)."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest

from shared.contracts import ChannelConfirmed, ChannelRef, ConfirmationDenied, RecordClientReply
from tests.integration.conftest import Env, count, rows
from tests.integration.escalator_harness import (
    Bus,
    ack,
    ask,
    escalator_settings,
    legal_threat,
    policy_file,
    publish_verified,
    start,
    until,
)
from tests.integration.test_confirmation_outcomes import from_another

pytestmark = pytest.mark.integration

SEVERITIES = ("P1", "P2", "P3", "P4")


def quick_promises(tmp_path: Path, **top: Any) -> Path:
    """The shipped policy in seconds instead of hours: three to acknowledge, the promise
    to the client a little later (about 3.6 s after the message)."""
    return policy_file(
        tmp_path,
        ack_deadlines_minutes={s: 0.05 for s in SEVERITIES},
        client_reply={s: {"minutes": 0.06} for s in SEVERITIES},
        **top,
    )


async def test_a_missed_promise_is_owned_up_to_the_client_first_then_left_to_a_person(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    policy = quick_promises(tmp_path, client_reply_new_dates=1)
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        failure = legal_threat("Вы обещали починить экспорт к пятнице и не сделали.")
        await publish_verified(nc, failure)
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        holder = next(n for n in bus.of("notify.request") if n["recipient_role"] != "client")
        await ask(env, ack(escalation_id, holder["recipient"]))

        async def missed_twice() -> bool:
            return len(await _missed(env, escalation_id)) == 2

        await until(missed_twice, timeout=30)
        await until(lambda: _published(env), timeout=10)
        await nc.flush()

    (row,) = await rows(
        env,
        "SELECT promise_to, promises_missed, client_reply_by, acknowledged_at "
        "FROM escalator.escalations WHERE id = :id",
        id=escalation_id,
    )
    # Where the promise went, kept for the owning up: the client's registered address.
    assert row["promise_to"]["recipient"] == "buh@stroymontazh.ru"
    assert row["promise_to"]["language"] == "ru"
    assert row["promises_missed"] == 2
    assert row["client_reply_by"] is None  # no promise stands after the last new date
    # A climb for a missed promise is a new holder's to acknowledge.
    assert row["acknowledged_at"] is None

    first, second = await _missed(env, escalation_id)
    assert first["client_told"] is True and first["new_date"] is not None
    assert first["promised"] == opened["client_reply_by"].replace("Z", "+00:00")
    assert second["client_told"] is False and second["new_date"] is None
    assert second["promised"] == first["new_date"]

    to_client = [
        n
        for n in bus.of("notify.request")
        if n["kind"] == "promise_delay_notice" and n["escalation_id"] == str(escalation_id)
    ]
    (delay,) = to_client  # once, and not after the last new date
    assert delay["recipient"] == "buh@stroymontazh.ru"
    assert delay["recipient_role"] == "client_registered"
    assert delay["data"]["promised"] == first["promised"]
    assert delay["data"]["reply_by"] == first["new_date"]

    changes = [
        n["data"]["change_items"][0]["kind"]
        for n in bus.of("notify.request")
        if n["data"].get("change") == "promise_missed"
    ]
    assert "promise_missed" in changes and "promise_missed_last" in changes
    # The holders read where it is now: the level the miss took it to.
    levels = {
        n["data"]["level"]
        for n in bus.of("notify.request")
        if n["data"].get("change") == "promise_missed"
        and n["data"]["change_items"][0]["kind"] == "promise_missed"
    }
    if first["climbed_to"] is not None:
        assert levels == {first["climbed_to"]}
    climbs = [n for n in bus.of("notify.request") if n["kind"] == "re_escalation"]
    told = {n["data"].get("promise_missed"): n["data"]["client_told"] for n in climbs}
    # The first climb says the client was given a new date. The second miss finds it
    # unacknowledged (the climb cleared it): its own deadline climbs it, the miss does not.
    assert told.get(first["promised"]) is True
    assert first["climbed_to"] is not None and second["climbed_to"] is None
    assert second["promised"] not in told


async def _missed(env: Env, escalation_id: uuid.UUID) -> list[dict[str, Any]]:
    entries = await rows(
        env,
        "SELECT detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id AND entry = 'promise_missed' ORDER BY id",
        id=escalation_id,
    )
    return [
        json.loads(e["detail"]) if isinstance(e["detail"], str) else e["detail"] for e in entries
    ]


async def _published(env: Env) -> bool:
    sql = "SELECT count(*) FROM escalator.outbox WHERE published_at IS NULL"
    return await count(env.servers, sql) == 0


async def test_staff_record_a_new_date_or_the_answer_and_nothing_owns_up_on_their_behalf(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    policy = quick_promises(tmp_path)
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        holder = next(n for n in bus.of("notify.request") if n["recipient_role"] != "client")
        actor = holder["recipient"]

        def reply(by: str, **kw: Any) -> RecordClientReply:
            return RecordClientReply(
                command_id=uuid.uuid4(), escalation_id=escalation_id, actor=by, **kw
            )

        tomorrow = datetime.now(UTC) + timedelta(days=1)
        moved = await ask(env, reply(actor, new_date=tomorrow, note="called: fix tomorrow"))
        assert moved.outcome == "recorded"
        (row,) = await _promise(env, escalation_id)
        assert row["client_reply_by"] == tomorrow
        # Whoever answers the client has the case: it climbs no further.
        assert row["acknowledged_by"] == {"role": holder["recipient_role"], "address": actor}
        assert row["climb_due_at"] is None
        (taken,) = await bus.wait("escalation.acknowledged")
        assert taken["actor"] == actor

        past = await ask(env, reply(actor, new_date=datetime.now(UTC) - timedelta(hours=1)))
        assert past.outcome == "invalid"
        stranger = await ask(env, reply("stranger@example.com"))
        assert stranger.outcome == "forbidden"

        answered = await ask(env, reply(actor, note="the cause and the fix sent by mail"))
        assert answered.outcome == "recorded"
        (row,) = await _promise(env, escalation_id)
        assert row["client_reply_by"] is None
        # The client writes again about it: the promise made and kept is not made again
        # (the client contact of this escalation went already; a new one would be secret).
        await publish_verified(nc, legal_threat("Экспорт так и не заработал, вы обещали."))
        (merged,) = await bus.wait("escalation.updated")
        assert merged["escalation_id"] == str(escalation_id)
        assert merged["client_reply_by"] is None
        await asyncio.sleep(5)  # the first promise (under 4 s) has passed; sweeps ran
        (row,) = await _promise(env, escalation_id)
        assert row["client_reply_by"] is None

    entries = await rows(
        env,
        "SELECT entry, detail FROM escalator.escalation_timeline WHERE escalation_id = :id "
        "AND entry IN ('acknowledged', 'promise_moved', 'client_answered', 'promise_missed') "
        "ORDER BY id",
        id=escalation_id,
    )
    assert [e["entry"] for e in entries] == ["acknowledged", "promise_moved", "client_answered"]
    assert entries[0]["detail"] == {"level": 1, "via": "client_reply"}
    assert entries[1]["detail"]["promised"] == opened["client_reply_by"].replace("Z", "+00:00")
    assert entries[2]["detail"]["promised"] == tomorrow.isoformat()
    assert not [n for n in bus.of("notify.request") if n["kind"] == "promise_delay_notice"]


async def _promise(env: Env, escalation_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows(
        env,
        "SELECT client_reply_by, acknowledged_by, climb_due_at FROM escalator.escalations "
        "WHERE id = :id",
        id=escalation_id,
    )


async def test_a_standing_hold_on_the_clients_other_escalation_stops_the_owning_up(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Seed 003: while the client's threats hold the investigation, no automatic new date
    goes to them (the messages' own promising contacts are withheld the same way)."""
    nc, bus = watch
    policy = quick_promises(tmp_path)
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (failure,) = await bus.wait("escalation.opened")
        assert failure["client_reply_by"] is not None
        threat = "Я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."
        await publish_verified(nc, legal_threat(threat))
        held = [e for e in await bus.wait("escalation.opened", 2) if e["hold"]]
        assert held and held[0]["kind"] == "reputation"
        await asyncio.sleep(5)  # the failure's promise (under 4 s) has passed; sweeps ran

    assert await _missed(env, uuid.UUID(failure["escalation_id"])) == []
    assert not [n for n in bus.of("notify.request") if n["kind"] == "promise_delay_notice"]


# --- seed 000: a promise made while a probable sender waited on a confirmation -----------

CEO = "andrey.sokolov.1975@mail.ru"
REGISTERED = "buh@stroymontazh.ru"


def _outcome(outcome: str, message_id: str, confirmation_id: uuid.UUID) -> tuple[str, bytes]:
    """The verifier's announcement of what the registered contact answered."""
    ids: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "message_id": uuid.UUID(message_id),
        "correlation_id": message_id,
        "occurred_at": datetime.now(UTC),
        "confirmation_id": confirmation_id,
        "customer_id": "cust-stroymontazh",
    }
    if outcome == "confirmed":
        event: Any = ChannelConfirmed(
            **ids,
            contact_id="ct-sokolov",
            channel=ChannelRef(kind="email", address=CEO, verified=True),
            via="link",
            confirmed_at=datetime.now(UTC),
        )
        return "crm.channel.confirmed", event.model_dump_json().encode()
    event = ConfirmationDenied(**ids, denied_at=datetime.now(UTC))
    return "crm.confirmation.denied", event.model_dump_json().encode()


@pytest.mark.parametrize(
    ("outcome", "told"), [("confirmed", CEO), ("denied", None), (None, REGISTERED)]
)
async def test_a_promise_made_while_the_sender_waited_is_owned_up_to_where_it_went(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path, outcome: str | None, told: str | None
) -> None:
    """The CEO writes from his own address: the billing answer promising a date goes to the
    registered contact, and the same answer is held for him. Confirmed, it went to him: a
    missed promise is owned up to there, not at the registered address. Denied, the
    registered contact disowned the request: nobody is mailed about the delay, the holders
    are told and it climbs. Still waiting: the registered contact, who had the promise."""
    nc, bus = watch
    # The promise about 9 s after the message: time for the outcome to settle first.
    policy = policy_file(
        tmp_path,
        ack_deadlines_minutes={s: 0.05 for s in SEVERITIES},
        client_reply={s: {"minutes": 0.15} for s in SEVERITIES},
    )
    confirmation_id = uuid.uuid4()
    text = "Счёт № 4512 мы уже оплатили вчера, а нам пишут о задолженности и грозят отключением."
    payload = from_another(text, CEO, confirmation_id)
    message_id = json.loads(payload)["message_id"]
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, payload)
        opened = await bus.wait("escalation.opened", 2)
        (billing,) = [e for e in opened if e["kind"] == "billing"]
        escalation_id = uuid.UUID(billing["escalation_id"])

        # The promise went to the registered contact, and waits for the CEO in his answer.
        def answers() -> list[dict[str, Any]]:
            return [r for r in bus.of("notify.request") if r["kind"] == "billing_dispute_ack"]

        await until(lambda: len(answers()) == 2)
        by_recipient = {r["recipient"]: r for r in answers()}
        assert sorted(by_recipient) == sorted([CEO, REGISTERED])
        assert by_recipient[CEO]["held_for_confirmation"] == str(confirmation_id)
        assert by_recipient[CEO]["data"]["reply_by"] == billing["client_reply_by"].replace(
            "Z", "+00:00"
        )
        assert (await _promised_to(env, escalation_id)) == REGISTERED

        if outcome is not None:
            subject, event = _outcome(outcome, message_id, confirmation_id)
            await nc.jetstream().publish(subject, event)

            async def settled() -> bool:
                return bool(await _settled(env, escalation_id, outcome))

            await until(settled)
            assert await _promised_to(env, escalation_id) == told
            # The outcome's timeline entry says where a delay is told from now on.
            (said,) = await _settled(env, escalation_id, outcome)
            detail = said["detail"]
            assert (json.loads(detail) if isinstance(detail, str) else detail)["promise_to"] == told

        async def missed() -> bool:
            return len(await _missed(env, escalation_id)) == 1

        await until(missed, timeout=30)
        await until(lambda: _published(env), timeout=10)
        await nc.flush()

    (entry,) = await _missed(env, escalation_id)
    assert entry["promised"] == billing["client_reply_by"].replace("Z", "+00:00")
    delays = [r for r in bus.of("notify.request") if r["kind"] == "promise_delay_notice"]
    if told is None:
        assert delays == [] and entry["client_told"] is False and entry["new_date"] is None
        kinds = {
            n["data"]["change_items"][0]["kind"]
            for n in bus.of("notify.request")
            if n["data"].get("change") == "promise_missed"
        }
        assert kinds == {"promise_missed_disowned"}
    else:
        (delay,) = delays
        assert (delay["recipient"], delay["escalation_id"]) == (told, str(escalation_id))
        assert delay["language"] == "ru" and delay["data"]["customer"] == "ООО «СтройМонтаж»"
        assert entry["client_told"] is True


async def _promised_to(env: Env, escalation_id: uuid.UUID) -> str | None:
    (row,) = await rows(
        env, "SELECT promise_to FROM escalator.escalations WHERE id = :id", id=escalation_id
    )
    promise_to = row["promise_to"]
    if isinstance(promise_to, str):
        promise_to = json.loads(promise_to)
    return promise_to["recipient"]  # type: ignore[no-any-return]


async def _settled(env: Env, escalation_id: uuid.UUID, outcome: str) -> list[dict[str, Any]]:
    return await rows(
        env,
        "SELECT detail FROM escalator.escalation_timeline WHERE escalation_id = :id "
        "AND entry = :entry",
        id=escalation_id,
        entry=f"identity_{outcome}",
    )


async def test_a_client_saying_it_works_now_is_told_of_no_delay(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Acceptance: "all works now, thanks" left the case open, and the delay notice went to
    a client who no longer waited for anything. The promise is dropped when the client says
    so, the holders read it at once (within the quiet window too) and resolve it."""
    nc, bus = watch
    policy = quick_promises(tmp_path, follow_up_quiet="10m")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        assert opened["client_reply_by"] is not None
        works = json.loads(legal_threat("Всё заработало, спасибо!"))
        await publish_verified(nc, json.dumps(works).encode())
        (updated,) = await bus.wait("escalation.updated")
        await asyncio.sleep(5)  # the promise (under 4 s) would have passed; sweeps ran

    assert updated["escalation_id"] == str(escalation_id)
    assert updated["client_reply_by"] is None
    assert "says the problem is gone" in updated["reason"]
    (row,) = await _promise(env, escalation_id)
    assert row["client_reply_by"] is None
    (joined,) = await rows(
        env,
        "SELECT detail FROM escalator.escalation_timeline WHERE message_id = :m",
        m=works["message_id"],
    )
    detail = joined["detail"]
    assert detail["told"] is True and detail["says_fixed"] == "Всё заработало"
    assert detail["promise_dropped"] == opened["client_reply_by"].replace("Z", "+00:00")
    told = [n for n in bus.of("notify.request") if n["data"].get("change") == "client_says_fixed"]
    assert sorted(n["recipient_role"] for n in told) == sorted(opened["roles"])
    kinds = {n["kind"] for n in bus.of("notify.request")}
    assert "promise_delay_notice" not in kinds
    assert await _missed(env, escalation_id) == []


async def test_a_new_failure_after_it_works_now_is_promised_an_answer_again(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Acceptance: after «Всё заработало, спасибо!» dropped the promise, a new failure in the
    open case told the client «не позднее 08:25 мы сообщим причину» — the staff's deadline,
    minutes away, untracked: no delay notice would follow. It is a new promise now."""
    nc, bus = watch
    policy = policy_file(tmp_path, follow_up_quiet="0m")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (opened,) = await bus.wait("escalation.opened")
        await publish_verified(nc, legal_threat("Всё заработало, спасибо!"))
        await bus.wait("escalation.updated")
        again = legal_threat("Вы обещали, а экспорт опять не работает, уже третий раз.")
        await publish_verified(nc, again)
        await until(lambda: len(bus.of("escalation.updated")) >= 2)

    escalation_id = uuid.UUID(opened["escalation_id"])
    merged = bus.of("escalation.updated")[-1]
    assert merged["escalation_id"] == str(escalation_id) and merged["change"] == "merged"
    promised = datetime.fromisoformat(merged["client_reply_by"].replace("Z", "+00:00"))
    acked = datetime.fromisoformat(merged["ack_deadline"].replace("Z", "+00:00"))
    assert promised > acked  # the policy's answer time, not the staff's deadline
    (row,) = await _promise(env, escalation_id)
    assert row["client_reply_by"] == promised
    # The client reads that date (the notice on the new failure), not the staff's deadline:
    # the follow-up, under an id of its own (the first notice's id the notifier took once).
    said = _follow_up_dates(bus, opened["escalation_id"])
    assert said == [promised]


async def test_it_works_now_keeps_the_promise_of_an_overcharge_and_a_compensation(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Acceptance (seed 001): the first mail had an export bug and «сказали, что тариф стоит
    5000, а выставили 7000», and asked for compensation; «Всё заработало, спасибо!» dropped
    every promise and staff read the answer was no longer needed. A thing that works again
    settles neither: both cases keep their promise (the sweeper keeps it), and the holders
    read what is still owed."""
    nc, bus = watch
    policy = policy_file(tmp_path, follow_up_quiet="10m")
    first = (
        "Не работает экспорт отчётов. И ещё: нам сказали, что тариф стоит 5000, а выставили "
        "7000. Требуем компенсацию."
    )
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat(first))
        opened = await bus.wait("escalation.opened", 2)
        works = json.loads(legal_threat("Всё заработало, спасибо!"))
        await publish_verified(nc, json.dumps(works).encode())
        updated = await bus.wait("escalation.updated", 2)
        await until(lambda: [n for n in bus.of("notify.request") if _owed_told(n)])

    cases = {o["kind"]: o for o in opened}
    assert set(cases) == {"service_failure", "compensation"}
    for case in cases.values():
        (row,) = await _promise(env, uuid.UUID(case["escalation_id"]))
        assert row["client_reply_by"] is not None
        assert row["client_reply_by"] == datetime.fromisoformat(
            case["client_reply_by"].replace("Z", "+00:00")
        )
        assert await _promised_to(env, uuid.UUID(case["escalation_id"])) == "buh@stroymontazh.ru"
    assert all(u["client_reply_by"] is not None for u in updated)
    joined = await rows(
        env,
        "SELECT escalation_id, detail FROM escalator.escalation_timeline WHERE message_id = :m",
        m=works["message_id"],
    )
    owed = {str(j["escalation_id"]): j["detail"] for j in joined}
    failure = owed[cases["service_failure"]["escalation_id"]]
    assert failure["still_owed"] == ["misinformation"] and failure["promise_dropped"] is None
    assert owed[cases["compensation"]["escalation_id"]]["still_owed"] == ["compensation_demand"]
    told = [n for n in bus.of("notify.request") if "client_says" in n["data"].get("change", "")]
    assert told and all(_owed_told(n) for n in told)
    # A holder of both cases reads them in one digest: what each still owes is in it.
    said = json.dumps([n["data"] for n in told], ensure_ascii=False)
    assert "«сказали, что тариф стоит 5000, а выставили 7000»" in said
    assert "«Требуем компенсацию»" in said


def _owed_told(notice: dict[str, Any]) -> bool:
    return bool(notice["data"].get("change") == "client_says_fixed_owed")


def _follow_up_dates(bus: Bus, escalation_id: str) -> list[datetime | None]:
    """The dates the follow-ups to the client of new problems in the case said (None: none),
    alone or as a part of the message's client digest (the notifier sends a part whose id
    it has not sent before: the first notice's id is taken once)."""
    parts = [
        p
        for n in bus.of("notify.request")
        if n["recipient_role"] == "client_registered"
        for p in (n.get("parts") or [n])
        if str(p["escalation_id"]) == escalation_id
    ]
    first = {p["notification_id"] for p in parts if not p["data"].get("follow_up")}
    said = []
    for p in parts:
        if p["data"].get("follow_up"):
            assert p["notification_id"] not in first
            at = p["data"]["reply_by"] or p["data"]["ack_deadline"]
            said.append(datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None)
    return said


async def test_a_new_failure_after_the_client_was_answered_is_promised_anew(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Acceptance: after `careline client-reply` recorded the answer, a new failure in the
    open case told the client the staff's deadline, a date nobody tracked. The answered
    promise is over, not used up: the new failure is promised an answer, the sweeper keeps
    it, and the follow-up says that date."""
    nc, bus = watch
    policy = policy_file(tmp_path, follow_up_quiet="0m")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        holder = next(n for n in bus.of("notify.request") if n["recipient_role"] != "client")
        answered = RecordClientReply(
            command_id=uuid.uuid4(), escalation_id=escalation_id, actor=holder["recipient"]
        )
        assert (await ask(env, answered)).outcome == "recorded"
        again = legal_threat("А теперь ещё и личный кабинет выдаёт ошибку 500 после обновления.")
        await publish_verified(nc, again)
        (merged,) = await bus.wait("escalation.updated")
        await until(lambda: _follow_up_dates(bus, opened["escalation_id"]))

    assert merged["change"] == "merged"
    promised = datetime.fromisoformat(merged["client_reply_by"].replace("Z", "+00:00"))
    assert promised > datetime.fromisoformat(merged["ack_deadline"].replace("Z", "+00:00"))
    (row,) = await _promise(env, escalation_id)
    assert row["client_reply_by"] == promised  # the sweeper's to keep
    assert _follow_up_dates(bus, opened["escalation_id"]) == [promised]


async def test_a_new_failure_after_the_new_dates_ran_out_names_no_date(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    """Acceptance: once the automatic new dates were used up, a new failure in the open case
    told the client the staff's deadline, a date nobody tracked. Only a person answers
    now: the follow-up says the failure was added and names no date."""
    nc, bus = watch
    policy = quick_promises(tmp_path, client_reply_new_dates=0, follow_up_quiet="0m")
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env, ESCALATOR_POLICY=str(policy)))
        await publish_verified(nc, legal_threat("Вы обещали починить экспорт и не сделали."))
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])

        async def missed() -> bool:
            return len(await _missed(env, escalation_id)) == 1

        await until(missed, timeout=30)
        again = legal_threat("А теперь ещё и личный кабинет выдаёт ошибку 500 после обновления.")
        await publish_verified(nc, again)
        merged = await until_merged(bus)
        await until(lambda: _follow_up_dates(bus, opened["escalation_id"]))

    assert merged["client_reply_by"] is None
    (row,) = await _promise(env, escalation_id)
    assert row["client_reply_by"] is None
    assert _follow_up_dates(bus, opened["escalation_id"]) == [None]
    assert not [n for n in bus.of("notify.request") if n["kind"] == "promise_delay_notice"]


async def until_merged(bus: Bus) -> dict[str, Any]:
    async def merged() -> bool:
        return any(u["change"] == "merged" for u in bus.of("escalation.updated"))

    await until(merged, timeout=20)
    return next(u for u in bus.of("escalation.updated") if u["change"] == "merged")
