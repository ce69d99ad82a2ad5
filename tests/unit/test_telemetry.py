"""Span export: JSON lines by default, OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

import io
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from shared.broker import plain_logs_off_a_terminal
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


def test_faststream_log_lines_carry_no_colour_codes_into_a_file() -> None:
    logger = logging.getLogger("faststream")
    (handler,) = [  # FastStream's own (pytest adds its capturing handlers beside it)
        h
        for h in logger.handlers
        if isinstance(h, logging.StreamHandler) and hasattr(h.formatter, "use_colors")
    ]
    captured = io.StringIO()
    stream = handler.setStream(captured)
    try:
        plain_logs_off_a_terminal()
        logger.info("FastStream app started")
    finally:
        handler.setStream(stream)

    assert "\x1b[" not in captured.getvalue() and "INFO" in captured.getvalue()
