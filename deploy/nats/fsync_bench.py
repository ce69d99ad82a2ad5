"""What `sync_interval: always` costs: JetStream publish throughput with and without it.

    .venv/bin/python deploy/nats/fsync_bench.py [--messages 3000] [--size 1024]

One nats-server from the wheel per mode (a single node, replicas 1, a temporary store on
this machine's disk), 1 KiB messages: acknowledged publishes one at a time, then 64 in
flight. A cluster adds a network round trip and fsyncs on a quorum of nodes, so it is
slower in both modes; the end-to-end figure is the benchmark's (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import nats
from nats.js.api import StreamConfig

from shared.embedded import ManagedProcess, _bin, free_port, port_open, wait_until

WINDOW = 64


async def measure(port: int, messages: int, size: int) -> tuple[float, float]:
    nc = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="BENCH", subjects=["bench.>"]))
        data = b"x" * size
        sequential = max(messages // 6, 100)
        started = time.perf_counter()
        for _ in range(sequential):
            await js.publish("bench.one", data)
        one_by_one = sequential / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(0, messages, WINDOW):
            await asyncio.gather(*(js.publish("bench.many", data) for _ in range(WINDOW)))
        in_flight = messages / (time.perf_counter() - started)
        return one_by_one, in_flight
    finally:
        await nc.close()


def run(mode: str, messages: int, size: int, base: Path) -> tuple[float, float]:
    store = base / mode
    store.mkdir()
    sync = "sync_interval: always" if mode == "always" else ""
    config = base / f"{mode}.conf"
    port = free_port()
    config.write_text(
        f"port: {port}\nhost: 127.0.0.1\njetstream {{\n  store_dir: {store}\n  {sync}\n}}\n"
    )
    proc = ManagedProcess.spawn(
        mode, [_bin("nats-server"), "-c", str(config)], base / f"{mode}.log"
    )
    try:
        wait_until(lambda: port_open(port), 20, "nats-server", proc)
        return asyncio.run(measure(port, messages, size))
    finally:
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        for mode in ("default", "always"):
            one, many = run(mode, args.messages, args.size, Path(tmp))
            print(
                f"sync_interval {mode:<8} one at a time {one:8.0f} msg/s   "
                f"{WINDOW} in flight {many:8.0f} msg/s"
            )


if __name__ == "__main__":
    main()
