"""Span export: JSON lines by default, OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

import io
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from shared.settings import CarelineSettings
from shared.telemetry import read_spans, setup_telemetry, span_tree, tag_message

pytestmark = pytest.mark.unit


def test_spans_go_to_json_lines_without_otel_configuration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    provider = setup_telemetry("intake", CarelineSettings(CARELINE_VAR_DIR=str(tmp_path)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("inbound.chat process"):
        tag_message("m-1")
        with tracer.start_as_current_span("INSERT"):
            pass
    provider.shutdown()
    spans = read_spans(tmp_path / "traces")
    assert {s["service"] for s in spans} == {"intake"}
    lines = span_tree(spans, "m-1")
    assert lines[0].startswith("trace ")
    assert lines[1].startswith("  - [intake] inbound.chat process ")
    assert lines[2].startswith("    - [intake] INSERT ")  # the child, indented under it
    assert span_tree(spans, "another-message") == []


def test_spans_go_to_otlp_when_an_endpoint_is_configured(tmp_path: Path, monkeypatch) -> None:
    received: list[tuple[str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    try:
        settings = CarelineSettings(CARELINE_VAR_DIR=str(tmp_path))
        provider = setup_telemetry("verifier", settings)
        with provider.get_tracer("test").start_as_current_span("message.normalized process"):
            pass
        provider.shutdown()
    finally:
        server.shutdown()
    assert [path for path, _ in received] == ["/v1/traces"]
    assert b"message.normalized process" in received[0][1]
    assert b"verifier" in received[0][1]
    assert not (tmp_path / "traces").exists()


def test_faststream_logs_through_ours_plain_and_with_the_trace_id() -> None:
    """FastStream's own handler colours every line (into `careline up`'s log files too):
    a service's broker and app log through our logger instead."""
    from shared.app import build_service_app
    from shared.settings import CarelineSettings
    from shared.telemetry import FASTSTREAM_LOG

    app = build_service_app("intake", CarelineSettings(), lambda broker, db: None, "test")
    app.broker._setup_logger()  # what starting it does first
    assert app.broker.config.logger.logger.logger is FASTSTREAM_LOG
    assert app.logger is FASTSTREAM_LOG
    assert FASTSTREAM_LOG.handlers == [] and FASTSTREAM_LOG.propagate  # ours: the root's

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        FASTSTREAM_LOG.warning("FastStream app shut down gracefully.")
    finally:
        logging.getLogger().removeHandler(handler)
    assert (
        captured.getvalue() == "WARNING careline.faststream: FastStream app shut down gracefully.\n"
    )
