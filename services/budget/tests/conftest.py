"""The budget on the real PostgreSQL (a fresh database per test) and Kafka (topics per test)."""

from collections.abc import AsyncIterator

import pytest
from crnt_budget.app import create_app
from crnt_budget.settings import BudgetSettings
from crnt_budget.testing import BUDGET_CATALOG, Programme, Published, Registry
from crnt_shared.testing import create_topics, reading, service_settings, started_app


@pytest.fixture
async def budget_topic(topic: str, kafka_bootstrap: str) -> str:
    """Where this test's budget publishes (``topic`` is where the registry's events go)."""
    name = f"{topic}.budget"
    await create_topics(kafka_bootstrap, {name: 3})
    return name


@pytest.fixture
async def programme_topic(topic: str, kafka_bootstrap: str) -> str:
    """Where this test's programme publishes, and its dead-letter twin."""
    name = f"{topic}.programme"
    await create_topics(kafka_bootstrap, {name: 3, f"{name}.dlq": 1})
    return name


@pytest.fixture
def recalculation_quiet() -> tuple[float, float]:
    """The recalculator's debounce and longest delay, in seconds (overridden per test)."""
    return 0.15, 2.0


@pytest.fixture
def settings(
    database_url: str,
    kafka_bootstrap: str,
    topic: str,
    budget_topic: str,
    programme_topic: str,
    recalculation_quiet: tuple[float, float],
) -> BudgetSettings:
    return service_settings(
        BudgetSettings,
        database_url,
        kafka_bootstrap,
        registry_topic=topic,
        programme_topic=programme_topic,
        consumer_group=f"budget-test-{topic}",
        programme_consumer_group=f"budget-programme-test-{topic}",
        budget_topic=budget_topic,
        recalculation_debounce_seconds=recalculation_quiet[0],
        recalculation_max_delay_seconds=recalculation_quiet[1],
        recalculation_poll_seconds=0.5,
        consumer_backoff_seconds=0.05,
        max_body_bytes=200_000,
    )


app = started_app(create_app)


@pytest.fixture
async def published(kafka_bootstrap: str, budget_topic: str) -> AsyncIterator[Published]:
    """The budget's events on this test's topic, read from the start."""
    async with reading(kafka_bootstrap, budget_topic, BUDGET_CATALOG) as records:
        yield Published(records)


@pytest.fixture
async def registry(kafka_bootstrap: str, topic: str) -> AsyncIterator[Registry]:
    """Stands in for the registry: publishes its events on this test's registry topic."""
    async with Registry(kafka_bootstrap, topic) as registry:
        yield registry


@pytest.fixture
async def programme(kafka_bootstrap: str, programme_topic: str) -> AsyncIterator[Programme]:
    """Stands in for the programme service: publishes on this test's programme topic."""
    async with Programme(kafka_bootstrap, programme_topic) as programme:
        yield programme
