"""Trace context from the event that a span published, through its outbox row and its Kafka
record, to the span of its handling and the events that handling publishes."""

import asyncio

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from crnt_shared.consumer import EventConsumer
from crnt_shared.db import UnitOfWork
from crnt_shared.outbox import OutboxRelay
from crnt_shared.testing import wait_until
from crnt_shared.tracing import configure_tracing, current_traceparent
from faststream.kafka import KafkaBroker
from opentelemetry import trace

from tests.foundation.contracts import PingData, Pinged, record_effect

configure_tracing("test")
tracer = trace.get_tracer("tests")


def _ping(sequence: int) -> Pinged:
    return Pinged.create(source="/tests", subject="agg-1", data=PingData(sequence=sequence))


def _trace_id(traceparent: str | None) -> str:
    assert traceparent is not None
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2)
    return trace_id


def test_an_event_made_in_a_span_carries_its_traceparent_and_none_outside() -> None:
    with tracer.start_as_current_span("approve") as span:
        inside = _ping(1)
    outside = _ping(2)
    assert _trace_id(inside.traceparent) == format(span.get_span_context().trace_id, "032x")
    assert outside.traceparent is None
    caused = Pinged.create(
        source="/tests", subject="agg-1", data=PingData(sequence=3), cause=inside
    )
    assert caused.traceparent == inside.traceparent  # no span of its own: its cause's trace


@pytest.mark.integration
async def test_the_trace_goes_from_the_outbox_row_through_kafka_to_the_handling_span(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    with tracer.start_as_current_span("approve"):
        event = _ping(7)
        async with UnitOfWork(pool) as uow:
            await uow.publish(event, topic=topic)
            await uow.commit()
    async with pool.acquire() as connection:
        headers = await connection.fetchval("SELECT headers FROM outbox")
    assert headers == {"traceparent": event.traceparent}

    relay = OutboxRelay(pool, bootstrap_servers=kafka_bootstrap, service="test", poll_seconds=0.1)
    seen: list[str | None] = []

    async def traced(ping: Pinged, uow: UnitOfWork) -> None:
        seen.append(current_traceparent())
        await record_effect(ping, uow)

    broker = KafkaBroker(kafka_bootstrap, logger=None)
    EventConsumer(
        service="test", group_id=f"{topic}.c", topics=[topic], handlers={Pinged: traced}, pool=pool
    ).register(broker)
    relay.start()
    await broker.start()
    try:
        await wait_until(lambda: _handled(seen), timeout=60, message="the traced event")
    finally:
        await broker.stop()
        await relay.stop()
    assert _trace_id(seen[0]) == _trace_id(event.traceparent)
    assert seen[0] != event.traceparent  # a span of its own, child of the publisher's

    reader = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await reader.start()
    try:
        records = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    (record,) = [r for batch in records.values() for r in batch]
    assert dict(record.headers)["traceparent"] == (event.traceparent or "").encode()


async def _handled(seen: list[str | None]) -> bool:
    await asyncio.sleep(0)
    return bool(seen)
