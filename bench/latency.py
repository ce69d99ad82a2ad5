"""Latency at a chosen offered load, alone: `python -m bench.latency --rate 20 [--seconds 12]`.

`careline bench` measures latency at half the rate it just sustained; this measures it at
any rate, on a fresh embedded stack and the four services started as `careline bench`
starts them, after a warm-up of 300 messages (the first messages pay for imports, models
and prepared statements). It prints the same figures as the bench's latency phase, as
JSON: to the escalation decision, to the first notice sent, and by hop. With `--cpu` (Linux)
it adds each process's CPU milliseconds per message offered (services, PostgreSQL,
nats-server, the SMTP sink, this load generator, and `all`), from the settled start to the
last notice sent: how the cost per message changes with the load (batches amortize only
what arrives together). Nothing is written under bench/results/; everything started is
stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import nats

from bench.cpu import cpu_reader
from bench.crm import load_crm
from bench.run import latency, offered, publish_many, running_stack
from bench.traffic import mix
from shared.runtime import Stack

WARM_UP_MESSAGES = 300


async def measure(stack: Stack, rate: float, seconds: float, cpu: bool) -> dict[str, Any]:
    crm = await load_crm(stack.env["DATABASE_URL"], 10_000)
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    await publish_many(js, offered(mix(crm, run="warm-up", seed=5), at_most=WARM_UP_MESSAGES))
    await nc.close()
    # It waits for the warm-up to settle before it offers, and before it reads the CPU.
    return await latency(stack, crm, rate, seconds, cpu_reader(stack) if cpu else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, required=True, help="messages per second")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--cpu", action="store_true", help="CPU per message of each process")
    args = parser.parse_args()
    with running_stack("careline-latency-") as (stack, _, _):
        result = asyncio.run(measure(stack, args.rate, args.seconds, args.cpu))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
