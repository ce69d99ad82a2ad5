"""Requesting `crm.confirm`: the reply that is an outcome, not JetStream's PubAck.

`crm.confirm` lies inside the CARELINE_CRM stream ("crm.>"), so JetStream stores the
request and answers it with a PubAck while the verifier answers with the outcome; both go
to the same inbox. A plain `nc.request` would return whichever came first.
"""

from __future__ import annotations

import asyncio
import json

import nats
from nats.aio.msg import Msg

from shared.contracts import ConfirmationOutcome, ConfirmChannel
from shared.subjects import CRM_CONFIRM


async def request_outcome(
    nats_url: str, request: ConfirmChannel, timeout: float
) -> ConfirmationOutcome:
    nc = await nats.connect(nats_url)
    try:
        inbox = nc.new_inbox()
        answer: asyncio.Future[ConfirmationOutcome] = asyncio.get_running_loop().create_future()

        async def on_reply(msg: Msg) -> None:
            try:
                data = json.loads(msg.data)
            except ValueError:
                return
            if isinstance(data, dict) and "outcome" in data and not answer.done():
                answer.set_result(ConfirmationOutcome.model_validate(data))

        sub = await nc.subscribe(inbox, cb=on_reply)
        await nc.publish(CRM_CONFIRM, request.model_dump_json().encode(), reply=inbox)
        try:
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"no verifier answered on {CRM_CONFIRM} within {timeout}s") from exc
        finally:
            await sub.unsubscribe()
    finally:
        await nc.close()
