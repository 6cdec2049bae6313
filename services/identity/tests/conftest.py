"""Identity on the real PostgreSQL (a fresh database per test) and Kafka, with a mail catcher
of its own; registry events are produced to a topic of the test's own."""

import functools
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_identity.app import create_app
from crnt_identity.settings import IdentitySettings
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts
from crnt_shared.events import Event
from crnt_shared.testing import (
    centre_facts,
    create_topics,
    membership_event,
    producer,
    service_settings,
    started_app,
    wait_until,
)
from crnt_shared.testing import handled as handled_by
from fastapi import FastAPI

AGENCY_EMAIL = "lea.martin@agence.example.org"
COPIL_EMAIL = "paul.roux@copil.example.org"


@pytest.fixture
async def settings(
    database_url: str, kafka_bootstrap: str, topic: str, mail: MailCatcher
) -> IdentitySettings:
    settings = service_settings(
        IdentitySettings,
        database_url,
        kafka_bootstrap,
        agency_emails=f"{AGENCY_EMAIL}, ",
        copil_emails=COPIL_EMAIL,
        smtp_host="127.0.0.1",
        smtp_port=mail.smtp_port,
        smtp_from="CRNT <crnt@agence.example.org>",
        registry_topic=topic,
        consumer_group=f"identity-test-{uuid.uuid4().hex[:8]}",
        consumer_backoff_seconds=0.05,
        consumer_max_attempts=2,
    )
    await create_topics(kafka_bootstrap, {settings.topics.identity: 6})
    return settings


app = started_app(create_app)


@pytest.fixture
async def publish(kafka_bootstrap: str, topic: str) -> AsyncIterator[Any]:
    """Produces events to this test's registry topic."""
    async with producer(kafka_bootstrap) as produce:
        yield functools.partial(produce, topic)


def centre(nom: str, status: str = "member") -> CentreFacts:
    return centre_facts(nom, status=status)


def animator(email: str, name: str) -> AnimatorFacts:
    return AnimatorFacts(id=uuid.uuid4(), name=name, email=email)


def membership(
    contract: type[Event], facts: CentreFacts, people: list[AnimatorFacts], previous: str
) -> Event:
    return membership_event(contract, facts, people, previous=previous)


async def handled(app: FastAPI, *events: Event) -> None:
    await handled_by(app, events)


JETON = re.compile(r"jeton=([A-Za-z0-9_\-]+)")


async def link_secret(mail: MailCatcher, address: str, count: int = 1) -> str:
    """The secret of the last sign-in link mailed to ``address`` (waits for ``count`` mails)."""

    def to() -> list[Any]:
        return [m for m in mail.messages if any(a["Address"] == address for a in m.to)]

    async def arrived() -> bool:
        return len(to()) >= count

    await wait_until(arrived, timeout=20, message=f"{count} mail(s) to {address}")
    found = JETON.search(to()[-1].text)
    assert found, to()[-1].text
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, mail: MailCatcher, address: str) -> dict[str, Any]:
    before = len([m for m in mail.messages if any(a["Address"] == address for a in m.to)])
    response = await client.post("/api/v1/sign-in", json={"email": address})
    assert response.status_code == 202, response.text
    secret = await link_secret(mail, address, before + 1)
    redeemed = await client.post("/api/v1/sign-in/redeem", json={"token": secret})
    assert redeemed.status_code == 200, redeemed.text
    body: dict[str, Any] = redeemed.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
