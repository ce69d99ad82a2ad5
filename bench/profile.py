"""Where the CPU goes: each process's CPU time per message while the pipeline is saturated.

`python -m bench.profile [--seconds 20] [--spy DIR [--gil]]` starts the embedded stack and
the four services as `careline bench` does, loads the synthetic CRM, offers the benchmark's
mix with a bounded backlog, and over a window of `--seconds` reads from /proc each process's
CPU time (services, PostgreSQL, nats-server, the SMTP sink, this load generator; only the
processes this run started, see bench/cpu.py) and what each service committed. It prints
CPU milliseconds per message of each process and how busy the machine was. With `--spy DIR`
(py-spy installed beside Python, not a project dependency) it also samples every service
into DIR/<service>.txt (collapsed stacks, `py-spy -f raw`; with `--gil` only the samples
holding the GIL). Linux only. Everything started is stopped and its data removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
from sqlalchemy.ext.asyncio import create_async_engine

from bench.cpu import Watched, processes, seconds_now
from bench.crm import load_crm
from bench.run import (
    SCHEMAS,
    Settings,
    bounded_offer,
    committed_between,
    offered,
    publish_many,
    running_stack,
)
from bench.traffic import mix
from shared.runtime import SERVICES, Stack

WARM_UP_SECONDS = 3.0


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def measure(stack: Stack, seconds: float, spy: Path | None, gil: bool = False) -> None:
    crm = await load_crm(stack.env["DATABASE_URL"], 10_000)
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    engine = create_async_engine(stack.env["DATABASE_URL"])
    stop_at = time.monotonic() + WARM_UP_SECONDS + seconds + 1
    items = offered(mix(crm, run=f"profile-{int(time.time())}"), until=stop_at)
    gate = await bounded_offer(js, Settings().load_backlog, stop_at)
    offer = asyncio.create_task(publish_many(js, items, gate=gate))
    await asyncio.sleep(WARM_UP_SECONDS)
    watched = processes(stack)
    before = seconds_now(watched)
    busy_before, start = machine_busy(), datetime.now(UTC)
    samplers = start_samplers(spy, watched, seconds, gil) if spy is not None else []
    began = time.monotonic()
    await asyncio.sleep(seconds)
    window = time.monotonic() - began
    end, busy_after = datetime.now(UTC), machine_busy()
    after = seconds_now(watched)
    await asyncio.to_thread(lambda: [sampler.wait() for sampler in samplers])
    committed = await committed_between(engine, start, end)
    counts = {service: committed[schema] for service, schema in SCHEMAS.items()}
    await offer
    await engine.dispose()
    await nc.close()

    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    print(f"window {window:.1f} s; the machine was {100 * busy:.0f}% busy (all CPUs)")
    print("committed per second: " + ", ".join(f"{k} {v / window:.0f}" for k, v in counts.items()))
    decided = max(1, counts["escalator"])
    for name in watched:
        used = after[name] - before[name]
        own = counts.get(name, decided)
        per = "own message" if name in counts else "decided message"
        print(
            f"  {name:<15} {100 * used / window:5.1f}% of a CPU, "
            f"{1000 * used / max(1, own):5.2f} ms per {per}"
        )


def start_samplers(
    spy: Path, watched: dict[str, Watched], seconds: float, gil: bool = False
) -> list[subprocess.Popen[bytes]]:
    """py-spy on every service for the window: collapsed stacks in spy/<service>.txt."""
    spy.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).parent / "py-spy")
    samplers = []
    for name in SERVICES:
        argv = [py_spy, "record", "-p", str(watched[name].pids[0]), "-d", str(int(seconds))]
        argv += ["-r", "50", "--nonblocking", "-f", "raw", "-o", str(spy / f"{name}.txt")]
        # --gil: only samples where Python holds the GIL, i.e. the interpreter's own CPU,
        # not the time a thread waits in the event loop's select or on a socket.
        argv += ["--gil"] if gil else []
        samplers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
    return samplers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--spy", type=Path, default=None, help="py-spy samples into this folder")
    parser.add_argument(
        "--gil", action="store_true", help="with --spy: sample only threads holding the GIL"
    )
    args = parser.parse_args()
    with running_stack("careline-profile-") as (stack, _, _):
        asyncio.run(measure(stack, args.seconds, args.spy, args.gil))


if __name__ == "__main__":
    main()
