"""Tracing for every service: the broker middleware and database spans share one provider.

With no OTEL_* configuration spans go to `var/traces/<service>.jsonl` (one JSON object per
span) so `careline trace MESSAGE_ID` can print the tree; with OTEL_EXPORTER_OTLP_ENDPOINT set
they go to OTLP over HTTP. Span attributes carry ids, never message text or addresses.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from shared.settings import CarelineSettings

# Attributes that may carry personal data are dropped before a span is written.
_PRIVATE_ATTRIBUTE_PARTS = ("payload", "body", "email", "address", "phone", "text")


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a JSON-lines file; one line per span, one write per line."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        lines = "".join(json.dumps(span_record(s), ensure_ascii=False) + "\n" for s in spans)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self._path.open("a", encoding="utf-8") as fh:
            fh.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    parent = span.parent
    attributes = {
        k: v
        for k, v in (span.attributes or {}).items()
        if not any(part in k.lower() for part in _PRIVATE_ATTRIBUTE_PARTS)
    }
    return {
        "trace_id": format(ctx.trace_id, "032x") if ctx else None,
        "span_id": format(ctx.span_id, "016x") if ctx else None,
        "parent_id": format(parent.span_id, "016x") if parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": attributes,
    }


def setup_telemetry(service_name: str, settings: CarelineSettings) -> TracerProvider:
    """A tracer provider for one service; passed explicitly, so services can share a process."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter: SpanExporter
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads the standard OTEL_* variables itself
    else:
        exporter = JsonLinesSpanExporter(settings.trace_dir / f"{service_name}.jsonl")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    return provider


def read_spans(trace_dir: Path) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for path in sorted(trace_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            spans.extend(json.loads(line) for line in fh if line.strip())
    return spans


def spans_of_trace(spans: Iterable[dict[str, Any]], trace_id: str) -> list[dict[str, Any]]:
    return sorted((s for s in spans if s["trace_id"] == trace_id), key=lambda s: s["start_ns"])


MESSAGE_ID_ATTRIBUTE = "careline.message_id"


def tag_message(message_id: object) -> None:
    """Mark the current (consumer) span with the client message it handles."""
    trace.get_current_span().set_attribute(MESSAGE_ID_ATTRIBUTE, str(message_id))


def traces_of_message(spans: Iterable[dict[str, Any]], message_id: str) -> list[str]:
    found: dict[str, None] = {}
    for span in spans:
        if span["attributes"].get(MESSAGE_ID_ATTRIBUTE) == message_id:
            found.setdefault(span["trace_id"], None)
    return list(found)


def span_tree(spans: list[dict[str, Any]], message_id: str) -> list[str]:
    """Indented lines, one per span, for every trace that carried the message."""
    lines: list[str] = []
    for trace_id in traces_of_message(spans, message_id):
        members = spans_of_trace(spans, trace_id)
        ids = {s["span_id"] for s in members}
        children: dict[str | None, list[dict[str, Any]]] = {}
        for span in members:
            parent = span["parent_id"] if span["parent_id"] in ids else None
            children.setdefault(parent, []).append(span)
        lines.append(f"trace {trace_id}")
        lines.extend(_tree_lines(children, None, 1))
    return lines


def _tree_lines(
    children: dict[str | None, list[dict[str, Any]]], parent: str | None, depth: int
) -> list[str]:
    lines = []
    for span in children.get(parent, []):
        ms = (span["end_ns"] - span["start_ns"]) / 1e6
        lines.append(f"{'  ' * depth}- [{span['service']}] {span['name']} {ms:.1f} ms")
        lines.extend(_tree_lines(children, span["span_id"], depth + 1))
    return lines


class TraceIdFilter(logging.Filter):
    """Adds the current trace id to every log record, so logs join traces by id."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else "-"
        return True


# What FastStream's brokers and apps log through (start, stop, connections, dead letters):
# its own handler colours every line, also into the log files `careline up` writes, and
# knows no trace ids; ours is plain and has them.
FASTSTREAM_LOG = logging.getLogger("careline.faststream")


def setup_logging(service_name: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s %(levelname)s {service_name} trace=%(trace_id)s %(name)s: %(message)s"
        )
    )
    root = logging.getLogger()
    if not any(isinstance(f, TraceIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(level)
