"""Helpers for the tests and benchmarks of every service (plain functions, no fixtures: the
fixtures that need the real Kafka and PostgreSQL, and the devstack, live in the root's
``tests/fixtures.py`` plugin, where those dependencies are declared).

- a service under test: :func:`service_settings`, :func:`started`, :func:`app_client`;
- Kafka: :func:`create_topics`, :func:`producer` (publishes as a relay does),
  :func:`reading` (collects what a service publishes);
- waiting: :func:`wait_until`, :func:`handled` (events in a service's inbox);
- the registry's events as the registry makes them: :func:`centre_facts`,
  :func:`membership_event`.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipChangeData
from crnt_shared.events import Event, EventCatalog, utcnow
from crnt_shared.settings import ServiceSettings

#: The bearer tokens of every service under test.
AGENCY_TOKEN = "test-agency-token"  # noqa: S105 - a test value
COPIL_TOKEN = "test-copil-token"  # noqa: S105 - a test value
REGISTRY_SOURCE = "/crnt/registry"

S = TypeVar("S", bound=ServiceSettings)


def service_settings(
    settings: type[S], database_url: str, kafka_bootstrap: str, **overrides: Any
) -> S:
    """A service's settings under test: the test's database and broker, the test tokens, quiet
    logs and a relay that polls often; ``overrides`` for the rest."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "agency_token": AGENCY_TOKEN,
        "copil_token": COPIL_TOKEN,
        "env": "test",
        "log_json": False,
        "log_level": "WARNING",
        "outbox_poll_seconds": 0.2,
    }
    return settings(_env_file=None, **(values | overrides))


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered: database migrated, relay, consumers and workers up."""
    async with app.router.lifespan_context(app):
        yield app


def started_app(create_app: Callable[[Any], FastAPI]) -> Any:
    """A service's ``app`` fixture: its app built from the test's ``settings`` fixture and
    started (``app = started_app(create_app)`` in its conftest)."""

    @pytest.fixture
    async def app(settings: Any) -> AsyncIterator[FastAPI]:
        async with started(create_app(settings)) as app:
            yield app

    return app


@asynccontextmanager
async def app_client(app: FastAPI, service: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to a service's app in this process (its lifespan entered by the caller)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        yield client


async def create_topics(bootstrap: str, topics: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name, num_partitions=partitions, replication_factor=1)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


Produce = Callable[..., Awaitable[None]]


@asynccontextmanager
async def producer(bootstrap: str) -> AsyncIterator[Produce]:
    """``await produce(topic, *events)``: CloudEvents JSON keyed by the subject, flushed, as a
    service's relay publishes them."""
    kafka = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await kafka.start()

    async def produce(topic: str, *events: Event) -> None:
        for event in events:
            await kafka.send(topic, event.to_json(), key=event.subject.encode())
        await kafka.flush()

    try:
        yield produce
    finally:
        await kafka.stop()


Record = tuple[bytes | None, Event]


@asynccontextmanager
async def reading(
    bootstrap: str, topic: str, catalog: EventCatalog, *, from_latest: bool = False
) -> AsyncIterator[list[Record]]:
    """The events of ``catalog`` on ``topic``, with their keys, as they arrive (a list that a
    background task fills). ``from_latest`` starts at the end, once positioned on every
    partition: only what is published from now on."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest" if from_latest else "earliest",
    )
    await consumer.start()
    if from_latest:

        async def assigned() -> bool:
            return bool(consumer.assignment())

        await wait_until(assigned, message="the consumer's assignment")
        for partition in consumer.assignment():
            await consumer.position(partition)
    records: list[Record] = []

    async def read() -> None:
        async for record in consumer:
            event = catalog.decode(record.value)
            if event is not None:
                records.append((record.key, event))

    task = asyncio.create_task(read())
    try:
        yield records
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def wait_until(
    condition: Any, *, timeout: float = 30.0, interval: float = 0.1, message: str = ""
) -> Any:
    """Poll an async ``condition`` until it returns a truthy value; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message or condition}")
        await asyncio.sleep(interval)


async def handled(app: FastAPI, events: Iterable[Event], timeout: float = 60.0) -> None:
    """Wait until the service has handled every one of ``events`` (they are in its inbox)."""
    runtime = app.state.runtime
    ids = [event.id for event in events]

    async def all_in() -> bool:
        async with runtime.pool.acquire() as connection:
            count = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
        return bool(count == len(ids))

    await wait_until(all_in, timeout=timeout, message=f"{len(ids)} event(s) handled")


def centre_facts(nom: str, *, status: str = "member", **changes: Any) -> CentreFacts:
    """A centre as the registry's events describe it (in Arques, CAPSO, unless ``changes``)."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "status": status,
        "nom": nom,
        "pivot": "43493312300029",
        "adresse": "2 rue des Tanneurs",
        "code_postal": "62510",
        "commune": "Arques",
        "code_insee": "62040",
        "epci_siren": "200069037",
        "epci_name": "CAPSO",
        "typologie": ["EPN"],
        "workstations": 6,
    }
    return CentreFacts(**(values | changes))


def membership_event(
    contract: type[Event],
    facts: CentreFacts,
    animators: Sequence[AnimatorFacts] = (),
    *,
    previous: str,
    reason: str | None = None,
) -> Event:
    """The registry's event of a centre's new membership status (``facts.status``)."""
    data = MembershipChangeData(
        previous_status=previous,
        status=facts.status,
        reason=reason,
        by="agency",
        at=utcnow(),
        centre=facts,
        animators=list(animators),
    )
    return contract.create(source=REGISTRY_SOURCE, subject=str(facts.id), data=data)
