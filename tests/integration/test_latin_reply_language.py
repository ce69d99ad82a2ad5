"""A client writing Russian or Ukrainian in Latin letters ("au, vy tam zhivy? tretiy raz
pishu") is answered in that language, not in the English a language detector takes it for
(an acceptance run found the reply in English). The real escalator, PostgreSQL and NATS."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

import nats
import pytest

from tests.integration.conftest import Env
from tests.integration.escalator_harness import (
    Bus,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("privet, u nas opyat ne rabotaet eksport, tretiy den ne rabotaet", "ru"),
        ("dobryi den, u nas znovu ne pratsyuye eksport, tretii den ne pratsyuye", "uk"),
    ],
)
async def test_a_latin_letter_message_is_answered_in_its_own_language(
    env: Env, watch: tuple[nats.NATS, Bus], text: str, language: str
) -> None:
    nc, bus = watch
    verified = json.loads(legal_threat(text))
    verified["message"] |= {"language": "en", "channel": "chat", "subject": ""}
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, json.dumps(verified).encode())

        def to_client() -> list[dict[str, object]]:
            return [
                n
                for n in bus.of("notify.request")
                if str(n["recipient_role"]).startswith("client")
                and n["message_id"] == verified["message_id"]
            ]

        await until(lambda: to_client())
    assert {n["language"] for n in to_client()} == {language}
