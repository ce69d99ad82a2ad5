"""Client CPU per call of the verifier's CRM lookups, on the benchmark's synthetic CRM.

`python -m bench.lookups [--calls 1500] [--customers 10000]` starts the embedded servers (as
`careline bench` does, without the services; its own always, whatever NATS_URL and
DATABASE_URL say), loads the synthetic CRM, and calls the verifier's `SqlCrmDirectory`
lookups one at a time in one transaction, each for one customer or sender picked at random.
It prints the CPU time of this process per call: the client's side (building, compiling,
binding, reading rows into facts), which is what a lookup costs the verifier's process;
PostgreSQL's own time is not in it. Three rounds, so the spread shows. Everything started is
stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench.crm import load_crm
from bench.run import running_servers
from services.verifier.adapters import SqlCrmDirectory
from services.verifier.matching import channel_key

ROUNDS = 3
WARM_UP_CALLS = 100


async def measure(database_url: str, customers: int, calls: int) -> dict[str, list[float]]:
    crm = await load_crm(database_url, customers)
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with engine.connect() as conn:
        ids = [row[0] for row in await conn.execute(text("SELECT id FROM crm.customers"))]
    senders = [s.email for s in crm.verified]
    rng = random.Random(1)
    lookups: dict[str, Callable[[SqlCrmDirectory], Awaitable[object]]] = {
        "customer_facts (one customer)": lambda d: d.customer_facts([rng.choice(ids)]),
        "channels_on_file (one email)": lambda d: d.channels_on_file(
            [("email", channel_key("email", rng.choice(senders)))]
        ),
    }
    found: dict[str, list[float]] = {name: [] for name in lookups}
    try:
        for _ in range(ROUNDS):
            for name, lookup in lookups.items():
                async with sessions() as session, session.begin():
                    directory = SqlCrmDirectory(session)
                    for _ in range(WARM_UP_CALLS):
                        await lookup(directory)
                    started = time.process_time()
                    for _ in range(calls):
                        await lookup(directory)
                    found[name].append(1000 * (time.process_time() - started) / calls)
    finally:
        await engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    # Its own servers always: the synthetic CRM is loaded into the database it measures.
    environ = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    with running_servers("careline-lookups-", environ) as (stack, _, _):
        found = asyncio.run(measure(stack.env["DATABASE_URL"], args.customers, args.calls))
    print(f"client CPU per call, {args.calls} calls per round, CRM of {args.customers:,}:")
    for name, per_call in found.items():
        print(f"  {name}: " + " / ".join(f"{ms:.3f}" for ms in per_call) + " ms")


if __name__ == "__main__":
    main()
