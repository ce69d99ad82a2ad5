"""The confirmation loop on real NATS and PostgreSQL: by reply with the code, by signed link."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
import pytest
from faststream._internal.testing.app import TestApp

from services.notifier.domain import render
from services.verifier.app import build_app as build_verifier
from services.verifier.request import request_outcome
from services.verifier.settings import VerifierSettings
from shared.contracts import (
    AuthResults,
    ConfirmChannel,
    MessageNormalized,
    SenderIdentifiers,
)
from shared.settings import CarelineSettings
from tests.integration.conftest import Env, count, rows
from tests.unit.test_notification_rendering import command

pytestmark = pytest.mark.integration
BASE_URL = "https://support.example/v1/confirm"
UNCLEAR = "confirmation_unclear"


class Seen:
    def __init__(self) -> None:
        self.by_subject: dict[str, list[dict[str, Any]]] = {}

    async def wait(self, subject: str, n: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.by_subject.get(subject, [])) < n:
            assert time.monotonic() < deadline, f"waited for {n} on {subject}: {self.by_subject}"
            await asyncio.sleep(0.05)
        return self.by_subject[subject]


@pytest.fixture
async def verifier(env: Env) -> AsyncIterator[tuple[Any, nats.NATS, Seen]]:
    settings = VerifierSettings(
        **env.base(),
        CARELINE_DEMO_CRM=True,
        CARELINE_CONFIRMATION_SECRET="integration-secret",
        VERIFIER_CONFIRMATION_BASE_URL=BASE_URL,
    )
    app = build_verifier(settings)
    nc = await nats.connect(env.servers.nats_url)
    seen = Seen()

    async def record(msg: Any) -> None:
        seen.by_subject.setdefault(msg.subject, []).append(json.loads(msg.data))

    for subject in ("message.verified", "crm.channel.confirmed", "crm.confirmation.denied"):
        await nc.subscribe(subject, cb=record)
    try:
        async with TestApp(app):
            yield app, nc, seen
    finally:
        await nc.close()


def message(
    email: str, text: str = "Объясните причину отключения.", quoted: str = "", name: str = ""
) -> MessageNormalized:
    now = datetime.now(UTC)
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id=f"corr-{uuid.uuid4()}",
        occurred_at=now,
        channel="email",
        sender=SenderIdentifiers(email=email, display_name=name or None),
        text=text,
        quoted_text=quoted,
        signature=f"С уважением,\n{name}\nООО «СтройМонтаж»" if name else "",
        thread_id="t",
        external_id=f"ext-{uuid.uuid4()}",
        auth=AuthResults(spf="pass", dkim="pass", dmarc="pass"),
        received_at=now,
    )


async def send(nc: nats.NATS, msg: MessageNormalized) -> None:
    await nc.jetstream().publish(
        "message.normalized",
        msg.model_dump_json().encode(),
        headers={"Nats-Msg-Id": str(msg.event_id)},
    )


async def identity_of(seen: Seen, msg: MessageNormalized) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        for event in seen.by_subject.get("message.verified", []):
            if event["message_id"] == str(msg.message_id):
                return event["identity"]  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, "no message.verified"
        await asyncio.sleep(0.05)


async def test_reply_with_the_code_from_the_registered_address_verifies_the_new_one(
    env: Env, verifier
) -> None:
    _, nc, seen = verifier
    ceo = message("a.sokolov@stroymontazh.ru", name="Андрей Соколов")
    await send(nc, ceo)
    identity = await identity_of(seen, ceo)
    assert identity["status"] == "probable"
    assert identity["contact"]["id"] == "ct-sokolov"
    confirmation = identity["confirmation"]
    assert confirmation["code"].startswith("OK-")
    assert confirmation["url"].startswith(BASE_URL + "/")

    # The CEO writes again before anyone answered: the same request still holds.
    again = message("a.sokolov@stroymontazh.ru", name="Андрей Соколов")
    await send(nc, again)
    assert (await identity_of(seen, again))["confirmation"]["code"] == confirmation["code"]

    # The accountant answers from the registered address; the code is in the quoted text.
    reply = message(
        "buh@stroymontazh.ru",
        text="Подтверждаю, это наш директор.",
        quoted=f"> Код подтверждения: {confirmation['code'].lower()}",
    )
    await send(nc, reply)
    (confirmed,) = await seen.wait("crm.channel.confirmed")
    assert confirmed["message_id"] == str(ceo.message_id)
    assert confirmed["correlation_id"] == ceo.correlation_id
    assert confirmed["contact_id"] == "ct-sokolov"
    assert confirmed["via"] == "reply"
    # The reply is the registered contact answering, no news of a case (the escalator tells
    # the holders from the outcome, not from the reply).
    answer = await identity_of(seen, reply)
    assert answer["status"] == "verified"
    (verified_reply,) = [
        e for e in seen.by_subject["message.verified"] if e["message_id"] == str(reply.message_id)
    ]
    assert verified_reply["answers_confirmations"] == [confirmation["confirmation_id"]]
    assert all(
        e["answers_confirmations"] == []
        for e in seen.by_subject["message.verified"]
        if e["message_id"] != str(reply.message_id)
    )
    assert confirmed["channel"] == {
        "kind": "email",
        "address": "a.sokolov@stroymontazh.ru",
        "verified": True,
    }
    servers = env.servers
    assert (
        await count(
            servers,
            "SELECT count(*) FROM crm.contact_channels WHERE contact_id = 'ct-sokolov' AND "
            "address = 'a.sokolov@stroymontazh.ru' AND verified AND source = 'confirmation'",
        )
        == 1
    )
    assert (
        await count(
            servers,
            "SELECT count(*) FROM crm.confirmations WHERE status = 'confirmed' AND "
            "resolved_via = 'reply' AND resolved_at IS NOT NULL AND requested_at IS NOT NULL",
        )
        == 1
    )
    entries = await count(
        servers,
        "SELECT count(DISTINCT entry) FROM crm.confirmation_log WHERE confirmation_id "
        f"= '{confirmation['confirmation_id']}' AND entry IN ('requested', 'confirmed')",
    )
    assert entries == 2

    # From now on the CEO's own address is verified.
    later = message("a.sokolov@stroymontazh.ru", name="Андрей Соколов")
    await send(nc, later)
    verified = await identity_of(seen, later)
    assert verified["status"] == "verified"
    assert verified["disclosure"] == "account"

    # The demo CRM reloaded at the next start keeps what the client confirmed.
    assert (
        await count(
            servers, "SELECT count(*) FROM crm.contact_channels WHERE source = 'confirmation'"
        )
        == 1
    )


async def test_a_reply_that_says_it_was_not_them_denies(env: Env, verifier) -> None:
    _, nc, seen = verifier
    stranger = message("director@stroymontazh.ru")
    await send(nc, stranger)
    code = (await identity_of(seen, stranger))["confirmation"]["code"]
    await send(nc, message("buh@stroymontazh.ru", text=f"Это не мы! {code}"))

    (denied,) = await seen.wait("crm.confirmation.denied")
    assert denied["message_id"] == str(stranger.message_id)
    assert "crm.channel.confirmed" not in seen.by_subject
    assert (
        await count(
            env.servers,
            "SELECT count(*) FROM crm.contact_channels WHERE address = 'director@stroymontazh.ru'",
        )
        == 0
    )


@pytest.mark.parametrize(
    "answer",
    [
        "Мы ничего не просили менять! Это мошенники.",
        "Ні, ми нічого не просили",
        "We never requested any change.",
    ],
)
async def test_the_registered_contact_answering_the_warning_in_its_own_words_denies(
    env: Env, verifier, answer: str
) -> None:
    """Review: a reply to the payment-details warning carries the code in "Re: …" and in
    the quoted request; "мы ничего не просили" was no denial, so the code alone confirmed
    the forger's address as the client's."""
    _, nc, seen = verifier
    forger = message("director@stroymontazh.ru")
    await send(nc, forger)
    code = (await identity_of(seen, forger))["confirmation"]["code"]
    reply = message("buh@stroymontazh.ru", text=answer, quoted=f"> код {code}")
    await send(nc, reply.model_copy(update={"subject": f"Re: просят сменить реквизиты ({code})"}))

    (denied,) = await seen.wait("crm.confirmation.denied")
    assert denied["message_id"] == str(forger.message_id)
    assert "crm.channel.confirmed" not in seen.by_subject


@pytest.mark.parametrize(
    ("claimed", "answer"),
    [
        ("Игорь Белов", "Это не мы, никакого Игоря Белова у нас нет."),
        ("Ігор Бєлов", "Це не ми, жодного Ігоря Бєлова у нас немає."),
        ("Rachel White", "Not us: nobody called Rachel White works here."),
    ],
)
async def test_a_fresh_mail_from_the_registered_contact_naming_the_sender_denies(
    env: Env, verifier, claimed: str, answer: str
) -> None:
    """Acceptance (seed 000): the registered contact wrote a new mail, not a reply, without
    the code; the forger's request stayed pending and the answers held for it waited. A no
    names the request it answers (the claimed name, or the address); another request of
    the same customer stays as it was."""
    _, nc, seen = verifier
    forger = message("director@stroymontazh.ru", name=claimed)
    other = message("office@stroymontazh.ru")
    for sent in (forger, other):
        await send(nc, sent)
        assert (await identity_of(seen, sent))["status"] == "probable"
    fresh = message("buh@stroymontazh.ru", text=answer)
    await send(nc, fresh)

    (denied,) = await seen.wait("crm.confirmation.denied")
    assert denied["message_id"] == str(forger.message_id)
    statuses = await rows(
        env,
        "SELECT message_id, status FROM crm.confirmations ORDER BY requested_at",
    )
    assert [(r["message_id"], r["status"]) for r in statuses] == [
        (forger.message_id, "denied"),
        (other.message_id, "pending"),
    ]
    # The forger writes again: disowned.
    again = message("director@stroymontazh.ru", name=claimed)
    await send(nc, again)
    assert (await identity_of(seen, again))["status"] == "suspicious"


async def test_a_fresh_no_its_domain_did_not_authenticate_is_neither(env: Env, verifier) -> None:
    """Review: without the code, a forged From of the registered address could disown the
    client's own new address; unauthenticated (no DMARC pass), the holders read it and call."""
    _, nc, seen = verifier
    newcomer = message("director@stroymontazh.ru", name="Игорь Белов")
    await send(nc, newcomer)
    await identity_of(seen, newcomer)
    fresh = message("buh@stroymontazh.ru", text="Это не мы, никакого Игоря Белова у нас нет.")
    unsigned = fresh.model_copy(update={"auth": fresh.auth.model_copy(update={"dmarc": "none"})})
    await send(nc, unsigned)
    (said,) = [e for e in (await identity_of(seen, unsigned))["evidence"] if e["kind"] == UNCLEAR]
    assert said["values"]["address"] == "director@stroymontazh.ru"
    await asyncio.sleep(0.3)
    assert "crm.confirmation.denied" not in seen.by_subject
    statuses = await rows(env, "SELECT status FROM crm.confirmations")
    assert [r["status"] for r in statuses] == ["pending"]


async def test_a_no_about_another_matter_signed_by_the_newcomer_answers_nothing(
    env: Env, verifier
) -> None:
    """Review (seed 000 itself): the CEO wrote from his own new address, then from the
    registered one, «Нет, мы уже оплатили», signed with his name: that denied his own
    request."""
    _, nc, seen = verifier
    ceo = message("a.sokolov.home@stroymontazh.ru", name="Игорь Белов")
    await send(nc, ceo)
    assert (await identity_of(seen, ceo))["confirmation"] is not None
    signed = message("buh@stroymontazh.ru", text="Нет, мы уже оплатили в пятницу.\nИгорь Белов")
    await send(nc, signed)
    assert not [e for e in (await identity_of(seen, signed))["evidence"] if e["kind"] == UNCLEAR]
    await asyncio.sleep(0.3)
    assert "crm.confirmation.denied" not in seen.by_subject


async def test_a_fresh_no_naming_nobody_is_neither_to_the_only_request_and_none_to_two(
    env: Env, verifier
) -> None:
    _, nc, seen = verifier
    stranger = message("director@stroymontazh.ru")
    await send(nc, stranger)
    await identity_of(seen, stranger)
    alone = message("buh@stroymontazh.ru", text="Мы ничего не просили менять, это мошенники!")
    await send(nc, alone)
    # The only request pending: the holders of the sender's cases hear it and call.
    (said,) = [e for e in (await identity_of(seen, alone))["evidence"] if e["kind"] == UNCLEAR]
    assert said["values"]["address"] == "director@stroymontazh.ru"

    second = message("office@stroymontazh.ru")
    await send(nc, second)
    await identity_of(seen, second)
    vague = message("buh@stroymontazh.ru", text="Мы ничего не просили менять, это мошенники!")
    await send(nc, vague)
    assert not [e for e in (await identity_of(seen, vague))["evidence"] if e["kind"] == UNCLEAR]
    await asyncio.sleep(0.3)
    assert "crm.confirmation.denied" not in seen.by_subject
    statuses = await rows(env, "SELECT status FROM crm.confirmations")
    assert [r["status"] for r in statuses] == ["pending", "pending"]


async def test_a_reply_that_says_neither_yes_nor_no_leaves_the_request_pending(
    env: Env, verifier
) -> None:
    _, nc, seen = verifier
    stranger = message("director@stroymontazh.ru")
    await send(nc, stranger)
    code = (await identity_of(seen, stranger))["confirmation"]["code"]
    unclear = message(
        "buh@stroymontazh.ru", text="А кто это вообще? Мы вам ничего не писали?", quoted=f"> {code}"
    )
    await send(nc, unclear)
    # The reply carries it as evidence of its own, for the holders of the sender's cases.
    (said,) = [e for e in (await identity_of(seen, unclear))["evidence"] if e["kind"] == UNCLEAR]
    confirmation_id = (await identity_of(seen, stranger))["confirmation"]["confirmation_id"]
    assert said["values"]["confirmation_id"] == confirmation_id
    assert said["values"]["address"] == "director@stroymontazh.ru"
    assert "code" not in said["values"]  # still pending: its code can still say yes
    await asyncio.sleep(0.5)
    assert "crm.channel.confirmed" not in seen.by_subject
    assert "crm.confirmation.denied" not in seen.by_subject
    (status,) = await rows(
        env,
        "SELECT status FROM crm.confirmations WHERE message_id = :id",
        id=stranger.message_id,
    )
    assert status["status"] == "pending"
    # On file: ids only (the decision's evidence keeps no address, the log the message id).
    (kept,) = await rows(
        env,
        "SELECT evidence::text AS e FROM crm.identity_decisions WHERE message_id = :id",
        id=unclear.message_id,
    )
    assert UNCLEAR in kept["e"] and "director@stroymontazh.ru" not in kept["e"]
    (logged,) = await rows(
        env,
        "SELECT detail FROM crm.confirmation_log WHERE entry = 'reply_unclear' "
        "AND confirmation_id = :id",
        id=uuid.UUID(confirmation_id),
    )
    assert logged["detail"] == {"message_id": str(unclear.message_id)}
    # Then a yes in words, the code only in the quoted request: confirmed.
    await send(nc, message("buh@stroymontazh.ru", text="Да, это наш директор.", quoted=code))
    await seen.wait("crm.channel.confirmed")


async def test_a_reply_answers_the_request_it_replies_to_not_one_it_quotes(
    env: Env, verifier
) -> None:
    """Two requests of one client pending (two addresses): the contact answers «Это не мы!»
    to the second, whose thread quotes the first. Both codes were read and both denied: the
    first address was disowned by words written about another."""
    _, nc, seen = verifier
    first, second = message("director@stroymontazh.ru"), message("ceo@stroymontazh.ru")
    await send(nc, first)
    code_1 = (await identity_of(seen, first))["confirmation"]["code"]
    await send(nc, second)
    code_2 = (await identity_of(seen, second))["confirmation"]["code"]
    assert code_1 != code_2  # each request's code is its own
    no = message("buh@stroymontazh.ru", text="Это не мы!", quoted=f"> код {code_1}")
    await send(nc, no.model_copy(update={"subject": f"Re: просят сменить реквизиты ({code_2})"}))

    (denied,) = await seen.wait("crm.confirmation.denied")
    assert denied["message_id"] == str(second.message_id)
    statuses = await rows(
        env,
        "SELECT channel_address AS a, status FROM crm.confirmations ORDER BY channel_address",
    )
    assert statuses == [
        {"a": "ceo@stroymontazh.ru", "status": "denied"},
        {"a": "director@stroymontazh.ru", "status": "pending"},
    ]
    (passed,) = await rows(
        env, "SELECT entry FROM crm.confirmation_log WHERE entry = 'reply_about_another'"
    )
    assert passed["entry"] == "reply_about_another"


async def test_after_a_denial_that_address_is_suspicious_and_another_less_sure(
    env: Env, verifier
) -> None:
    """The client said "not us": the same address writing again is not asked about again
    (an impostor could make us mail the client at will) and is suspicious; another address
    writing in the client's name is still asked about, its identity showing the denial."""
    _, nc, seen = verifier
    stranger = message("director@stroymontazh.ru")
    await send(nc, stranger)
    code = (await identity_of(seen, stranger))["confirmation"]["code"]
    await send(nc, message("buh@stroymontazh.ru", text=f"Это не мы! {code}"))
    await seen.wait("crm.confirmation.denied")

    again = message("director@stroymontazh.ru", text="Ответьте же, счёт оплачен.")
    newcomer = message("finance@stroymontazh.ru")
    await send(nc, again)
    await send(nc, newcomer)

    suspicious = await identity_of(seen, again)
    assert (suspicious["status"], suspicious["confirmation"]) == ("suspicious", None)
    assert suspicious["evidence"][-1]["kind"] == "denied_before"
    other = await identity_of(seen, newcomer)
    assert other["status"] == "probable" and other["confirmation"] is not None
    assert other["evidence"][-1]["kind"] == "denied_recently"
    asked = "SELECT count(*) FROM crm.confirmations WHERE channel_address = '{}'"
    assert await count(env.servers, asked.format("director@stroymontazh.ru")) == 1


async def test_the_disowned_address_stays_suspicious_when_it_names_nobody(
    env: Env, verifier
) -> None:
    """The acceptance run's gap: the impostor's free address, disowned, writes a bare line
    ("Ответьте же, счёт оплачен!": no name, no company) that alone matches no customer. It
    is suspicious in the name of the customer whose contact disowned it, with that
    customer's account manager, and the client is not asked again; another address writing
    the same line is still unknown."""
    _, nc, seen = verifier
    impostor = "sokolov.andrey.sm@gmail.com"
    first = message(impostor, name="Андрей Соколов")
    await send(nc, first)
    asked = await identity_of(seen, first)
    assert asked["status"] == "probable"
    code = asked["confirmation"]["code"]
    await send(nc, message("buh@stroymontazh.ru", text=f"Это не мы! {code}"))
    await seen.wait("crm.confirmation.denied")

    bare = "Ответьте же, счёт оплачен!"
    again = message(impostor.upper(), text=bare)  # the address as the verifier reads it
    stranger = message("someone.else@gmail.com", text=bare)
    await send(nc, again)
    await send(nc, stranger)

    suspicious = await identity_of(seen, again)
    assert (suspicious["status"], suspicious["confirmation"]) == ("suspicious", None)
    assert suspicious["customer"]["id"] == "cust-stroymontazh"
    assert suspicious["account_manager"]["id"] == "am-petrova"
    assert suspicious["contact"] is None and suspicious["disclosure"] == "none"
    said = suspicious["evidence"][-1]
    assert said["kind"] == "denied_before"
    assert said["values"]["contact_id"] == "ct-kovaleva"  # who denied (her reply's identity)
    assert said["values"]["contact_name"] == "Марина Ковалёва"
    assert said["values"]["denied_at"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert "no_match" not in [e["kind"] for e in suspicious["evidence"]]
    assert (await identity_of(seen, stranger))["status"] == "unknown"
    requested = "SELECT count(*) FROM crm.confirmations WHERE channel_address = '{}'"
    assert await count(env.servers, requested.format(impostor)) == 1
    assert await count(env.servers, requested.format("someone.else@gmail.com")) == 0
    recorded = (
        "SELECT count(*) FROM crm.identity_decisions WHERE message_id = '{}' AND "
        "status = 'suspicious' AND customer_id = 'cust-stroymontazh'"
    )
    assert await count(env.servers, recorded.format(again.message_id)) == 1


async def test_the_signed_link_confirms_once_over_nats_and_http(env: Env, verifier) -> None:
    app, nc, seen = verifier
    newcomer = message("finance@stroymontazh.ru")
    await send(nc, newcomer)
    url = (await identity_of(seen, newcomer))["confirmation"]["url"]
    token = url.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    settings = CarelineSettings(**env.base())

    refused = await request_outcome(settings, ConfirmChannel(token=forged), 10)
    assert refused.outcome == "invalid"
    first = await request_outcome(settings, ConfirmChannel(token=token), 10)
    assert first.outcome == "confirmed"
    (confirmed,) = await seen.wait("crm.channel.confirmed")
    assert confirmed["via"] == "link"
    assert confirmed["contact_id"].startswith("ct-confirmed-")

    # Single use: the link again, here through the HTTP route, changes nothing.
    transport = httpx.ASGITransport(app=app.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://verifier") as client:
        response = await client.get(f"/v1/confirm/{token}")
        bad = await client.get(f"/v1/confirm/{forged}")
    assert response.status_code == 200
    assert response.json()["outcome"] == "already_confirmed"
    assert bad.status_code == 404
    assert bad.headers["content-type"] == "application/problem+json"
    assert (
        await count(
            env.servers,
            "SELECT count(*) FROM crm.contact_channels "
            "WHERE address = 'finance@stroymontazh.ru' AND verified",
        )
        == 1
    )
    assert (
        await count(
            env.servers, "SELECT count(*) FROM crm.confirmation_log WHERE entry = 'link_rejected'"
        )
        == 2
    )


async def test_seed_000_email_through_intake_is_probable_with_the_ceo_named(
    running, bus, env: Env
) -> None:
    from shared.demo import load_stories

    await running.start("intake", "verifier")
    nc, recorder = bus
    raw = load_stories()[0]["messages"][0]
    await nc.jetstream().publish("inbound.email", json.dumps(raw).encode())

    (verified,) = await recorder.wait_for("message.verified")
    identity = verified["identity"]
    assert identity["status"] == "probable"
    assert identity["customer"]["id"] == "cust-stroymontazh"
    assert identity["contact"]["id"] == "ct-sokolov"
    assert identity["account_manager"]["email"] == "o.petrova@careline.example"
    assert ("email", "buh@stroymontazh.ru") in {
        (c["kind"], c["address"]) for c in identity["authorized_channels"]
    }
    kinds = {e["kind"] for e in identity["evidence"]}
    assert {"corporate_domain", "document", "signature_name", "company_name"} <= kinds
    # The default test environment sets no confirmation secret: no loop, no failure.
    assert identity["confirmation"] is None


async def test_a_client_naming_himself_and_his_company_in_the_body_is_asked_about(
    env: Env, verifier
) -> None:
    """No signature, a personal address: the CEO says who he is in the first line. The
    claims are read from the body and matched on the mirror; the registered contact is
    asked to confirm, as for a signature."""
    _, nc, seen = verifier
    text = "Добрый день! Это Андрей Соколов из ООО «СтройМонтаж». Почему нам пишут о долге?"
    private = message("andrey.sokolov.1975@mail.ru", text=text)
    await send(nc, private)
    identity = await identity_of(seen, private)

    assert identity["status"] == "probable"
    assert (identity["customer"]["id"], identity["contact"]["id"]) == (
        "cust-stroymontazh",
        "ct-sokolov",
    )
    sources = {e["kind"]: e["source"] for e in identity["evidence"]}
    assert sources["introduction_name"] == "message.text"
    assert sources["company_name"] == "message.text"
    assert identity["confirmation"]["files_under"] == "Андрей Соколов"


async def test_a_confirmed_newcomer_is_found_by_name_afterwards(env: Env, verifier) -> None:
    # Nobody on file had her name: confirming her address gives her a contact of her
    # own, searchable by that name when she writes from elsewhere.
    _, nc, seen = verifier
    newcomer = message("m.novikova@stroymontazh.ru", name="Марина Новикова")
    await send(nc, newcomer)
    request = (await identity_of(seen, newcomer))["confirmation"]
    assert request["files_under"] == "Марина Новикова"  # shown to the one confirming
    token = request["url"].rsplit("/", 1)[1]
    settings = CarelineSettings(**env.base())
    assert (await request_outcome(settings, ConfirmChannel(token=token), 10)).outcome == "confirmed"
    (confirmed,) = await seen.wait("crm.channel.confirmed")

    elsewhere = message("marina.novikova@gmail.com", name="Марина Новикова")
    await send(nc, elsewhere)
    identity = await identity_of(seen, elsewhere)

    named = [e for e in identity["evidence"] if e["kind"] in ("display_name", "signature_name")]
    assert named and all(confirmed["contact_id"] in e["detail"] for e in named)
    assert {e["customer_id"] for e in named} == {"cust-stroymontazh"}


async def test_the_request_says_whose_the_address_becomes(env: Env, verifier) -> None:
    _, nc, seen = verifier
    # Named by the evidence: the address joins that contact, whatever the sender calls itself.
    ceo = message("a.sokolov.new@stroymontazh.ru", name="Андрей Соколов")
    # No one named, a name given: a new contact under it; the same address again with
    # another name: the request already sent, and the name it said.
    newcomer = message("p.ivanova@stroymontazh.ru", name="Полина Иванова")
    again = message("p.ivanova@stroymontazh.ru", name="Бухгалтерия")
    # The "name" is the address itself: nobody to vouch for.
    bare = message("n.n@stroymontazh.ru", name="n.n@stroymontazh.ru")
    for msg in (ceo, newcomer, again, bare):
        await send(nc, msg)
    requests = [(await identity_of(seen, m))["confirmation"] for m in (ceo, newcomer, again, bare)]

    assert [r["files_under"] for r in requests] == [
        "Андрей Соколов", "Полина Иванова", "Полина Иванова", None
    ]  # fmt: skip
    assert requests[1]["confirmation_id"] == requests[2]["confirmation_id"]


async def confirmed_by_reply(nc: Any, seen: Any, address: str) -> dict[str, Any]:
    """`address` writes in the name of ООО «СтройМонтаж», and the registered contact says
    yes: the confirmation request, now confirmed."""
    stranger = message(address)
    await send(nc, stranger)
    asked: dict[str, Any] = (await identity_of(seen, stranger))["confirmation"]
    await send(
        nc, message("buh@stroymontazh.ru", text="Да, это наш директор.", quoted=asked["code"])
    )
    await seen.wait("crm.channel.confirmed")
    return asked


async def test_a_no_after_a_yes_leaves_the_yes_and_tells_the_holders(env: Env, verifier) -> None:
    """«Да» to the first mail, «Это не мы» to the second (the payment-details one re-asks
    the same request): words do not undo a confirmation, but the reply carries the no as
    evidence of its own, for the holders of the sender's cases; the log says so, ids only."""
    _, nc, seen = verifier
    asked = await confirmed_by_reply(nc, seen, "director@stroymontazh.ru")

    late = message(
        "buh@stroymontazh.ru", text="Это не мы! Ничего не меняйте.", quoted=asked["code"]
    )
    await send(nc, late)
    (said,) = [e for e in (await identity_of(seen, late))["evidence"] if e["kind"] == UNCLEAR]
    assert said["values"]["settled"] == "confirmed"
    assert said["values"]["address"] == "director@stroymontazh.ru"
    # The spent code, for whoever calls the client to name the mail it answered.
    assert said["values"]["code"] == asked["code"]
    # The spent code, for whoever calls the client to name the mail it answered.
    assert said["values"]["code"] == asked["code"]
    await asyncio.sleep(0.5)
    assert "crm.confirmation.denied" not in seen.by_subject
    (logged,) = await rows(
        env,
        "SELECT detail FROM crm.confirmation_log WHERE entry = 'denied_after_confirmed' "
        "AND confirmation_id = :id",
        id=uuid.UUID(asked["confirmation_id"]),
    )
    assert logged["detail"] == {"message_id": str(late.message_id)}


REVOKED_SAID = {
    "ru": "o.petrova {} отозвал(а) подтверждение этого адреса для клиента ООО «СтройМонтаж»",
    "uk": "o.petrova {} відкликав(-ла) підтвердження цієї адреси для клієнта ООО «СтройМонтаж»",
    "en": "o.petrova took back the confirmation of this address for customer ООО «СтройМонтаж» "
    "on {}",
}


async def test_staff_revoke_a_confirmed_address_and_it_writes_as_suspicious(
    env: Env, verifier
) -> None:
    """`careline crm revoke`: the yes stands against words, not against a person. After
    it the address is no channel of the client's and writes as a disowned sender."""
    from services.verifier.revoke import announce, revoke_confirmed
    from shared.app import utc_now
    from shared.db import in_one_transaction

    _, nc, seen = verifier
    asked = await confirmed_by_reply(nc, seen, "director@stroymontazh.ru")
    confirmed = message("director@stroymontazh.ru", text="Пришлите акт сверки.")
    await send(nc, confirmed)
    assert (await identity_of(seen, confirmed))["status"] == "verified"

    revoked = await in_one_transaction(
        env.servers.database_url,
        lambda s: revoke_confirmed(
            s, "cust-stroymontazh", "Director@StroyMontazh.ru", "o.petrova", utc_now()
        ),
    )
    assert [str(i) for i in revoked.confirmation_ids] == [asked["confirmation_id"]]
    assert revoked.channels_removed == 1

    # Announced on crm.channel.revoked, through the real JetStream: the message that
    # started the confirmation, the address no longer verified, who took it back.
    async def record(msg: Any) -> None:
        seen.by_subject.setdefault(msg.subject, []).append(json.loads(msg.data))

    await nc.subscribe("crm.channel.revoked", cb=record)
    await announce(CarelineSettings(**env.base()), revoked.events)
    (event,) = await seen.wait("crm.channel.revoked")
    assert event["confirmation_id"] == asked["confirmation_id"]
    assert (event["customer_id"], event["revoked_by"]) == ("cust-stroymontazh", "o.petrova")
    # What the command took back, with when it was confirmed (the log's, not the revoke's).
    (taken,) = event["taken_back"]
    assert (taken["confirmation_id"], taken["address"]) == (
        asked["confirmation_id"],
        "director@stroymontazh.ru",
    )
    assert taken["confirmed_at"] is not None and taken["confirmed_at"] < event["revoked_at"]
    # Whom the escalator tells when no open case of the client was touched: the CRM's.
    assert event["account_manager"]["email"] == "o.petrova@careline.example"
    assert event["channel"] == {
        "kind": "email",
        "address": "director@stroymontazh.ru",
        "verified": False,
    }
    started = await rows(
        env,
        "SELECT message_id FROM crm.confirmations WHERE confirmation_id = :id",
        id=uuid.UUID(asked["confirmation_id"]),
    )
    assert event["message_id"] == str(started[0]["message_id"])

    again = message("director@stroymontazh.ru", text="Смените реквизиты, пожалуйста.")
    await send(nc, again)
    suspicious = await identity_of(seen, again)
    assert (suspicious["status"], suspicious["confirmation"]) == ("suspicious", None)
    # Disowned by the staff who revoked it, not by the contact whose reply confirmed it.
    kinds = [e["kind"] for e in suspicious["evidence"]]
    assert "revoked_by_staff" in kinds and "denied_before" not in kinds
    (by_staff,) = [e for e in suspicious["evidence"] if e["kind"] == "revoked_by_staff"]
    assert by_staff["values"]["by"] == "o.petrova"
    assert by_staff["values"]["revoked_at"] == event["revoked_at"][:10]
    assert "contact_id" not in by_staff["values"]
    assert by_staff["detail"].startswith("staff (o.petrova) took back the confirmation")
    # Staff notices say it in their language (the notifier's evidence phrases).
    for language, said in REVOKED_SAID.items():
        note = command("manager_escalation", language, role="account_manager")
        data = {**note.data, "identity_evidence_items": [by_staff]}
        body = render(note.model_copy(update={"data": data})).body
        assert said.format(by_staff["values"]["revoked_at"]) in body, body
    (logged,) = await rows(
        env,
        "SELECT detail FROM crm.confirmation_log WHERE entry = 'revoked' AND confirmation_id = :id",
        id=uuid.UUID(asked["confirmation_id"]),
    )
    assert logged["detail"] == {"by": "o.petrova"}
    # A second revocation finds nothing to take back.
    again_revoked = await in_one_transaction(
        env.servers.database_url,
        lambda s: revoke_confirmed(
            s, "cust-stroymontazh", "director@stroymontazh.ru", "x", utc_now()
        ),
    )
    assert (again_revoked.confirmation_ids, again_revoked.channels_removed) == ([], 0)
    # It announces the same revocation again, under the same id: JetStream takes it once.
    assert [e.event_id for e in again_revoked.events] == [str(event["event_id"])]
    await announce(CarelineSettings(**env.base()), again_revoked.events)
    stored = await nc.jetstream().stream_info("CARELINE_CRM", subjects_filter="crm.channel.revoked")
    assert stored.state.subjects == {"crm.channel.revoked": 1}
