"""Pytest fixtures for tests on the real Kafka and PostgreSQL (a plugin: ``pytest_plugins`` of
the root ``conftest.py``). Here rather than in ``crnt_shared``: they use the devstack (the mail
catcher, the local PostgreSQL), testcontainers and pytest, which the root project declares.

Endpoints come from the environment (``make test`` starts the local stack and sets them):
``KAFKA_BOOTSTRAP_SERVERS`` and ``CRNT_TEST_ADMIN_DATABASE_URL``. Where none are given and a
Docker engine answers, Kafka and PostgreSQL containers are started with testcontainers.
Otherwise the run stops with a sentence saying how to get them: never a silent skip.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN, app_client, create_topics, started
from fastapi import FastAPI

from tests.databases import fresh_database

HOW_TO = (
    "Tests need the real Kafka and PostgreSQL: run `make test` (it starts them without Docker), "
    "or set KAFKA_BOOTSTRAP_SERVERS and CRNT_TEST_ADMIN_DATABASE_URL, or start a Docker engine "
    "so that testcontainers can run them."
)


#: A test that asks for one of these (directly or through another fixture) needs the stack: it
#: is marked ``integration``, which ``make unit`` leaves out.
STACK_FIXTURES = frozenset({"kafka_bootstrap", "postgres_admin_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextmanager
def _given_or_started(
    variable: str, container: Callable[[], AbstractContextManager[str]]
) -> Iterator[str]:
    """What ``variable`` names (the stack's, as `make test` sets it), or else the address of a
    ``container`` of testcontainers; with neither, the run stops and says how to get one."""
    configured = os.environ.get(variable)
    if configured:
        yield configured
        return
    if not _docker_available():
        pytest.exit(HOW_TO, returncode=3)
    with container() as address:
        yield address


@contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as container:
        yield container.get_bootstrap_server()


_containers: dict[str, Any] = {}


@contextmanager
def _postgres_container() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16", driver=None) as container:
        _containers["postgres"] = container
        yield container.get_connection_url()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with _given_or_started("KAFKA_BOOTSTRAP_SERVERS", _kafka_container) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with _given_or_started("CRNT_TEST_ADMIN_DATABASE_URL", _postgres_container) as url:
        yield url


@pytest.fixture
def postgres_outage(postgres_admin_url: str) -> Callable[[float], Coroutine[Any, Any, None]]:
    """Stop PostgreSQL for ``seconds`` then start it again (the local cluster, or the
    container where testcontainers started one)."""

    async def outage(seconds: float) -> None:
        container = _containers.get("postgres")
        if container is not None:
            wrapped = container.get_wrapped_container()
            await asyncio.to_thread(wrapped.pause)
            await asyncio.sleep(seconds)
            await asyncio.to_thread(wrapped.unpause)
            return
        from crnt_devstack.postgres import start_postgres, stop_postgres

        await stop_postgres()
        await asyncio.sleep(seconds)
        await start_postgres()

    return outage


@pytest.fixture
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    async with fresh_database(postgres_admin_url) as url:
        yield url


async def fresh_topic(kafka_bootstrap: str, prefix: str = "test") -> str:
    """A new topic named ``<prefix>.<random>`` (3 partitions) and its dead-letter twin."""
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    await create_topics(kafka_bootstrap, {name: 3, f"{name}.dlq": 1})
    return name


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    """A new topic (3 partitions) and its dead-letter twin, for one test."""
    return await fresh_topic(kafka_bootstrap)


@pytest.fixture
async def app(settings: Any, create_service: Callable[[Any], FastAPI]) -> AsyncIterator[FastAPI]:
    """The test's service, started on its ``settings``: ``create_service`` (a fixture of the
    service's conftest) is its ``create_app``. A conftest may define its own ``app`` instead."""
    async with started(create_service(settings)) as app:
        yield app


@pytest.fixture
async def mail() -> AsyncIterator[MailCatcher]:
    """A mail catcher of the test's own, on free ports."""
    catcher = MailCatcher("127.0.0.1", smtp_port=0, http_port=0)
    await catcher.start()
    try:
        yield catcher
    finally:
        await catcher.stop()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to the ``app`` fixture of the test's service (``http://<service>``)."""
    async with app_client(app, app.state.runtime.service) as client:
        yield client


@pytest.fixture
def agency() -> dict[str, str]:
    """The headers of the agency's requests."""
    return {"Authorization": f"Bearer {AGENCY_TOKEN}"}


@pytest.fixture
def copil() -> dict[str, str]:
    """The headers of the steering committee's requests."""
    return {"Authorization": f"Bearer {COPIL_TOKEN}"}
