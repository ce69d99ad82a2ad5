"""Latency at a chosen offered load, alone: `python -m bench.latency --rate 20 [--seconds 12]`.

`careline bench` measures latency at half the rate it just sustained; this measures it at
any rate, on a fresh embedded stack and the four services started as `careline bench`
starts them, after a warm-up of 300 messages (the first messages pay for imports, models
and prepared statements). It prints the same figures as the bench's latency phase, as
JSON: to the escalation decision, to the first notice sent, and by hop. Nothing is
written under bench/results/; everything started is stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import nats

from bench.crm import load_crm
from bench.run import latency, offered, publish_many, running_stack
from bench.traffic import mix
from shared.runtime import Stack

WARM_UP_MESSAGES = 300


async def measure(stack: Stack, rate: float, seconds: float) -> dict[str, Any]:
    crm = await load_crm(stack.env["DATABASE_URL"], 10_000)
    nc = await nats.connect(stack.env["NATS_URL"])
    js = nc.jetstream()
    await publish_many(js, offered(mix(crm, run="warm-up", seed=5), at_most=WARM_UP_MESSAGES))
    await nc.close()
    return await latency(stack, crm, rate, seconds)  # it waits for the warm-up to settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, required=True, help="messages per second")
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    with running_stack("careline-latency-") as (stack, _, _):
        result = asyncio.run(measure(stack, args.rate, args.seconds))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
