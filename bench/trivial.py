"""The ceiling: trivial FastStream JetStream consumers (parse, publish with ack, ack).

`faststream run bench.trivial:build_hop --factory` with BENCH_HOP=1..3 and BENCH_HOPS=1 or 3:
hop i consumes bench.hop<i> and, unless it is the last, publishes to bench.hop<i+1>.
Same delivery contract as the services (durable pull consumer, explicit ack), no database.
"""

from __future__ import annotations

import os
import uuid

from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from pydantic import BaseModel

STREAM = "BENCH_CEILING"


class Ping(BaseModel):
    id: uuid.UUID
    n: int
    text: str


def build_hop() -> FastStream:
    hop = int(os.environ["BENCH_HOP"])
    hops = int(os.environ["BENCH_HOPS"])
    broker = NatsBroker(os.environ["NATS_URL"], log_level=30)
    subject = f"bench.hop{hop}"
    durable = f"bench-hop{hop}"

    @broker.subscriber(
        subject,
        stream=JStream(STREAM, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=100, timeout=1.0),
        config=ConsumerConfig(durable_name=durable, filter_subject=subject, max_deliver=5),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def handle(body: Ping) -> None:
        if hop < hops:
            await broker.publish(
                body,
                f"bench.hop{hop + 1}",
                headers={"Nats-Msg-Id": f"{body.id}-{hop + 1}"},
                stream=STREAM,
            )

    return FastStream(broker)
