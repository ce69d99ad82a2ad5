"""The whole system as `careline up` runs it: separate processes, embedded servers."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.demo import load_stories
from shared.embedded import free_port
from shared.smtp_sink import read_mail_index
from shared.telemetry import read_spans, traces_of_message

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
HTTP_SERVICES = ("INTAKE", "VERIFIER", "ESCALATOR", "NOTIFIER")
E2E_TOKEN = "e2e-token-not-a-secret"


@dataclass
class System:
    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    output: list[str]
    var_dir: Path
    nats_url: str
    database_url: str

    def pids(self) -> list[int]:
        found = []
        for line in self.output:
            parts = line.split()
            if len(parts) > 2 and parts[1] == "pid":
                found.append(int(parts[2]))
        return found


def _env(ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL", "SMTP_HOST")
    }
    env.update({f"CARELINE_{k}_PORT": str(v) for k, v in ports.items()})
    env["PYTHONUNBUFFERED"] = "1"
    env["CARELINE_INTAKE_TOKENS"] = json.dumps({"e2e-publisher": E2E_TOKEN})
    return env


def start_system(var_dir: Path, ports: dict[str, int], timeout: float = 90) -> System:
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "up", "--var-dir", str(var_dir)],
        cwd=REPO,
        env=_env(ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(line.startswith("Try: careline demo") for line in output):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("careline up did not start:\n" + "\n".join(output))
        with contextlib.suppress(queue.Empty):
            output.append(lines.get(timeout=0.5))
    return System(
        process,
        lines,
        output,
        var_dir,
        f"nats://127.0.0.1:{ports['NATS']}",
        f"postgresql+asyncpg://careline@127.0.0.1:{ports['PG']}/careline",
    )


def stop_system(system: System) -> None:
    """Ctrl-C: everything stops, and no process of the run is left behind."""
    children = [psutil.Process(pid) for pid in system.pids() if psutil.pid_exists(pid)]
    system.process.send_signal(signal.SIGINT)
    assert system.process.wait(timeout=60) == 0
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"orphans left: {alive}"


def system_ports() -> dict[str, int]:
    names = ["NATS", "NATS_MONITOR", "PG", "SMTP", *(f"{n}_HTTP" for n in HTTP_SERVICES)]
    return {name: free_port() for name in names}


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return system_ports()


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, ports: dict[str, int]) -> Iterator[System]:
    var_dir = tmp_path_factory.mktemp("system") / "var"
    running = start_system(var_dir, ports)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            stop_system(running)


async def _publish_and_watch(
    nats_url: str, payload: bytes, subjects: list[str], until: int, timeout: float = 60
) -> list[tuple[str, dict]]:
    import nats

    nc = await nats.connect(nats_url)
    seen: list[tuple[str, dict]] = []

    async def record(msg) -> None:  # type: ignore[no-untyped-def]
        seen.append((msg.subject, json.loads(msg.data)))

    for subject in subjects:
        await nc.subscribe(subject, cb=record)
    await nc.jetstream().publish("inbound.email", payload)
    deadline = time.monotonic() + timeout
    while sum(s.startswith("notify.sent") for s, _ in seen) < until:
        assert time.monotonic() < deadline, f"only saw {[s for s, _ in seen]}"
        await asyncio.sleep(0.1)
    await nc.close()
    return seen


async def _rows(database_url: str, sql: str) -> list[dict]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(text(sql))).mappings()]
    finally:
        await engine.dispose()


def careline(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`careline ARGS` as an operator runs it against the system (`env`: where it is); it
    must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_seed_000_end_to_end(system: System) -> None:
    raw = load_stories()[0]["messages"][0]
    seen = asyncio.run(
        _publish_and_watch(
            system.nats_url,
            json.dumps(raw).encode(),
            ["message.>", "escalation.>", "notify.>"],
            # Staff: billing, and the account manager once for both escalations; the
            # client: the confirmation, the explanation, the billing answer (one held).
            until=5,
        )
    )
    (verified,) = [e for s, e in seen if s == "message.verified"]
    identity = verified["identity"]
    message_id = verified["message_id"]
    assert identity["status"] == "probable"
    assert identity["customer"]["id"] == "cust-stroymontazh"
    assert identity["account_manager"]["email"] == "o.petrova@careline.example"
    assert any(e["kind"] == "corporate_domain" for e in identity["evidence"])
    kinds = sorted(e["kind"] for s, e in seen if s == "escalation.opened")
    assert kinds == ["billing", "identity_confirmation"]

    # Database rows, each in its owning service's schema.
    decision = asyncio.run(_rows(system.database_url, "SELECT * FROM crm.identity_decisions"))
    assert [d["status"] for d in decision] == ["probable"]
    escalations = asyncio.run(_rows(system.database_url, "SELECT * FROM escalator.escalations"))
    assert {e["customer_id"] for e in escalations} == {"cust-stroymontazh"}
    # Everything went out but the billing answer to the CEO: held until he is confirmed.
    all_rows = "SELECT * FROM notifier.notifications"
    deadline = time.monotonic() + 30
    sent = asyncio.run(_rows(system.database_url, all_rows))
    while not any(n["status"] == "held" for n in sent):
        assert time.monotonic() < deadline, f"no held answer: {sent}"
        time.sleep(0.2)
        sent = asyncio.run(_rows(system.database_url, all_rows))
    (held,) = [n for n in sent if n["status"] == "held"]
    assert (held["kind"], held["recipient"]) == ("billing_dispute_ack", "a.sokolov@stroymontazh.ru")
    assert str(held["held_for_confirmation"]) == identity["confirmation"]["confirmation_id"]
    assert {n["status"] for n in sent if n is not held} == {"sent"}

    # The captured mail: confirmation to the registered address, never to the unknown one.
    mails = read_mail_index(system.var_dir / "mail")
    by_kind: dict[str, list[list[str]]] = {}
    for mail in mails:
        by_kind.setdefault(mail["kind"], []).append(mail["rcpt_tos"])
    assert by_kind["identity_confirmation"] == [["buh@stroymontazh.ru"]]
    assert by_kind["unknown_sender_explanation"] == [["a.sokolov@stroymontazh.ru"]]
    # One mail to the account manager for both escalations of the message.
    assert by_kind["staff_digest"] == [["o.petrova@careline.example"]]
    assert by_kind["manager_escalation"] == [["billing@careline.example"]]
    for mail in mails:
        if "a.sokolov@stroymontazh.ru" in mail["rcpt_tos"]:
            assert mail["kind"] == "unknown_sender_explanation"

    # One trace spans intake, verifier, escalator and notifier (following the link below
    # is another request, with a trace of its own).
    deadline = time.monotonic() + 20
    while True:
        spans = read_spans(system.var_dir / "traces")
        trace_ids = traces_of_message(spans, message_id)
        services = {s["service"] for s in spans if s["trace_id"] in trace_ids}
        if services >= {"intake", "verifier", "escalator", "notifier"}:
            break
        assert time.monotonic() < deadline, f"spans only from {services}"
        time.sleep(0.2)
    assert len(trace_ids) == 1

    # The confirmation link in that mail works once, and verifies the CEO's address.
    (confirmation,) = [m for m in mails if m["kind"] == "identity_confirmation"]
    raw = (system.var_dir / "mail" / confirmation["file"]).read_bytes()
    body = email.message_from_bytes(raw, policy=email.policy.default)
    text_part = body.get_body(preferencelist=("plain",))
    assert text_part is not None
    (link,) = re.findall(r"https?://\S+/v1/confirm/\S+", text_part.get_content())
    first, second = httpx.get(link, timeout=10), httpx.get(link, timeout=10)
    assert first.status_code == 200 and first.json()["outcome"] == "confirmed"
    assert second.json()["outcome"] == "already_confirmed"
    channels = asyncio.run(
        _rows(
            system.database_url,
            "SELECT verified, source FROM crm.contact_channels "
            "WHERE address = 'a.sokolov@stroymontazh.ru'",
        )
    )
    assert channels == [{"verified": True, "source": "confirmation"}]

    # ... and releases the held billing answer to it, once.
    sql = (
        "SELECT status, released_at, sent_at FROM notifier.notifications "
        f"WHERE notification_id = '{held['notification_id']}'"
    )
    deadline = time.monotonic() + 30
    while (row := asyncio.run(_rows(system.database_url, sql))[0])["status"] != "sent":
        assert time.monotonic() < deadline, f"the held answer was not sent: {row}"
        time.sleep(0.2)
    assert row["released_at"] <= row["sent_at"]
    to_ceo = [
        m["kind"]
        for m in read_mail_index(system.var_dir / "mail")
        if "a.sokolov@stroymontazh.ru" in m["rcpt_tos"]
    ]
    assert sorted(to_ceo) == ["billing_dispute_ack", "unknown_sender_explanation"]


@pytest.fixture
def fresh_system(tmp_path: Path) -> Iterator[System]:
    running = start_system(tmp_path / "var", system_ports())
    try:
        yield running
    finally:
        stop_system(running)


def test_demo_prints_every_story(fresh_system: System) -> None:
    system = fresh_system
    result = careline("demo", env={"NATS_URL": system.nats_url}, timeout=120)
    out = result.stdout
    for story in ("000", "001", "002", "003"):
        assert f"== Story {story}" in out
    story_000 = out.split("== Story 001")[0]
    assert "identity: probable" in story_000
    assert "ООО «СтройМонтаж»" in story_000
    assert "identity_confirmation -> client_registered buh@stroymontazh.ru" in story_000
    assert "account_manager o.petrova@careline.example" in story_000
    assert (
        "billing_dispute_ack -> client_sender a.sokolov@stroymontazh.ru (unverified, account "
        "content): held until the address is confirmed" in story_000
    )
    assert "legal_threat" in out and "abuse" in out
    # Seed 002, "another manager did it for free": the client hears when we answer.
    story_002 = out.split("== Story 002")[1].split("== Story 003")[0]
    assert "request_ack -> client_registered o.shevchuk@kvitka.ua" in story_002
    # Seed 003: under the threats hold nothing promises the blackmailer an answer.
    assert "request_ack" not in out.split("== Story 003")[1]


def test_send_publishes_an_email_source_file(system: System, tmp_path: Path) -> None:
    eml = tmp_path / "complaint.eml"
    eml.write_text(
        "From: James Miller <j.miller@northwind-logistics.com>\n"
        "To: support@careline.example\nSubject: Lawsuit\n"
        "Message-ID: <send-cli-test@northwind-logistics.com>\n\n"
        "If this is not fixed by Monday, we will take legal action against you.\n",
        encoding="utf-8",
    )
    careline("send", "--file", str(eml), env={"NATS_URL": system.nats_url}, timeout=60)
    sql = (
        "SELECT kind, identity_status FROM escalator.escalations e JOIN "
        "escalator.escalation_timeline t ON t.escalation_id = e.id WHERE e.kind = 'legal' "
        "AND e.customer_id = 'cust-northwind'"
    )
    deadline = time.monotonic() + 30
    while not (rows := asyncio.run(_rows(system.database_url, sql))):
        assert time.monotonic() < deadline, "no legal escalation for the sent email"
        time.sleep(0.2)
    assert rows[0]["identity_status"] == "verified"


def test_send_says_which_message_it_published(system: System) -> None:
    """A message typed on the command line gets an id of its own; the command prints
    intake's id for it, so it can be traced."""
    result = careline(
        "send",
        "--from-handle",
        "@cli",
        "--text",
        "Привет",
        env={"NATS_URL": system.nats_url},
        timeout=60,
    )
    (message_id,) = re.findall(r"message ([0-9a-f-]{36}): careline trace \1", result.stdout)
    sql = f"SELECT 1 FROM intake.messages WHERE message_id = '{message_id}'"
    deadline = time.monotonic() + 30
    while not asyncio.run(_rows(system.database_url, sql)):
        assert time.monotonic() < deadline, "intake has no message by the printed id"
        time.sleep(0.2)


def test_every_service_answers_health_and_intake_accepts_http(
    system: System, ports: dict[str, int]
) -> None:
    import httpx

    for name in HTTP_SERVICES:
        base = f"http://127.0.0.1:{ports[name + '_HTTP']}"
        assert httpx.get(f"{base}/health/live", timeout=5).json()["status"] == "live"
        ready = httpx.get(f"{base}/health/ready", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"broker": "ok", "database": "ok"}
        assert any(base in line for line in system.output), f"{name} address not printed"

    intake = f"http://127.0.0.1:{ports['INTAKE_HTTP']}/v1/inbound/chat"
    message = {
        "sender": {"handle": "@e2e_http_client"},
        "text": "Здравствуйте! Счёт № 9911 оплачен, а доступ закрыт.",
        "external_id": "e2e-http-1",
    }
    auth = {"Authorization": f"Bearer {E2E_TOKEN}"}
    first = httpx.post(intake, json=message, headers=auth, timeout=10)
    again = httpx.post(intake, json=message, headers=auth, timeout=10)
    assert first.status_code == again.status_code == 202
    assert first.json()["message_id"] == again.json()["message_id"]
    assert again.json()["duplicate"] is True
    assert httpx.post(intake, json=message, timeout=10).status_code == 401

    sql = (
        "SELECT count(*) AS n FROM intake.messages "
        f"WHERE message_id = '{first.json()['message_id']}'"
    )
    deadline = time.monotonic() + 30
    while asyncio.run(_rows(system.database_url, sql))[0]["n"] != 1:
        assert time.monotonic() < deadline, "the HTTP message was not normalized"
        time.sleep(0.2)


def test_restart_reuses_the_data(system: System, ports: dict[str, int]) -> None:
    before = asyncio.run(_rows(system.database_url, "SELECT id FROM escalator.escalations"))
    assert before
    stop_system(system)
    again = start_system(system.var_dir, ports)
    try:
        result = careline(
            "escalations", "--limit", "500", env={"DATABASE_URL": again.database_url}, timeout=60
        )
        assert "identity_confirmation" in result.stdout
        after = asyncio.run(_rows(again.database_url, "SELECT id FROM escalator.escalations"))
        assert {r["id"] for r in before} <= {r["id"] for r in after}
    finally:
        stop_system(again)
