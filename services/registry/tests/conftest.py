"""The registry on the real PostgreSQL (a fresh database per test) and Kafka."""

from collections.abc import AsyncIterator

import httpx
import pytest
from crnt_registry.app import create_app
from crnt_registry.settings import RegistrySettings
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN, app_client, create_topics
from crnt_shared.topics import environment_topics
from fastapi import FastAPI


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str) -> RegistrySettings:
    await create_topics(kafka_bootstrap, {environment_topics().registry: 6})
    return RegistrySettings(
        _env_file=None,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        agency_token=AGENCY_TOKEN,
        copil_token=COPIL_TOKEN,
        env="test",
        log_json=False,
        log_level="WARNING",
        outbox_poll_seconds=0.2,
        max_body_bytes=200_000,
    )


@pytest.fixture
async def app(settings: RegistrySettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app, "registry") as client:
        yield client
