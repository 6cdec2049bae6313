"""Trace context across the services: a W3C ``traceparent`` in every CloudEvent (the CloudEvents
distributed-tracing extension), in its outbox row and in its Kafka record's headers; a span per
event handled, child of the span that published it. Spans leave the process over OTLP only
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the exporter reads the ``OTEL_EXPORTER_OTLP_*``
variables itself); otherwise they only give their ids to the events that follow from them.
"""

import os
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("crnt")


def configure_tracing(service: str) -> None:
    """Install the process's tracer provider, once (the first service of a process names it)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"crnt-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span, ``None`` outside of any."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def _context(traceparent: str | None) -> Context | None:
    return _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None


def handling(
    event_type: str, traceparent: str | None, consumer: str
) -> AbstractContextManager[Span]:
    """The span of handling one event: a child of the span that published it."""
    return _tracer.start_as_current_span(
        f"handle {event_type}",
        context=_context(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.consumer.group.name": consumer},
    )


def handling_together(
    event_type: str, traceparents: list[str | None], consumer: str
) -> AbstractContextManager[Span]:
    """The span of handling many events at once (a bulk handler), linked to each one's."""
    links: list[Link] = []
    for traceparent in traceparents:
        context = _context(traceparent)
        if context is not None:
            links.append(Link(trace.get_current_span(context).get_span_context()))
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.consumer.group.name": consumer,
        "messaging.batch.message_count": len(traceparents),
    }
    return _tracer.start_as_current_span(
        f"handle {event_type} x{len(traceparents)}",
        context=_context(traceparents[0]) if traceparents else None,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes=attributes,
    )
