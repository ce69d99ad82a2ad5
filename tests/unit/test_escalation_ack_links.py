"""Signed acknowledge links: the token, the pages, and the link in staff notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.ack_links import AckClaims, LinkRejected, read_ack_token, sign_ack_token
from services.escalator.ack_pages import confirm_page, outcome_page
from services.notifier.domain import render_kind
from services.notifier.samples import SAMPLES

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


def test_a_link_expires_at_its_expiry_and_says_which_escalation() -> None:
    issued = claims(expires_at=NOW + timedelta(seconds=1))
    token = sign_ack_token(SECRET, issued)
    assert read_ack_token(SECRET, token, NOW).link_id == issued.link_id
    with pytest.raises(LinkRejected) as refused:
        read_ack_token(SECRET, token, NOW + timedelta(seconds=1))
    assert refused.value.kind == "expired"
    assert refused.value.escalation_id == issued.escalation_id


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


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_view_shows_what_is_acknowledged_with_a_post_button_and_escapes(lang: str) -> None:
    page = confirm_page(
        lang,  # type: ignore[arg-type]
        escalation_id="e-1",
        kind="legal",
        severity="P2",
        customer="ООО «<Рога>»",
        role="legal",
        address="legal@careline.example",
        state=None,
    )
    assert '<form method="post">' in page and "legal@careline.example" in page
    assert "&lt;Рога&gt;" in page and "<Рога>" not in page
    done = confirm_page(
        lang,  # type: ignore[arg-type]
        escalation_id="e-1",
        kind="legal",
        severity="P2",
        customer=None,
        role="legal",
        address="legal@careline.example",
        state="state_acknowledged",
    )
    assert "<form" not in done


def test_outcome_pages_speak_the_team_language() -> None:
    assert "уже использована" in outcome_page("ru", "used")
    assert "вже використано" in outcome_page("uk", "used")
    assert "careline ack 42" in outcome_page("en", "expired", id="42")


@pytest.mark.parametrize("kind", ["manager_escalation", "re_escalation"])
@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_staff_notifications_render_the_link_in_text_and_html(kind: str, lang: str) -> None:
    url = "http://127.0.0.1:18083/v1/escalations/ack/abc.def"
    rendered = render_kind(kind, lang, {**SAMPLES[kind], "ack_url": url})
    assert url in rendered.body
    assert rendered.html is not None and f'href="{url}"' in rendered.html
    without = render_kind(kind, lang, {**SAMPLES[kind], "ack_url": None})
    assert url not in without.body and "/v1/escalations/ack" not in (without.html or "")
