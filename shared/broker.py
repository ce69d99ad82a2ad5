"""Broker plumbing every service uses: the same middlewares, the same delivery contract.

Delivery contract of a work-queue consumer: a durable pull consumer shared by all replicas
of a service, deliver-all, explicit ack after the handler's effects are committed, at most
`max_deliver` deliveries. Errors map in one place (`DeadLetterMiddleware`): bad input and
permanent errors go to `dlq.<service>` at once with the reason; other errors are redelivered
with backoff until the last delivery, which also goes to the dead letter.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker, PullSub
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.response import NatsPublishCommand
from faststream.nats.security import NatsCredentials, NatsSecurity, NatsUserPassword
from faststream.response.publish_type import PublishType
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from opentelemetry import propagate
from opentelemetry.trace import TracerProvider
from pydantic import ValidationError

from shared.contracts import DeadLetter, derived_id
from shared.errors import PermanentError, validation_problems
from shared.nats_fetch import use_prompt_fetch
from shared.outbox import Outgoing
from shared.settings import CarelineSettings
from shared.subjects import STREAMS, StreamSpec, dead_letter, stream_replicas
from shared.telemetry import FASTSTREAM_LOG

log = logging.getLogger(__name__)

# Input that can never succeed however often it is redelivered.
_PERMANENT = (PermanentError, ValidationError, UnicodeDecodeError, ValueError)


def deliveries_of(msg: StreamMessage[Any]) -> int:
    try:
        return int(msg.raw_message.metadata.num_delivered)
    except Exception:  # core NATS or the in-memory test broker: no JetStream metadata
        return 1


def _dead_letter_for(
    service: str, msg: StreamMessage[Any], exc: BaseException, deliveries: int
) -> DeadLetter:
    body: bytes = msg.body
    try:
        payload, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        payload, encoding = base64.b64encode(body).decode("ascii"), "base64"
    reason = str(exc) if not isinstance(exc, ValidationError) else _readable(exc)
    headers = {k: str(v) for k, v in (msg.headers or {}).items()}
    return DeadLetter(
        event_id=_dead_letter_id(service, msg),
        service=service,
        subject=str(getattr(msg.raw_message, "subject", "")),
        reason=f"{type(exc).__name__}: {reason}"[:2000],
        error_type=type(exc).__name__,
        deliveries=deliveries,
        payload=payload,
        payload_encoding=encoding,  # type: ignore[arg-type]
        headers=headers,
        failed_at=datetime.now(UTC),
    )


def _dead_letter_id(service: str, msg: StreamMessage[Any]) -> uuid.UUID:
    """Stable per stored message, so a dead letter re-sent after a lost ack is dropped."""
    try:
        sequence = msg.raw_message.metadata.sequence.stream
    except Exception:  # not a JetStream message: nothing stable to derive from
        return uuid.uuid4()
    return derived_id("dead-letter", service, msg.raw_message.subject, sequence)


def _readable(exc: ValidationError) -> str:
    return "invalid payload: " + "; ".join(validation_problems(exc))


def dead_letter_middleware(
    broker: NatsBroker, service: str, settings: CarelineSettings
) -> type[BaseMiddleware]:
    max_deliver = settings.max_deliver
    backoff = settings.retry_backoff_seconds

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
            try:
                return await call_next(msg)
            except Exception as exc:
                deliveries = deliveries_of(msg)
                if isinstance(exc, _PERMANENT) or deliveries >= max_deliver:
                    letter = _dead_letter_for(service, msg, exc, deliveries)
                    log.warning(
                        "dead-lettering message (deliveries=%s, error=%s)",
                        deliveries,
                        letter.error_type,
                    )
                    await broker.publish(
                        letter,
                        dead_letter(service),
                        headers={"Nats-Msg-Id": str(letter.event_id)},
                        stream="CARELINE_DLQ",
                    )
                    await msg.ack()
                    return None
                log.warning(
                    "delivery %s/%s failed (%s); redelivering",
                    deliveries,
                    max_deliver,
                    type(exc).__name__,
                )
                # NatsMessage.nack takes a delay: JetStream redelivers after it (backoff).
                await msg.nack(delay=backoff * deliveries)  # type: ignore[call-arg]
                return None

    return DeadLetterMiddleware


def build_broker(
    service: str, settings: CarelineSettings, tracer_provider: TracerProvider | None
) -> NatsBroker:
    """Telemetry first, so dead letters and publishes are inside the consumer's span."""
    use_prompt_fetch()
    broker = NatsBroker(
        nats_servers(settings.nats_url),
        middlewares=[NatsTelemetryMiddleware(tracer_provider=tracer_provider)],
        graceful_timeout=10.0,
        # Per-message "Received"/"Processed" lines at DEBUG: at INFO they cost a third of
        # a trivial hop's throughput (measured with the benchmark's ceiling).
        log_level=logging.DEBUG,
        logger=FASTSTREAM_LOG,
        security=nats_security(settings),
        inbox_prefix=settings.inbox_prefix,
        # A cluster node going away is routine: keep reconnecting to the others.
        max_reconnect_attempts=-1,
    )
    broker.add_middleware(dead_letter_middleware(broker, service, settings))
    return broker


def nats_servers(nats_url: str) -> list[str]:
    """NATS_URL may list several servers of a cluster, comma-separated."""
    return [url.strip() for url in nats_url.split(",") if url.strip()]


def _tls_context(settings: CarelineSettings) -> ssl.SSLContext | None:
    if settings.nats_tls_ca is None and settings.nats_tls_cert is None:
        return None  # plain, or tls:// URLs verified against the system CAs
    context = ssl.create_default_context(
        cafile=str(settings.nats_tls_ca) if settings.nats_tls_ca else None
    )
    if settings.nats_tls_cert is not None and settings.nats_tls_key is not None:
        context.load_cert_chain(str(settings.nats_tls_cert), str(settings.nats_tls_key))
    return context


def nats_security(settings: CarelineSettings) -> NatsSecurity | None:
    """The broker's credentials and TLS from the environment (NATS_USER, NATS_CREDS, ...)."""
    context = _tls_context(settings)
    if settings.nats_creds is not None:
        return NatsCredentials.from_file(settings.nats_creds, ssl_context=context)
    if settings.nats_user is not None and settings.nats_password is not None:
        return NatsUserPassword(
            settings.nats_user, settings.nats_password.get_secret_value(), ssl_context=context
        )
    return NatsSecurity(ssl_context=context) if context is not None else None


def nats_connect_options(settings: CarelineSettings) -> dict[str, Any]:
    """`nats.connect` keyword arguments with the same credentials, TLS and inbox as the broker."""
    options: dict[str, Any] = {"inbox_prefix": settings.inbox_prefix}
    context = _tls_context(settings)
    if context is not None:
        options["tls"] = context
    if settings.nats_creds is not None:
        options["user_credentials"] = str(settings.nats_creds)
    if settings.nats_user is not None and settings.nats_password is not None:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password.get_secret_value()
    return options


async def connect(
    settings: CarelineSettings, nats_url: str | None = None, *, patient: bool = True
) -> NatsClient:
    """A plain nats.py client with the service's credentials (CLI, stream management).

    A service starting beside its NATS server is patient (nats.py's default: a minute of
    retries). A person at the command line is not: `patient=False` gives up after a few
    quick tries, quietly, so the CLI can say plainly that Careline is not running.
    """
    options = nats_connect_options(settings)
    if not patient:
        options.update(
            max_reconnect_attempts=2, reconnect_time_wait=0.2, error_cb=_quiet, connect_timeout=2
        )
    return await nats.connect(nats_servers(nats_url or settings.nats_url), **options)


async def _quiet(exc: Exception) -> None:
    log.debug("NATS connection error: %s", exc)


def work_queue(
    stream: StreamSpec, subject: str, durable: str, settings: CarelineSettings
) -> dict[str, Any]:
    """Subscriber arguments for a durable, explicitly acked, bounded work-queue consumer."""
    return {
        "subject": subject,
        "stream": JStream(stream.name, declare=False),
        "durable": durable,
        # A pull brings what is there, up to a batch; the handlers of a pull run at once
        # and commit together (shared.group_commit).
        "pull_sub": PullSub(batch_size=settings.batch_size, timeout=1.0),
        "config": ConsumerConfig(
            durable_name=durable,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=settings.max_deliver,
            ack_wait=settings.ack_wait_seconds,
            filter_subject=subject,
        ),
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        **({"max_workers": settings.consumer_workers} if settings.consumer_workers > 1 else {}),
        # Pulled messages arrive under the service's own inbox (the only one it may read).
        "inbox_prefix": f"{settings.inbox_prefix}.".encode(),
    }


# How long a publish waits for JetStream's ack before the handler fails (and redelivers).
PUBLISH_ACK_TIMEOUT = 5.0


async def publish_all(broker: NatsBroker, outputs: list[Outgoing]) -> None:
    """Publish stored outputs; their event id is the Nats-Msg-Id, so a repeat is dropped.

    All are sent at once and their acks awaited together: one round trip, not one each.
    The current trace context (the consumer span of the message) goes in the headers, so
    the next service's consumer span continues the message's trace; FastStream's publish
    middlewares, which add two spans per publish and most of its cost, are not involved.
    """
    if len(outputs) == 1:
        await _publish(broker, outputs[0])
    elif outputs:
        await asyncio.gather(*(_publish(broker, out) for out in outputs))


async def _publish(broker: NatsBroker, out: Outgoing) -> None:
    headers = {"Nats-Msg-Id": out.event_id}
    propagate.inject(headers)
    command = NatsPublishCommand(
        out.payload,
        subject=out.subject,
        headers=headers,
        correlation_id=str(out.payload.get("correlation_id") or out.event_id),
        stream=_stream_of(out.subject),
        timeout=PUBLISH_ACK_TIMEOUT,
        _publish_type=PublishType.PUBLISH,
    )
    await broker.config.js_producer.publish(command)


def _stream_of(subject: str) -> str:
    for spec in STREAMS:
        for pattern in spec.subjects:
            if pattern == subject or (pattern.endswith(".>") and subject.startswith(pattern[:-1])):
                return spec.name
    raise PermanentError(f"no stream carries subject {subject!r}")


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        max_age=spec.max_age_seconds,
        duplicate_window=spec.duplicate_window_seconds,
        num_replicas=replicas,
    )


def _differences(current: StreamConfig, wanted: StreamConfig) -> list[str]:
    """The settings of streams.yaml in which the server's stream differs from it."""
    pairs = {
        "subjects": (sorted(current.subjects or []), sorted(wanted.subjects or [])),
        "max_age": (current.max_age, wanted.max_age),
        "duplicate_window": (current.duplicate_window, wanted.duplicate_window),
        "replicas": (current.num_replicas, wanted.num_replicas),
        "description": (current.description or "", wanted.description or ""),
    }
    return [f"{name} {have!r} -> {want!r}" for name, (have, want) in pairs.items() if have != want]


async def ensure_streams(
    nats_url: str, replicas: int | None = None, settings: CarelineSettings | None = None
) -> None:
    """Create every Careline stream (shared/data/streams.yaml), or update one that differs.

    Idempotent. Replicas default to the CARELINE_STREAM_PROFILE profile; credentials come
    from `settings` (the environment by default). A stream that already matches is left
    alone, so a service whose NATS user may only read stream info starts on streams that
    `careline streams apply` created with the operator's user.
    """
    settings = settings or CarelineSettings()
    if replicas is None:
        replicas = stream_replicas(settings.stream_profile)
    nc = await connect(settings, nats_url)
    try:
        js = nc.jetstream()
        for spec in STREAMS:
            config = stream_config(spec, replicas)
            try:
                current = (await js.stream_info(spec.name)).config
            except NotFoundError:
                try:
                    await js.add_stream(config)
                    continue
                except Exception:  # another service created it meanwhile: compare below
                    current = (await js.stream_info(spec.name)).config
            differences = _differences(current, config)
            if not differences:
                continue
            try:
                await js.update_stream(config)
            except NatsError as exc:  # refused (permissions: a timeout) or rejected
                # A service's NATS user may not change streams: run with the stream as it
                # is and say so; `careline streams apply` as an operator brings it in line.
                log.warning(
                    "stream %s differs from streams.yaml (%s) and was not updated (%s)",
                    spec.name,
                    "; ".join(differences),
                    type(exc).__name__,
                )
    finally:
        await nc.close()
