"""NATS credentials, TLS and inbox from the environment, as every service reads them."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.nats.security import NatsCredentials, NatsUserPassword
from pydantic import ValidationError

from shared.broker import nats_connect_options, nats_security, nats_servers, work_queue
from shared.settings import CarelineSettings
from shared.subjects import STREAM_INBOUND

pytestmark = pytest.mark.unit


def test_embedded_default_connects_without_credentials() -> None:
    settings = CarelineSettings()
    assert nats_security(settings) is None
    assert nats_connect_options(settings) == {"inbox_prefix": "_INBOX"}


def test_user_and_password_get_their_own_inbox() -> None:
    settings = CarelineSettings(NATS_USER="verifier", NATS_PASSWORD="s3cret")  # type: ignore[call-arg]
    security = nats_security(settings)
    assert isinstance(security, NatsUserPassword)
    assert (security.username, security.password) == ("verifier", "s3cret")
    options = nats_connect_options(settings)
    assert options["user"] == "verifier" and options["password"] == "s3cret"
    # Pulled messages arrive in the inbox, which the NATS user may read only for itself.
    assert options["inbox_prefix"] == "_INBOX.verifier"
    queue = work_queue(STREAM_INBOUND, "inbound.*", "intake", settings)
    assert queue["inbox_prefix"] == b"_INBOX.verifier."


def test_creds_file_and_explicit_inbox(tmp_path: Path) -> None:
    creds = tmp_path / "intake.creds"
    settings = CarelineSettings(NATS_CREDS=creds, NATS_INBOX_PREFIX="_INBOX.intake")  # type: ignore[call-arg]
    assert isinstance(nats_security(settings), NatsCredentials)
    assert nats_connect_options(settings) == {
        "inbox_prefix": "_INBOX.intake",
        "user_credentials": str(creds),
    }


def test_tls_context_trusts_the_given_ca() -> None:
    ca = ssl.get_default_verify_paths().cafile
    if ca is None:  # the context still verifies against the system store
        ca = ssl.get_default_verify_paths().openssl_cafile
    settings = CarelineSettings(NATS_TLS_CA=ca)  # type: ignore[call-arg]
    context = nats_connect_options(settings)["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(
    "env",
    [
        {"NATS_USER": "intake"},
        {"NATS_PASSWORD": "x"},
        {"NATS_USER": "intake", "NATS_PASSWORD": "x", "NATS_CREDS": "/run/intake.creds"},
        {"NATS_TLS_CERT": "/run/tls.crt"},
    ],
)
def test_incomplete_credentials_fail_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        CarelineSettings(**env)  # type: ignore[arg-type]


def test_several_servers_of_a_cluster() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
