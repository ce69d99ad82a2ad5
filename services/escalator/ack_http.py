"""The escalator's HTTP side: one-click acknowledge links from staff notifications.

`GET {ACK_PATH}/{token}` shows what the link acknowledges and a button; only the button's
`POST` acts, through the same use case as `escalation.cmd.acknowledge`, as the person the
link was sent to. Pages are HTML (people click these), never cached, never referred.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import cast

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from shared.case_ref import case_ref

from .ack_links import AckClaims, LinkRejected, read_ack_token
from .ack_pages import LANGUAGES, Lang, confirm_page, outcome_page
from .links import ACK_PATH
from .staff import StaffCommands
from .staff_language import StaffLanguages

log = logging.getLogger(__name__)
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_STATUS = {
    "acknowledged": 200,
    "already_acknowledged": 200,
    "already_resolved": 409,
    "forbidden": 403,
    "not_found": 404,
}


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers=_HEADERS)


def _refused(lang: Lang, exc: LinkRejected) -> HTMLResponse:
    if exc.kind == "expired":
        # What to type instead: the reference, as the notice named the escalation.
        said = case_ref(exc.escalation_id) if exc.escalation_id else ""
        return _html(outcome_page(lang, "expired", id=said), 410)
    if exc.kind == "used":
        return _html(outcome_page(lang, "used"), 409)
    return _html(outcome_page(lang, "forged"), 404 if exc.kind == "unknown" else 403)


def ack_routes(
    lifecycle: StaffCommands,
    secret: bytes,
    languages: StaffLanguages,
    clock: Callable[[], datetime],
) -> list[BaseRoute]:
    """The link's pages are in the language of the person it was sent to: the one their
    notice was written in, which the link carries (the policy's word or the CRM's); for a
    link issued before it carried one, as the policy says it (`languages`). A link that
    cannot be read is answered in the team's."""

    def claims_of(request: Request) -> AckClaims:
        return read_ack_token(secret, request.path_params["token"], clock())

    def lang_of(claims: AckClaims | None) -> Lang:
        if claims is None:
            return cast(Lang, languages.team)
        if claims.language in LANGUAGES:  # the notice's: the policy's word or the CRM's
            return cast(Lang, claims.language)
        return cast(Lang, languages.of(claims.address))

    async def show(request: Request) -> Response:
        claims = None
        try:
            claims = claims_of(request)
            escalation = await lifecycle.preview_link(claims)
        except LinkRejected as exc:
            log.info("acknowledge link refused on view: %s", exc)
            return _refused(lang_of(claims or exc.signed), exc)
        lang = lang_of(claims)
        state = None
        if escalation.status == "resolved":
            state = "state_resolved"
        elif escalation.acknowledged:
            state = "state_acknowledged"
        customer = escalation.briefing.get("customer")
        page = confirm_page(
            lang,
            escalation_id=str(escalation.id),
            kind=escalation.kind,
            severity=escalation.severity,
            customer=str(customer) if customer else None,
            role=claims.role,
            address=claims.address,
            state=state,
        )
        return _html(page)

    async def act(request: Request) -> Response:
        claims = None
        try:
            claims = claims_of(request)
            result = await lifecycle.acknowledge_by_link(claims)
        except LinkRejected as exc:
            log.info("acknowledge link refused: %s", exc)
            return _refused(lang_of(claims or exc.signed), exc)
        lang = lang_of(claims)
        log.info("escalation %s: link answered %s", claims.escalation_id, result.outcome)
        key = result.outcome if result.outcome in _STATUS else "forbidden"
        return _html(outcome_page(lang, key), _STATUS.get(result.outcome, 400))

    return [
        Route(ACK_PATH + "/{token}", show, methods=["GET"]),
        Route(ACK_PATH + "/{token}", act, methods=["POST"]),
    ]
