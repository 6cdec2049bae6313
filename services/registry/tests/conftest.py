"""The registry on the real PostgreSQL (a fresh database per test) and Kafka."""

from collections.abc import Callable

import httpx
import pytest
from crnt_registry.app import create_app
from crnt_registry.settings import RegistrySettings
from crnt_shared.testing import create_topics, service_settings
from fastapi import FastAPI

from services.registry.tests.samples import register_epcis


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str) -> RegistrySettings:
    settings = service_settings(
        RegistrySettings, database_url, kafka_bootstrap, max_body_bytes=200_000
    )
    await create_topics(kafka_bootstrap, {settings.topics.registry: 6})
    return settings


@pytest.fixture
def create_service() -> Callable[[RegistrySettings], FastAPI]:
    return create_app


@pytest.fixture
async def epcis(client: httpx.AsyncClient, agency: dict[str, str]) -> None:
    """The EPCIs of the Pays de Saint-Omer and of Lumbres, as the agency registered them."""
    await register_epcis(client, agency)
