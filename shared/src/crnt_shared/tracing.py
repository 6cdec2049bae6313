"""Trace context across the services: a W3C ``traceparent`` in every CloudEvent (the CloudEvents
distributed-tracing extension), in its outbox row and in its Kafka record's headers. Spans: an
HTTP request's (FastAPI makes them once a tracer provider is installed: the request, its
dependencies, its endpoint), a transaction's commit as an event of the current span, one per
outbox row from the relay's send to Kafka's ack, one per event handled (child of the span that
published it), one per consumer commit of a batch, one per mail handed to the SMTP server. Spans
leave the process over OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the exporter reads
the ``OTEL_EXPORTER_OTLP_*`` variables itself); otherwise they only give their ids to the events
that follow from them.
"""

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind
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


def committed(rows: int) -> None:
    """Mark the current span (if any records) with a transaction's commit and its outbox rows."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event("commit", {"crnt.outbox.rows": rows})


def published(traceparent: str, topic: str, sent_ns: int) -> None:
    """The span of one outbox row, from its hand-over to the producer (``sent_ns``) to Kafka's
    acknowledgement (now): a child of the span that wrote the row."""
    _tracer.start_span(
        f"publish {topic}",
        context=_context(traceparent),
        kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        start_time=sent_ns,
    ).end()


def sending(event_id: str, kind: str) -> AbstractContextManager[Span]:
    """The span of handing one mail to the SMTP server, named by the event that caused it
    (a delivery keeps no trace context of its own)."""
    return _tracer.start_as_current_span(
        "smtp send",
        kind=SpanKind.CLIENT,
        attributes={"crnt.event.id": event_id, "crnt.delivery.kind": kind},
    )


def handling(
    event_type: str, traceparent: str | None, consumer: str, event_id: UUID | str
) -> AbstractContextManager[Span]:
    """The span of handling one event: a child of the span that published it. None when no
    tracer provider is installed (it would only carry the publisher's context, at a cost per
    event: an event made by the handler takes it from its cause)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        return nullcontext(INVALID_SPAN)
    return _tracer.start_as_current_span(
        f"handle {event_type}",
        context=_context(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.consumer.group.name": consumer,
            "messaging.message.id": str(event_id),
        },
    )


def committing(traceparents: Sequence[str | None], consumer: str) -> AbstractContextManager[Span]:
    """The span of a consumer's commit of many events' effects, linked to each one's."""
    return _linked(f"commit x{len(traceparents)}", traceparents, consumer)


def handling_together(
    event_type: str, traceparents: Sequence[str | None], consumer: str
) -> AbstractContextManager[Span]:
    """The span of handling many events at once (a bulk handler), linked to each one's."""
    return _linked(f"handle {event_type} x{len(traceparents)}", traceparents, consumer)


def _linked(
    name: str, traceparents: Sequence[str | None], consumer: str
) -> AbstractContextManager[Span]:
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
        name,
        context=_context(traceparents[0]) if traceparents else None,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes=attributes,
    )
