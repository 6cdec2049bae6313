"""The spans of the hops an event goes through (no I/O): an HTTP request's, its commit, an outbox
row's publication, a consumer's commit of many events, a mail's SMTP send."""

import time
from collections.abc import Iterator

import pytest
from crnt_shared.tracing import (
    committed,
    committing,
    configure_tracing,
    current_traceparent,
    handling,
    published,
    sending,
)
from fastapi import APIRouter
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.unit.apps import app_with, client_of

configure_tracing("test")
exporter = InMemorySpanExporter()
provider = trace.get_tracer_provider()
assert isinstance(provider, TracerProvider)
provider.add_span_processor(SimpleSpanProcessor(exporter))

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
router = APIRouter()


@router.post("/things/{name}/approve")
async def approve(name: str) -> dict[str, str | None]:
    committed(2)
    return {"name": name, "traceparent": current_traceparent()}


@pytest.fixture(autouse=True)
def spans() -> Iterator[InMemorySpanExporter]:
    exporter.clear()
    yield exporter
    exporter.clear()


def _trace_id(traceparent: str | None) -> str:
    assert traceparent is not None
    return traceparent.split("-")[1]


def _finished(name: str) -> ReadableSpan:
    (span,) = [s for s in exporter.get_finished_spans() if s.name == name]
    return span


async def test_an_http_request_is_traced_from_the_caller_to_its_commit() -> None:
    app = app_with(router)
    async with client_of(app) as client:
        response = await client.post("/api/v1/things/a/approve", headers={"traceparent": CALLER})
    assert response.status_code == 200
    request = _finished("POST /api/v1/things/{name}/approve")
    assert request.kind is SpanKind.SERVER
    assert format(request.context.trace_id, "032x") == _trace_id(CALLER)
    # What the handler writes (its events) is in the request's trace; its commit is marked.
    assert _trace_id(response.json()["traceparent"]) == _trace_id(CALLER)
    commits = [
        event
        for span in exporter.get_finished_spans()
        if span.context.trace_id == request.context.trace_id
        for event in span.events
        if event.name == "commit"
    ]
    assert [event.attributes for event in commits] == [{"crnt.outbox.rows": 2}]


def test_a_commit_outside_any_span_marks_nothing() -> None:
    committed(1)
    assert exporter.get_finished_spans() == ()


def test_a_published_row_spans_from_its_send_to_now_in_the_trace_of_its_writer() -> None:
    sent = time.time_ns()
    published(CALLER, "crnt.registry.events", sent)
    span = _finished("publish crnt.registry.events")
    assert span.kind is SpanKind.PRODUCER
    assert span.start_time == sent
    assert span.end_time is not None
    assert span.end_time >= sent
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == CALLER[36:52]


def test_a_consumer_commit_of_many_events_links_each_ones_trace() -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    with committing([CALLER, other, None], "notifications"):
        committed(0)
    span = _finished("commit x3")
    assert format(span.context.trace_id, "032x") == _trace_id(CALLER)
    assert [format(link.context.trace_id, "032x") for link in span.links] == [
        _trace_id(CALLER),
        _trace_id(other),
    ]
    assert [event.name for event in span.events] == ["commit"]


def test_handling_names_the_event_and_sending_the_event_that_caused_the_mail() -> None:
    with handling("membership.approved", CALLER, "notifications", "e-1"):
        pass
    with sending("e-1", "membership_welcome"):
        pass
    handled = _finished("handle membership.approved")
    assert handled.attributes is not None
    assert handled.attributes["messaging.message.id"] == "e-1"
    sent = _finished("smtp send")
    assert sent.kind is SpanKind.CLIENT
    assert sent.attributes == {"crnt.event.id": "e-1", "crnt.delivery.kind": "membership_welcome"}
