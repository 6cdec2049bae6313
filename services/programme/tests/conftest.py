"""The programme on the real PostgreSQL (a fresh database per test) and Kafka.

Each test's app reads the registry's events from a topic of its own (the ``topic`` fixture),
under a consumer group of its own, so that tests neither see nor steal each other's events.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import pytest
from crnt_programme.app import create_app
from crnt_programme.handlers import on_centre_known, on_membership_changed
from crnt_programme.settings import ProgrammeSettings
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
    ApplicationSubmittedData,
)
from crnt_shared.events import Event
from crnt_shared.runtime import ServiceRuntime
from crnt_shared.testing import create_topics, service_settings
from fastapi import FastAPI

from services.programme.tests.kit import Seed, membership_event


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str, topic: str) -> ProgrammeSettings:
    settings = service_settings(
        ProgrammeSettings,
        database_url,
        kafka_bootstrap,
        registry_topic=topic,
        consumer_group=f"programme-test-{uuid.uuid4().hex[:8]}",
        consumer_backoff_seconds=0.05,
        consumer_max_attempts=2,
        max_body_bytes=200_000,
    )
    await create_topics(kafka_bootstrap, {settings.topics.programme: 6})
    return settings


@pytest.fixture
def create_service() -> Callable[[ProgrammeSettings], FastAPI]:
    return create_app


def application_event(centre_id: UUID, name: str) -> Event:
    approved = membership_event(centre_id, name, "member", "pending")
    data = ApplicationSubmittedData(
        application_id=uuid.uuid4(),
        channel="form",
        submitted_at=datetime.now(UTC),
        centre=approved.data.centre.model_copy(update={"status": "pending"}),
        animators=[],
    )
    return ApplicationSubmitted.create(source="/crnt/registry", subject=str(centre_id), data=data)


@pytest.fixture
def seed_centre(app: FastAPI) -> Seed:
    """A centre known to the programme with that status, through the very handlers that the
    Kafka consumer runs (fast, for the API tests; the event tests go through Kafka)."""
    runtime: ServiceRuntime = app.state.runtime

    async def seed(name: str, status: str = "member") -> UUID:
        centre_id = uuid.uuid4()
        async with runtime.unit_of_work() as uow:
            if status == "pending":
                await on_centre_known(application_event(centre_id, name), uow)
            else:
                await on_membership_changed(membership_event(centre_id, name, status, "x"), uow)
            await uow.commit()
        return centre_id

    return seed
