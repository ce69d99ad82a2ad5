"""Signed acknowledge links: the token, the pages, and the link in staff notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from services.escalator.ack_http import ack_routes
from services.escalator.ack_links import AckClaims, LinkRejected, read_ack_token, sign_ack_token
from services.escalator.ack_pages import confirm_page, outcome_page
from services.escalator.links import ACK_PATH
from services.escalator.policy import load_policy
from services.escalator.policy_rules import STAFF_ROLES
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES
from shared.case_ref import case_ref
from shared.staff_names import staff_names

pytestmark = pytest.mark.unit

SECRET = b"unit-test-link-secret"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def claims(**change: object) -> AckClaims:
    values: dict[str, object] = {
        "link_id": uuid.uuid4(),
        "escalation_id": uuid.uuid4(),
        "role": "head_of_support",
        "address": "head.support@careline.example",
        "expires_at": NOW + timedelta(hours=72),
        **change,
    }
    return AckClaims(**values)  # type: ignore[arg-type]


def test_a_signed_link_names_the_escalation_the_person_and_the_expiry() -> None:
    issued = claims(role="account_manager", address="о.петрова@careline.example")
    token = sign_ack_token(SECRET, issued)
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a URL path as it is
    assert read_ack_token(SECRET, token, NOW) == issued


def test_a_link_carries_the_language_of_its_reader_and_an_old_one_none() -> None:
    issued = claims(language="en")
    assert read_ack_token(SECRET, sign_ack_token(SECRET, issued), NOW).language == "en"
    # A link issued before the language was carried: its pages fall back to the policy's.
    assert read_ack_token(SECRET, sign_ack_token(SECRET, claims()), NOW).language is None


def test_a_link_expires_at_its_expiry_and_says_which_escalation() -> None:
    issued = claims(expires_at=NOW + timedelta(seconds=1))
    token = sign_ack_token(SECRET, issued)
    assert read_ack_token(SECRET, token, NOW).link_id == issued.link_id
    with pytest.raises(LinkRejected) as refused:
        read_ack_token(SECRET, token, NOW + timedelta(seconds=1))
    assert refused.value.kind == "expired"
    assert refused.value.escalation_id == issued.escalation_id


async def test_an_expired_link_is_refused_in_its_readers_language_naming_the_case() -> None:
    issued = claims(language="en", expires_at=NOW)
    token = sign_ack_token(SECRET, issued)
    # No lifecycle is reached: an expired link is answered from its own signed words.
    routes = ack_routes(cast(Any, None), SECRET, StaffLanguages("ru"), lambda: NOW)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://escalator") as http:
        page = await http.get(f"{ACK_PATH}/{token}")
    assert page.status_code == 410 and '<html lang="en">' in page.text
    assert f"careline ack {case_ref(issued.escalation_id)}" in page.text


def test_an_altered_link_or_another_secret_is_refused_as_forged() -> None:
    token = sign_ack_token(SECRET, claims())
    body, signature = token.split(".")
    # Someone else's address in a link signed for the head of support.
    other = sign_ack_token(SECRET, claims(address="intruder@example.com")).split(".")[0]
    for forged in (
        f"{other}.{signature}",
        f"{body}.{signature[:-2]}AA",
        sign_ack_token(b"another-secret", claims()),
        "not-a-token",
        "a.b.c",
        "!!!.???",
        "",
    ):
        with pytest.raises(LinkRejected) as refused:
            read_ack_token(SECRET, forged, NOW)
        assert refused.value.kind == "forged", forged


ESCALATION = "5b0c9a52-6f0e-5d2a-9c61-0c8f1e2a7d34"  # CL-BC69-MMKF


def legal_page(lang: str, customer: str | None = None, state: str | None = None) -> str:
    """The acknowledge page of a P2 legal escalation, for the legal role."""
    return confirm_page(
        lang,  # type: ignore[arg-type]
        escalation_id=ESCALATION,
        kind="legal",
        severity="P2",
        customer=customer,
        role="legal",
        address="legal@careline.example",
        state=state,
    )


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_view_shows_what_is_acknowledged_with_a_post_button_and_escapes(lang: str) -> None:
    page = legal_page(lang, "ООО «<Рога>»")
    assert '<form method="post">' in page and "legal@careline.example" in page
    assert "&lt;Рога&gt;" in page and "<Рога>" not in page
    done = legal_page(lang, state="state_acknowledged")
    assert "<form" not in done


FULL_ID = {"ru": "Полный идентификатор", "uk": "Повний ідентифікатор", "en": "Full id"}

NAMED = {
    "ru": ("юридическая угроза, P2", "Вы берёте её в работу как юрист (legal@"),
    "uk": ("юридична загроза, P2", "Ви берете її в роботу як юрист (legal@"),
    "en": ("legal threat, P2", "You acknowledge it as legal (legal@"),
}


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_page_names_the_kind_and_the_role_as_the_mail_does(lang: str) -> None:
    """Acceptance: the Russian page said "service_failure" and "как head_of_support"."""
    kind, role = NAMED[lang]
    page = legal_page(lang)
    assert kind in page and role in page


def test_every_role_and_kind_of_the_policy_has_a_name_in_every_staff_language() -> None:
    names = staff_names()
    kinds = {rule.kind for rule in load_policy().rules}
    for lang in ("ru", "uk", "en"):
        assert set(STAFF_ROLES) <= set(names["roles"][lang]), lang
        assert kinds <= set(names["kinds"][lang]), lang


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_page_names_the_escalation_by_its_reference_and_its_id_small(lang: str) -> None:
    for page in (legal_page(lang), legal_page(lang, state="state_resolved")):
        assert f"<code>CL-BC69-MMKF</code>: {NAMED[lang][0]}" in page
        assert page.count(ESCALATION) == 1
        assert f"{FULL_ID[lang]}: <code>{ESCALATION}</code>" in page


def test_outcome_pages_speak_the_team_language() -> None:
    assert "уже использована" in outcome_page("ru", "used")
    assert "вже використано" in outcome_page("uk", "used")
    assert "careline ack 42" in outcome_page("en", "expired", id="42")


# Acknowledging is taking the escalation on; staff read the identity confirmation's verb
# ("Подтвердите", "Підтвердіть") as confirming who the sender is, so it is not used for it.
TAKE_ON = {
    "ru": {"by": "Возьмите в работу до", "do": "Возьмите в работу", "button": "Взять в работу"},
    "uk": {"by": "Візьміть у роботу до", "do": "Візьміть у роботу", "button": "Взяти в роботу"},
}
TAKEN = {"ru": "Взято в работу.", "uk": "Взято в роботу."}
ACK_AS_CONFIRM = ("Подтверд", "подтверд", "Підтверд", "підтверд")  # no identity text there
OLD_ACK_WORDS = (
    *("Подтвердите", "Подтвердить", "Не подтверждено", "не подтвердили", "без подтверждения"),
    *("Підтвердіть", "Підтвердьте", "Підтвердити", "Не підтверджено", "не підтвердили"),
    "без підтвердження",
)


@pytest.mark.parametrize("lang", ["ru", "uk"])
@pytest.mark.parametrize("kind", ["manager_escalation", "legal_notice", "re_escalation"])
def test_staff_are_asked_to_take_the_escalation_on_not_to_confirm(kind: str, lang: str) -> None:
    words = TAKE_ON[lang]
    url = "http://127.0.0.1:18083/v1/escalations/ack/abc.def"
    rendered = render_kind(kind, lang, {**SAMPLES[kind], "ack_url": url})
    assert f"{words['by']} " in rendered.body and f"{words['button']} " in rendered.body
    assert rendered.html is not None and f">{words['button']}</a>" in rendered.html
    for said in (rendered.subject, rendered.body, rendered.html):
        assert not any(old in said for old in OLD_ACK_WORDS), said


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_the_ack_page_takes_the_escalation_on(lang: str) -> None:
    page = legal_page(lang)
    assert f'<button type="submit">{TAKE_ON[lang]["button"]}</button>' in page
    expired = outcome_page(lang, "expired", id="42")  # type: ignore[arg-type]
    assert f"{TAKE_ON[lang]['do']} " in expired and "careline ack 42" in expired
    done = outcome_page(lang, "acknowledged")  # type: ignore[arg-type]
    assert TAKEN[lang] in done
    again = outcome_page(lang, "already_acknowledged")  # type: ignore[arg-type]
    assert not any(verb in p for p in (page, expired, done, again) for verb in ACK_AS_CONFIRM)
