"""A realistic mix of inbound messages: corpus texts, a third neutral, email and chat."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench.crm import Sender, SyntheticCrm
from shared.contracts import message_id_of

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "classify-dev.jsonl"

# Our own messages, so the mix does not rest on the dev corpus alone.
OWN_NEUTRAL = [
    "Подскажите, как выгрузить отчёт по звонкам за прошлый месяц в Excel?",
    "Добрий день! Як додати нового користувача до нашого акаунта?",
    "Hi, could you tell me where to change the invoice address for next month?",
    "Спасибо, всё заработало после обновления. Хорошего дня!",
    "Чи можна перенести дзвінок з менеджером на четвер о 15:00?",
    "Can I get the API rate limits for the business plan?",
]
OWN_SIGNALS = [
    "Если до понедельника не вернёте деньги, я подам на вас в суд.",
    "Вы там совсем идиоты? Третий раз одно и то же, х*р дождёшься от вас ответа!",
    "Ми вже оплатили рахунок № 5521, а ви погрожуєте призупинити акаунт!",
    "You promised the fix by Friday and it is still broken. We will cancel our subscription.",
    "ДОПОМОЖІТЬ!!! Все зникло з кабінету, я в паніці!",
    "I'll post reviews everywhere and tell everyone what a scam this is.",
]


def _corpus() -> tuple[list[str], list[str]]:
    neutral, signals = list(OWN_NEUTRAL), list(OWN_SIGNALS)
    if CORPUS.exists():
        for line in CORPUS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                (signals if item["labels"] else neutral).append(item["text"])
    return neutral, signals


def _sender(crm: SyntheticCrm, rng: random.Random) -> Sender:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(crm.verified)
    if roll < 0.7:
        return rng.choice(crm.probable)
    return rng.choice(crm.unknown)


def _email(external_id: str, sender: Sender, text: str) -> str:
    msg = EmailMessage()
    msg["From"] = f"{sender.name} <{sender.email}>"
    msg["To"] = "support@careline.example"
    msg["Subject"] = "Обращение"
    msg["Message-ID"] = f"<{external_id}>"
    msg.set_content(text)
    return msg.as_string()


def mix(crm: SyntheticCrm, run: str, seed: int = 11) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Endless (subject, message id, payload) for inbound messages."""
    rng = random.Random(seed)
    neutral, signals = _corpus()
    i = 0
    while True:
        text = rng.choice(neutral) if rng.random() < 1 / 3 else rng.choice(signals)
        sender = _sender(crm, rng)
        external_id = f"bench-{run}-{i}@bench.example"
        if rng.random() < 0.5:
            payload: dict[str, Any] = {
                "channel": "email",
                "raw_email": _email(external_id, sender, text),
            }
            yield "inbound.email", str(message_id_of("email", external_id)), payload
        else:
            payload = {
                "channel": "chat",
                "external_id": external_id,
                "sender": {"email": sender.email, "display_name": sender.name},
                "text": text,
            }
            yield "inbound.chat", str(message_id_of("chat", external_id)), payload
        i += 1


def texts() -> list[str]:
    neutral, signals = _corpus()
    return neutral + signals
