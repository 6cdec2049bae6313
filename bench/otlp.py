"""A small OTLP/HTTP trace receiver for the end-to-end bench: the services export their spans to
it (``OTEL_EXPORTER_OTLP_ENDPOINT``), it keeps those of the traces it is told to record, and the
bench reads per trace where the time went (:func:`hops`)."""

import asyncio
import contextlib
import dataclasses
import gzip
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass(frozen=True)
class SpanRecord:
    service: str
    name: str
    trace_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, str]
    #: Trace ids this span links to (a consumer's span of many events).
    linked: tuple[str, ...]
    #: Timestamps of its ``commit`` events (a transaction's commit inside it).
    commits: tuple[int, ...]


def _value(value: AnyValue) -> str:
    kind = value.WhichOneof("value")
    return "" if kind is None else str(getattr(value, kind))


def _records(request: ExportTraceServiceRequest) -> Iterable[SpanRecord]:
    for resource_spans in request.resource_spans:
        service = next(
            (
                _value(a.value)
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            ),
            "",
        )
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield SpanRecord(
                    service=service.removeprefix("crnt-"),
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    attributes={a.key: _value(a.value) for a in span.attributes},
                    linked=tuple(link.trace_id.hex() for link in span.links),
                    commits=tuple(e.time_unix_nano for e in span.events if e.name == "commit"),
                )


@dataclass
class Receiver:
    """``POST /v1/traces`` (protobuf, optionally gzip) on 127.0.0.1; HTTP/1.1 keep-alive."""

    recording: bool = False
    spans: list[SpanRecord] = field(default_factory=list)
    received: int = 0
    _server: asyncio.Server | None = None
    _clients: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for client in self._clients:
                client.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body_out = ExportTraceServiceResponse().SerializeToString()
        self._clients.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                self._take(body)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                    + f"Content-Length: {len(body_out)}\r\n\r\n".encode()
                    + body_out
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    def dump(self, path: Path) -> None:
        """The spans recorded, one JSON object a line (to look into a trace by hand)."""
        with path.open("w", encoding="utf-8") as out:
            for span in self.spans:
                out.write(json.dumps(dataclasses.asdict(span)) + "\n")

    def _take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        if not self.recording:
            return
        for record in _records(request):
            self.received += 1
            self.spans.append(record)


APPROVED_HANDLED = "handle fr.crnt.registry.membership.approved.v1"
#: The hops of an approval, in order, each ending at a moment of its trace (see :func:`hops`).
HOPS = (
    "HTTP request → outbox commit (registry)",
    "outbox commit → Kafka ack (relay)",
    "Kafka ack → handled (notifications consumer)",
    "handled → mail queued (its commit)",
    "mail queued → SMTP send starts (sender)",
    "SMTP send (to the catcher's 250)",
)


def hops(spans: list[SpanRecord]) -> tuple[dict[str, list[float]], list[float], int]:
    """Per hop, its duration (s) in each complete approval trace: the registry's approve
    request (FastAPI's span) and its transaction's ``commit`` event, the relay's publish of
    ``membership.approved``, the notifications consumer's handling of it and the commit of its
    effects, then the SMTP send of the welcome (joined by the event's id: a delivery keeps no
    trace context). Also each trace's
    total and how many approval traces were seen."""
    by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
    commits_linked: dict[str, list[SpanRecord]] = defaultdict(list)
    sends: dict[str, SpanRecord] = {}
    for span in spans:
        by_trace[span.trace_id].append(span)
        for linked in span.linked:
            if linked != span.trace_id:
                commits_linked[linked].append(span)
        if span.name == "smtp send" and span.attributes.get("crnt.delivery.kind") == (
            "membership_welcome"
        ):
            sends.setdefault(span.attributes.get("crnt.event.id", ""), span)
    durations: dict[str, list[float]] = {hop: [] for hop in HOPS}
    totals: list[float] = []
    approvals = 0
    for trace_id, members in by_trace.items():
        request = next(
            (s for s in members if s.service == "registry" and s.name.endswith("/approve")),
            None,
        )
        commits = [c for s in members if s.service == "registry" for c in s.commits]
        if request is None or not commits:
            continue
        approvals += 1
        publish = [s for s in members if s.service == "registry" and s.name.startswith("publish ")]
        handled = next(
            (s for s in members if s.service == "notifications" and s.name == APPROVED_HANDLED),
            None,
        )
        if not publish or handled is None:
            continue
        send = sends.get(handled.attributes.get("messaging.message.id", ""))
        queued = [
            c
            for s in [*members, *commits_linked.get(trace_id, [])]
            if s.service == "notifications"
            and s.attributes.get("messaging.consumer.group.name")
            == handled.attributes.get("messaging.consumer.group.name")
            for c in s.commits
            if c >= handled.start_ns
        ]
        if send is None or not queued:
            continue
        moments = [
            request.start_ns,
            max(commits),
            max(s.end_ns for s in publish),
            min(handled.end_ns, min(queued)),
            min(queued),
            send.start_ns,
            send.end_ns,
        ]
        for hop, (earlier, later) in zip(HOPS, itertools.pairwise(moments), strict=True):
            durations[hop].append((later - earlier) / 1e9)
        totals.append((moments[-1] - moments[0]) / 1e9)
    return durations, totals, approvals
