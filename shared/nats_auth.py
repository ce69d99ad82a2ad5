"""Who may do what on NATS: Careline's account, one user per service, publishers, operators.

A service's permissions are derived from its code, the same declarations that make its
AsyncAPI document: it may publish only the subjects of its declared publishers and its own
dead letters, use only its own durable consumers (create, pull, ack), read stream info
(services ensure the streams at start), and receive replies only under its own inbox
prefix (`_INBOX.<user>`, see `CarelineSettings.inbox_prefix`), so no service can read
another's deliveries. Publishers may only publish inbound messages and CRM changes.
Operators (`admin`) manage streams and replay dead letters.

`python -m shared.nats_auth` writes deploy/nats/auth.conf; passwords are references to
environment variables (`$NATS_<USER>_PASSWORD`), so a missing secret stops nats-server at
start. A unit test fails when the file drifts from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from shared.subjects import STREAMS, dead_letter

AUTH_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nats" / "auth.conf"
ACCOUNT = "CARELINE"
SERVICES = ("intake", "verifier", "escalator", "notifier")
PUBLISHER = "publisher"
ADMIN = "admin"
USERS = (*SERVICES, PUBLISHER, ADMIN)


def password_variable(user: str) -> str:
    """The environment variable nats-server reads the user's password (or bcrypt hash) from."""
    return f"NATS_{user.upper()}_PASSWORD"


def inbox(user: str) -> str:
    return f"_INBOX.{user}"


@dataclass(frozen=True)
class Consumer:
    stream: str
    durable: str


@dataclass(frozen=True)
class Endpoints:
    """What a service does on NATS, as its code declares it."""

    publishes: tuple[str, ...]
    consumers: tuple[Consumer, ...]
    # Core (non-JetStream) subscriptions, e.g. request-reply commands.
    listens: tuple[str, ...]


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False


def _address(subject: object) -> str:
    """FastStream keeps a subject as an Address; the broker sees its `broker_address`."""
    return str(getattr(subject, "broker_address", subject))


def endpoints_of(broker: object) -> Endpoints:
    """Read a built (not connected) FastStream NATS broker's publishers and subscribers."""
    publishes = sorted({_address(p.subject) for p in broker.publishers})  # type: ignore[attr-defined]
    consumers, listens = set(), set()
    for sub in broker.subscribers:  # type: ignore[attr-defined]
        stream = getattr(sub, "stream", None)
        config = getattr(sub, "config", None)
        durable = getattr(config, "durable_name", None)
        if stream is not None and durable:
            consumers.add(Consumer(stream.name, durable))
        else:
            listens.add(_address(sub.subject))
    return Endpoints(
        tuple(publishes),
        tuple(sorted(consumers, key=lambda c: (c.stream, c.durable))),
        tuple(sorted(listens)),
    )


def service_endpoints() -> dict[str, Endpoints]:
    """Build each service's app (nothing connects at build time) and read its endpoints."""
    from faststream import FastStream

    from services.escalator.app import build_app as escalator
    from services.intake.app import build_app as intake
    from services.notifier.app import build_app as notifier
    from services.verifier.app import build_app as verifier

    builders: dict[str, Callable[[], FastStream]] = {
        "intake": intake,
        "verifier": verifier,
        "escalator": escalator,
        "notifier": notifier,
    }
    return {name: endpoints_of(build().broker) for name, build in builders.items()}


def service_permissions(name: str, endpoints: Endpoints) -> Permissions:
    publish = set(endpoints.publishes) | {dead_letter(name)}
    # ensure_streams at start: read every stream's config (operators create and update).
    publish |= {f"$JS.API.STREAM.INFO.{spec.name}" for spec in STREAMS}
    for c in endpoints.consumers:
        publish |= {
            f"$JS.API.CONSUMER.INFO.{c.stream}.{c.durable}",
            f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable}",
            f"$JS.API.CONSUMER.CREATE.{c.stream}.{c.durable}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{c.stream}.{c.durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{c.stream}.{c.durable}",
            f"$JS.ACK.{c.stream}.{c.durable}.>",
        }
    subscribe = {f"{inbox(name)}.>", *endpoints.listens}
    return Permissions(
        tuple(sorted(publish)), tuple(sorted(subscribe)), allow_responses=bool(endpoints.listens)
    )


def all_permissions(endpoints: dict[str, Endpoints] | None = None) -> dict[str, Permissions]:
    endpoints = endpoints if endpoints is not None else service_endpoints()
    users = {name: service_permissions(name, endpoints[name]) for name in SERVICES}
    # Systems that feed Careline: client messages and CRM changes, with JetStream acks.
    users[PUBLISHER] = Permissions(("crm.>", "inbound.>"), (f"{inbox(PUBLISHER)}.>",))
    # Operators: `careline streams apply`, dead-letter replay, inspection.
    users[ADMIN] = Permissions((">",), (">",))
    return users


def _allow(kind: str, items: Iterable[str]) -> list[str]:
    pad = " " * 10
    return [
        f"{pad}{kind}: {{ allow: [",
        *(f'{pad}  "{item}"' for item in items),
        f"{pad}] }}",
    ]


def render_auth_conf(permissions: dict[str, Permissions] | None = None) -> str:
    permissions = permissions if permissions is not None else all_permissions()
    lines = [
        "# Generated from the services' code by `python -m shared.nats_auth`: do not edit.",
        "# One account for Careline; one user per service, one for publishers, one for",
        "# operators. Passwords (plain or bcrypt) come from the environment: a missing one",
        "# stops nats-server at start.",
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users: [",
    ]
    for user, perms in permissions.items():
        lines += [
            "      {",
            f"        user: {user}",
            f"        password: ${password_variable(user)}",
            "        permissions: {",
            *_allow("publish", perms.publish),
            *_allow("subscribe", perms.subscribe),
        ]
        if perms.allow_responses:
            lines.append("          allow_responses: true")
        lines += ["        }", "      }"]
    lines += ["    ]", "  }", "}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else AUTH_CONF
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_auth_conf(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
