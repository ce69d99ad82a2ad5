"""Latency at a chosen offered load, alone: `python -m bench.latency --rate 20 [--seconds 12]`.

`careline bench` measures latency at half the rate it just sustained; this measures it at
any rate, on a fresh embedded stack and the four services started as `careline bench`
starts them, after a warm-up of 300 messages (the first messages pay for imports, models
and prepared statements). It prints the same figures as the bench's latency phase, as
JSON: to the escalation decision, to the first notice sent, and by hop. With `--cpu` (Linux)
it adds each process's CPU milliseconds per message offered (services, PostgreSQL,
nats-server, the SMTP sink, this load generator, and `all`), from the settled start to the
last notice sent: how the cost per message changes with the load (batches amortize only
what arrives together). With `--spy DIR [--gil]` (py-spy installed beside Python, as for
`bench.profile`) it samples every service while the load is offered, into
DIR/<service>.txt: where a message's CPU goes at this load rather than at saturation (at
half load most messages commit alone). Nothing is written under bench/results/;
everything started is stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import nats

from bench.cpu import cpu_reader, processes
from bench.crm import load_crm
from bench.profile import start_samplers
from bench.run import latency, offered, publish_many, running_stack
from bench.traffic import mix
from shared.runtime import Stack

WARM_UP_MESSAGES = 300


async def measure(
    stack: Stack, rate: float, seconds: float, cpu: bool, spy: Path | None = None, gil: bool = False
) -> dict[str, Any]:
    crm = await load_crm(stack.env["DATABASE_URL"], 10_000)
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    await publish_many(js, offered(mix(crm, run="warm-up", seed=5), at_most=WARM_UP_MESSAGES))
    await nc.close()
    # It waits for the warm-up to settle before it offers, and before it reads the CPU.
    samplers: list[subprocess.Popen[bytes]] = []

    def sample() -> None:
        if spy is not None:
            samplers.extend(start_samplers(spy, processes(stack), seconds, gil))

    try:
        return await latency(stack, crm, rate, seconds, cpu_reader(stack) if cpu else None, sample)
    finally:
        await asyncio.to_thread(lambda: [sampler.wait() for sampler in samplers])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, required=True, help="messages per second")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--cpu", action="store_true", help="CPU per message of each process")
    parser.add_argument("--spy", type=Path, default=None, help="py-spy samples into this folder")
    parser.add_argument(
        "--gil", action="store_true", help="with --spy: sample only threads holding the GIL"
    )
    args = parser.parse_args()
    with running_stack("careline-latency-") as (stack, _, _):
        result = asyncio.run(measure(stack, args.rate, args.seconds, args.cpu, args.spy, args.gil))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
