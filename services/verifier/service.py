"""Verifier use case: a normalized message in, the same message with its identity out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.contracts import IdentityVerified, MessageNormalized, derived_id
from shared.db import Database
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import MESSAGE_VERIFIED

from .adapters import SqlCrmDirectory, processed, record_decision
from .domain import Candidate, CustomerFacts, decide_identity, email_domain
from .ports import CrmDirectory
from .settings import VerifierSettings


async def gather_candidate(crm: CrmDirectory, message: MessageNormalized) -> Candidate:
    sender = message.sender
    matches = []
    for kind, address in (
        ("email", sender.email),
        ("phone", sender.phone),
        ("handle", sender.handle and sender.handle.lower()),
    ):
        if address:
            matches += await crm.channel_matches(kind, address)
    domain = email_domain(sender.email)
    domain_customers = await crm.customers_with_domain(domain) if domain else []
    return Candidate(tuple(matches), domain, tuple(domain_customers))


async def facts_for(crm: CrmDirectory, candidate: Candidate) -> dict[str, CustomerFacts]:
    ids = {m.customer_id for m in candidate.channel_matches} | set(candidate.domain_customers)
    found = {cid: await crm.customer_facts(cid) for cid in sorted(ids)}
    return {cid: f for cid, f in found.items() if f is not None}


class VerifierService:
    def __init__(
        self, db: Database, settings: VerifierSettings, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    async def verify(self, message: MessageNormalized) -> list[Outgoing]:
        key = str(message.message_id)
        async with self.db.transaction() as session:
            await lock_key(session, f"verifier:{key}")
            stored = await outputs_of(session, processed, key)
            if stored is not None:
                return stored
            crm = SqlCrmDirectory(session)
            candidate = await gather_candidate(crm, message)
            identity = decide_identity(
                candidate,
                message.auth,
                await facts_for(crm, candidate),
                self.settings.weights,
                self.settings.probable_threshold,
            )
            now = self.clock()
            await record_decision(session, message.message_id, identity, now)
            event = IdentityVerified(
                event_id=derived_id("verified", message.message_id),
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                occurred_at=now,
                message=message,
                identity=identity,
            )
            outputs = [Outgoing.of(MESSAGE_VERIFIED, event)]
            await record_outputs(session, processed, key, outputs, now)
        return outputs
