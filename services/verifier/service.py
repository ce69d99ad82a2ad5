"""Verifier use cases: decide who is speaking; run the confirmation loop; keep the mirror.

Each use case is one transaction: its effects and its outgoing events are stored together
(shared.outbox), so a redelivery re-publishes exactly the same events.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationOutcome,
    ConfirmationRequest,
    Identity,
    IdentityVerified,
    MessageNormalized,
    derived_id,
)
from shared.db import Database
from shared.errors import RetryableError
from shared.group_commit import GroupCommit, batch_of
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import CRM_CHANNEL_CONFIRMED, CRM_CONFIRMATION_DENIED, MESSAGE_VERIFIED

from .adapters import SqlCrmDirectory, decision_row, processed, record_decisions
from .batch import BatchConfirmationStore, VerifyBatch
from .cache import CachedMirror
from .confirm_store import Channel, PendingConfirmation, SqlConfirmationStore, lock_addresses
from .confirmation import (
    TokenRejected,
    answered_codes,
    channel_to_link,
    claimed_name,
    codes_by_place,
    disowns,
    is_denial,
    names_disowned,
    new_confirmation,
    read_reply,
    read_token,
    sign_token,
)
from .denials import denial_of_channel, heed_denials, may_be_disowned
from .domain import decide_identity
from .expiry import expired_event
from .lookup import Lookup, facts_for, gather, lookup_for
from .ports import CrmDirectory
from .replies import UnclearAnswer, with_unclear_answers
from .settings import VerifierSettings

DirectoryFactory = Callable[[AsyncSession], AbstractAsyncContextManager[CrmDirectory]]


@asynccontextmanager
async def mirror_directory(session: AsyncSession) -> AsyncIterator[CrmDirectory]:
    yield SqlCrmDirectory(session)


class VerifierService:
    def __init__(
        self,
        db: Database,
        settings: VerifierSettings,
        clock: Callable[[], datetime],
        directory: DirectoryFactory = mirror_directory,
        commits: GroupCommit | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.directory = directory
        self.commits = commits or GroupCommit(db, processed, "verifier", clock)
        self.commits.open_batch = self._open_batch
        secret = settings.confirmation_secret
        self.secret = secret.get_secret_value().encode() if secret else None

    async def decide(
        self, session: AsyncSession, message: MessageNormalized, lookup: Lookup | None = None
    ) -> Identity:
        """The identity of one message against the CRM (no effects): a few batched lookups.

        `lookup` is the message's, when it was made already (a batch makes them first)."""
        rules = self.settings.matching
        async with self.directory(session) as crm:
            candidate = await gather(crm, lookup or lookup_for(message, rules), rules)
            facts = await facts_for(crm, candidate)
        return decide_identity(
            candidate,
            message.auth,
            facts,
            self.settings.weights,
            self.settings.probable_threshold,
            rules,
        )

    async def verify(self, message: MessageNormalized) -> list[Outgoing]:
        """Once per message, in the transaction it shares with the messages beside it."""
        return await self.commits.once(
            str(message.message_id), lambda session: self._verify(session, message), message
        )

    async def _open_batch(
        self, session: AsyncSession, messages: list[MessageNormalized]
    ) -> VerifyBatch:
        """The batch's CRM lookups in one query per kind, its identities decided ahead from
        them, the open confirmations of its probable senders in one query more, and the
        denials of their customers and of its senders' addresses in one more."""
        batch = VerifyBatch()
        links = _links_of(messages)
        if links and self.secret is not None:
            # Confirmations may be filed: the addresses they would verify, locked first.
            await lock_addresses(session, {(kind, key) for kind, _, key in links.values()})
        if not isinstance(self.directory, CachedMirror):
            return batch  # an external CRM: each message asks it in its own trace
        rules = self.settings.matching
        lookups = {}
        for message in messages:
            # A message that cannot be looked up is left to its own use case, which then
            # fails alone with the reason.
            with contextlib.suppress(Exception):
                lookups[message.message_id] = lookup_for(message, rules)
        await self.directory.prefetch(session, list(lookups.values()), rules)
        wanted: set[Channel] = set()
        customers: set[str] = set()  # of the probable senders: their denials are read too
        addresses: set[tuple[str, str]] = set()  # the senders' own: a denial disowns them
        for message in messages:
            lookup = lookups.get(message.message_id)
            if lookup is None:
                continue
            try:
                identity = await self.decide(session, message, lookup)
            except Exception:  # as above: its own use case fails with the reason
                continue
            batch.identities[message.message_id] = identity
            channel = links.get(message.message_id)
            if channel and may_be_disowned(identity):
                addresses.add((channel[0], channel[2]))
            if identity.status != "probable" or identity.customer is None:
                continue
            customers.add(identity.customer.id)
            if channel:
                wanted.add((identity.customer.id, channel[0], channel[2]))
        denied_since = self.clock() - self.settings.denial_memory
        await batch.read_open_confirmations(session, wanted, customers, addresses, denied_since)
        # The customers that disowned a sender's address, when its identity names another
        # (or none): their facts in one lookup, kept for the messages in the cache.
        disowners = set()
        for message_id, identity in batch.identities.items():
            channel = links.get(message_id)
            if channel and batch.denials is not None:
                denial = denial_of_channel(identity, channel, batch.denials.denials)
                if denial is not None and not _names_customer(identity, denial.customer_id):
                    disowners.add(denial.customer_id)
        if disowners:
            async with self.directory(session) as crm:
                await crm.customer_facts(sorted(disowners))
        return batch

    async def _verify(self, session: AsyncSession, message: MessageNormalized) -> list[Outgoing]:
        batch = batch_of(session, VerifyBatch)
        identity = batch.identities.get(message.message_id) if batch else None
        if identity is None:
            identity = await self.decide(session, message)
        now = self.clock()
        store = BatchConfirmationStore(session, batch) if batch else SqlConfirmationStore(session)
        confirmed: list[Outgoing] = []
        # The sender's address a confirmation would verify (and a denial may have disowned).
        channel = channel_to_link(message)
        if channel is not None and may_be_disowned(identity):
            identity = await self._heed_denials(session, store, channel, identity, now)
        if identity.status == "probable":
            identity = await self._start_confirmation(store, message, channel, identity, now)
        elif identity.status == "verified" and identity.customer is not None:
            confirmed, unclear = await self._confirm_by_reply(
                store, message, identity.customer.id, now
            )
            # Neither yes nor no: the holders of the sender's cases are told so (replies.py).
            identity = with_unclear_answers(identity, unclear)
        decision = decision_row(message.message_id, identity, now)
        if batch is not None:
            batch.decisions.append(decision)
        else:
            await record_decisions(session, [decision])
        event = IdentityVerified(
            event_id=derived_id("verified", message.message_id),
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            occurred_at=now,
            message=message,
            identity=identity,
            answers_confirmations=[o.payload["confirmation_id"] for o in confirmed],
        )
        return [Outgoing.of(MESSAGE_VERIFIED, event), *confirmed]

    # --- the confirmation loop -------------------------------------------------------

    async def _heed_denials(
        self,
        session: AsyncSession,
        store: SqlConfirmationStore,
        channel: tuple[str, str, str],
        identity: Identity,
        now: datetime,
    ) -> Identity:
        """A sender in the light of the recent denials of its address and, when probable,
        of its customer (denials.py)."""
        since = now - self.settings.denial_memory
        customer = identity.customer
        customers = [customer.id] if identity.status == "probable" and customer else []
        denials = await store.denials_of(customers, since, [(channel[0], channel[2])])
        disowned = denial_of_channel(identity, channel, denials)
        facts = {}
        if disowned is not None and not _names_customer(identity, disowned.customer_id):
            async with self.directory(session) as crm:  # a batch read them ahead
                facts = await crm.customer_facts([disowned.customer_id])
        return heed_denials(identity, disowned, denials, self.settings.weights, facts)

    async def _start_confirmation(
        self,
        store: SqlConfirmationStore,
        message: MessageNormalized,
        channel: tuple[str, str, str] | None,
        identity: Identity,
        now: datetime,
    ) -> Identity:
        """Ask the registered channel to confirm; the escalation does not wait for it."""
        registered = [c for c in identity.authorized_channels if c.kind == "email"]
        if self.secret is None or identity.customer is None or channel is None or not registered:
            return identity
        customer_id = identity.customer.id
        contact = identity.contact
        open_one = await store.open_for(customer_id, channel[0], channel[2], now)
        if open_one is not None:
            # The same address wrote again: the request already sent still holds, and links
            # the address where it said it would (this message's evidence may name another).
            request = self._request_of(open_one)
            if open_one.contact_id is None:
                files_under = open_one.claimed_name
            elif contact is not None and contact.id == open_one.contact_id:
                files_under = contact.name
            else:
                files_under = None  # a contact named before: not at hand here
        else:
            claimed = claimed_name(message, channel[1])
            request = new_confirmation(
                self.secret,
                message.message_id,
                now,
                self.settings.confirmation_ttl,
                self.settings.confirmation_base_url,
            )
            await store.add(
                request,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                customer_id=customer_id,
                contact_id=contact.id if contact else None,
                channel=channel,
                claimed_name=claimed,
                now=now,
            )
            files_under = contact.name if contact else claimed
        request = request.model_copy(update={"files_under": files_under})
        return identity.model_copy(update={"confirmation": request})

    def _request_of(self, pending: PendingConfirmation) -> ConfirmationRequest:
        assert self.secret is not None
        base = self.settings.confirmation_base_url
        url = None
        if base:
            url = f"{base.rstrip('/')}/" + sign_token(
                self.secret, pending.confirmation_id, pending.expires_at
            )
        return ConfirmationRequest(
            confirmation_id=pending.confirmation_id,
            code=pending.code,
            url=url,
            expires_at=pending.expires_at,
        )

    async def _confirm_by_reply(
        self,
        store: SqlConfirmationStore,
        message: MessageNormalized,
        customer_id: str,
        now: datetime,
    ) -> tuple[list[Outgoing], list[UnclearAnswer]]:
        """A verified channel of the customer replied with a code: confirmed, denied, or
        neither (left pending, and the requests so answered returned). The reply answers
        the requests of the first place naming one (`answered_codes`); a request only
        quoted further down is left as it was. Without a code, a no answers the requests
        it names (`_named_by_denial`)."""
        places = codes_by_place(message.text, message.subject, message.quoted_text)
        codes = list(dict.fromkeys(c for place in places for c in place))
        unnamed: set[str] = set()  # a no naming no request: neither yes nor no to it
        if codes:
            found = await store.with_codes(customer_id, codes)
            answered = answered_codes(places, {p.code for p in found})
        else:
            found, unnamed = await self._named_by_denial(store, message, customer_id)
            answered = {p.code for p in found}
        outputs: list[Outgoing] = []
        unclear: list[UnclearAnswer] = []
        said = {"message_id": str(message.message_id)}
        for pending in found:
            if pending.code not in answered:
                await store.log(pending.confirmation_id, "reply_about_another", said, now)
                continue
            read = "neither" if pending.code in unnamed else read_reply(message.text, pending.code)
            if pending.status == "confirmed" and read == "no":
                # A no after a yes (a "да" to the first mail, «Это не мы» to the second, the
                # payment-details one, which re-asks the same request): the confirmation is
                # not undone by words, but the holders of the sender's cases hear it.
                await store.log(pending.confirmation_id, "denied_after_confirmed", said, now)
                unclear.append(_unclear(pending, settled="confirmed"))
            elif pending.status != "pending":
                await store.log(
                    pending.confirmation_id,
                    "reply_ignored",
                    {"status": pending.status, **said},
                    now,
                )
            elif now >= pending.expires_at:
                await store.resolve(pending, "expired", "reply", now, message.message_id)
                outputs.append(expired_event(pending, now))
            elif read == "no":
                await store.resolve(pending, "denied", "reply", now, message.message_id)
                outputs.append(_denied(pending, now))
            elif read == "yes":
                outputs.append(await _confirm(store, pending, "reply", now, message.message_id))
            else:
                # Neither yes nor no in the reply's own words: the request stays pending,
                # and the holders of the sender's cases hear what the contact wrote.
                await store.log(pending.confirmation_id, "reply_unclear", said, now)
                unclear.append(_unclear(pending))
        return outputs, unclear

    async def _named_by_denial(
        self, store: SqlConfirmationStore, message: MessageNormalized, customer_id: str
    ) -> tuple[list[PendingConfirmation], set[str]]:
        """The pending requests a registered contact's fresh mail (no code: not a reply to
        the request) answers, and the codes of those it answers with neither yes nor no.

        A no in words that disown outright (`confirmation.disowns`) answers the requests a
        sentence of it disowns by address or claimed name (seed 000, acceptance: "Not us:
        nobody called Rachel White works here" left the forger's request pending, and its
        answers waiting). Only mail whose From the domain authenticated (DMARC pass) says
        no so: without the code, a forged From could otherwise disown the client's own new
        address; unauthenticated, it is neither (the holders read it and call). A disowning
        no that names no request is neither to the only one pending and nothing to several.
        A fresh mail never says yes: a yes needs the code, which only the request's mail
        carries."""
        if not (is_denial(message.text) and disowns(message.text)):
            return [], set()
        pending = await store.pending_of(customer_id)
        threshold = self.settings.matching.name_similarity
        named = [
            p
            for p in pending
            if names_disowned(message.text, p.channel_address, p.claimed_name, threshold)
        ]
        if named:
            unsure = message.channel == "email" and message.auth.dmarc != "pass"
            return named, {p.code for p in named} if unsure else set()
        if len(pending) == 1:
            return pending, {pending[0].code}
        return [], set()

    async def confirm_link(self, token: str) -> tuple[ConfirmationOutcome, list[Outgoing]]:
        """Follow a signed single-use link: the first use confirms, later ones change nothing."""
        now = self.clock()
        if self.secret is None:
            return _outcome("invalid", None, "confirmation links are not enabled here"), []
        try:
            claims = read_token(self.secret, token, now)
        except TokenRejected as exc:
            async with self.db.transaction() as session:
                await SqlConfirmationStore(session).log(
                    None, "link_rejected", {"reason": str(exc), "expired": exc.expired}, now
                )
            kind = "expired" if exc.expired else "invalid"
            return _outcome(kind, exc.confirmation_id, str(exc)), []
        key = f"confirmation:{claims.confirmation_id}"
        async with self.db.transaction() as session:
            await lock_key(session, f"verifier:{key}")
            store = SqlConfirmationStore(session)
            pending = await store.get(claims.confirmation_id)
            if pending is None:
                return _outcome("unknown", claims.confirmation_id, "no such confirmation"), []
            if pending.status == "confirmed":
                again = await outputs_of(session, processed, key) or []
                return (
                    _outcome("already_confirmed", pending.confirmation_id, "already confirmed"),
                    again,
                )
            if pending.status != "pending":
                await store.log(
                    pending.confirmation_id, "link_refused", {"status": pending.status}, now
                )
                kind = "denied" if pending.status == "denied" else "expired"
                return _outcome(
                    kind, pending.confirmation_id, f"this request is {pending.status}"
                ), []
            outputs = [await _confirm(store, pending, "link", now, None)]
            await record_outputs(session, processed, key, outputs, now)
        return (
            _outcome("confirmed", pending.confirmation_id, "thank you: the address is confirmed"),
            outputs,
        )


async def _confirm(
    store: SqlConfirmationStore,
    pending: PendingConfirmation,
    via: str,
    now: datetime,
    by_message_id: Any,
) -> Outgoing:
    contact_id = await store.link_channel(pending, now)
    await store.resolve(pending, "confirmed", via, now, by_message_id, contact_id)
    event = ChannelConfirmed(
        event_id=derived_id("channel-confirmed", pending.confirmation_id),
        message_id=pending.message_id,
        correlation_id=pending.correlation_id,
        occurred_at=now,
        confirmation_id=pending.confirmation_id,
        customer_id=pending.customer_id,
        contact_id=contact_id,
        channel=ChannelRef(
            kind=pending.channel_kind,  # type: ignore[arg-type]
            address=pending.channel_address,
            verified=True,
        ),
        via=via,  # type: ignore[arg-type]
        confirmed_at=now,
    )
    return Outgoing.of(CRM_CHANNEL_CONFIRMED, event)


def _denied(pending: PendingConfirmation, now: datetime) -> Outgoing:
    event = ConfirmationDenied(
        event_id=derived_id("confirmation-denied", pending.confirmation_id),
        message_id=pending.message_id,
        correlation_id=pending.correlation_id,
        occurred_at=now,
        confirmation_id=pending.confirmation_id,
        customer_id=pending.customer_id,
        denied_at=now,
    )
    return Outgoing.of(CRM_CONFIRMATION_DENIED, event)


def _outcome(kind: str, confirmation_id: Any, detail: str) -> ConfirmationOutcome:
    return ConfirmationOutcome(outcome=kind, confirmation_id=confirmation_id, detail=detail)  # type: ignore[arg-type]


class CrmSyncService:
    """Applies the real CRM's change events to the mirror, once each, newest wins."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def apply(self, event_id: str, change: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        key = f"crm-event:{event_id}"
        try:
            async with self.db.transaction() as session:
                await lock_key(session, f"verifier:{key}")
                if await outputs_of(session, processed, key) is not None:
                    return
                await change(session)
                await record_outputs(session, processed, key, [], self.clock())
        except IntegrityError as exc:
            # A contact before its customer (separate consumers): retry, the parent comes.
            raise RetryableError(f"crm event {event_id} refers to a record not on file") from exc


def _names_customer(identity: Identity, customer_id: str) -> bool:
    return identity.customer is not None and identity.customer.id == customer_id


def _links_of(messages: list[MessageNormalized]) -> dict[uuid.UUID, tuple[str, str, str]]:
    """Each message's address a confirmation would verify (`channel_to_link`), where it has
    one; a message whose address cannot be read is left to its own use case."""
    links = {}
    for message in messages:
        with contextlib.suppress(Exception):
            channel = channel_to_link(message)
            if channel is not None:
                links[message.message_id] = channel
    return links


def _unclear(pending: PendingConfirmation, settled: str | None = None) -> UnclearAnswer:
    """The request a reply answered without settling it (replies.py)."""
    return UnclearAnswer(
        pending.confirmation_id,
        pending.customer_id,
        pending.channel_kind,
        pending.channel_address,
        settled,
        pending.code if settled else None,
    )
