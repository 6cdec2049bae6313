"""The programme on the real PostgreSQL (a fresh database per test) and Kafka.

Each test's app reads the registry's events from a topic of its own (the ``topic`` fixture),
under a consumer group of its own, so that tests neither see nor steal each other's events.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from crnt_programme.app import create_app
from crnt_programme.handlers import on_centre_known, on_membership_changed
from crnt_programme.settings import ProgrammeSettings
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
    ApplicationSubmittedData,
    MembershipApproved,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.events import Event
from crnt_shared.runtime import ServiceRuntime
from crnt_shared.testing import centre_facts, create_topics, service_settings
from crnt_shared.testing import membership_event as membership_event_of
from fastapi import FastAPI

from services.programme.tests.kit import ActionBody, Membership, Seed

MEMBERSHIP_EVENT: dict[str, type[Event]] = {
    "member": MembershipApproved,
    "suspended": MembershipSuspended,
    "withdrawn": MembershipWithdrawn,
}


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


def membership_event(centre_id: UUID, name: str, status: str, previous: str) -> Event:
    """The registry's event for a centre's new membership status."""
    centre = centre_facts(
        name,
        status=status,
        id=centre_id,
        pivot="12345678900011",
        adresse="1 rue de la Paix",
        code_postal="62500",
        commune="Saint-Omer",
        code_insee="62765",
        workstations=8,
    )
    return membership_event_of(MEMBERSHIP_EVENT[status], centre, previous=previous)


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


@pytest.fixture
def registry_event() -> Membership:
    """``(centre_id, name, status, previous) → event``: the registry's membership event."""
    return membership_event


@pytest.fixture
def new_action() -> ActionBody:
    """``(lead, *participants, **changes) → body`` of ``POST /programmes/{year}/actions``."""
    return action_body


def action_body(lead: UUID, *participants: UUID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "axis": "ateliers",
        "title": "Ateliers « premiers pas »",
        "description": "Huit ateliers d'initiation dans les centres du réseau.",
        "lead_centre_id": str(lead),
        "participant_ids": [str(centre) for centre in participants],
        "starts_on": date(2025, 3, 1).isoformat(),
        "ends_on": date(2025, 6, 30).isoformat(),
        "estimated_cost": "1500.00",
    }
    body.update(changes)
    return body
