"""Issuing acknowledge links: a row in `escalator.ack_links` (what makes it single-use) and
a signed URL on the escalator's HTTP side (`ACK_PATH`) that names it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from .ack_links import AckClaims, sign_ack_token, whole_seconds
from .lifecycle import Escalation, Notified
from .lifecycle_store import LifecycleStore
from .settings import EscalatorSettings

ACK_PATH = "/v1/escalations/ack"


class AckLinkIssuer:
    def __init__(self, secret: bytes, base_url: str, ttl: timedelta) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    async def issue(
        self,
        session: AsyncSession,
        escalation_id: uuid.UUID,
        role: str,
        address: str,
        now: datetime,
        language: str | None = None,
    ) -> str:
        """A new link for `address` as `role`, stored in the caller's transaction; its pages
        speak `language` (the notice's that carries it)."""
        claims = AckClaims(
            link_id=uuid.uuid4(),
            escalation_id=escalation_id,
            role=role,
            address=address,
            expires_at=whole_seconds(now + self.ttl),
            language=language,
        )
        await LifecycleStore(session).add_link(
            claims.link_id, escalation_id, role, address, claims.expires_at
        )
        return f"{self.base_url}{ACK_PATH}/{sign_ack_token(self.secret, claims)}"

    async def for_lifecycle(
        self,
        store: LifecycleStore,
        escalation: Escalation,
        notified: Notified,
        now: datetime,
        language: str | None,
    ) -> str | None:
        """The lifecycle's LinkMaker: a link for a reassignment or a climb."""
        if not notified.address:  # a role with no address in the policy is told nothing
            return None
        return await self.issue(
            store.session, escalation.id, notified.role, notified.address, now, language
        )


def link_issuer(settings: EscalatorSettings) -> AckLinkIssuer | None:
    if settings.link_secret is None or not settings.link_base_url:
        return None
    secret = settings.link_secret.get_secret_value().encode()
    return AckLinkIssuer(secret, settings.link_base_url, settings.link_ttl)
