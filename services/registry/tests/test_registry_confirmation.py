"""No open relay, in the registry on the real PostgreSQL and Kafka: anonymous applications hold
their addresses unconfirmed and ask each at most once per window, are rate-limited per client,
are confirmed by the notifications' event, and expire when nobody confirms."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from crnt_registry.app import create_app
from crnt_registry.settings import RegistrySettings
from crnt_shared.contracts.notifications import AddressConfirmed, AddressConfirmedData
from crnt_shared.contracts.registry import REGISTRY_EVENTS
from crnt_shared.events import Event, EventCatalog, utcnow
from crnt_shared.testing import app_client, started, wait_until
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.registry.tests.samples import register_epcis
from services.registry.tests.test_registry_api import application, problem
from tests.fixtures import fresh_topic

pytestmark = pytest.mark.integration

API = "/api/v1"
CATALOG = EventCatalog(REGISTRY_EVENTS)
CAMILLE = "camille.martin@lumbres.example"


@pytest.fixture
async def confirmations_topic(kafka_bootstrap: str) -> str:
    """The notifications' topic of this test: the registry reads confirmations from it."""
    return await fresh_topic(kafka_bootstrap, "test.notifications")


@pytest.fixture
def expiry_seconds() -> float:
    """How long an unconfirmed application lives (a test may shorten it)."""
    return 86_400.0


@pytest.fixture
def trusted_proxies() -> list[str]:
    return []


@pytest.fixture
def relay_settings(
    settings: RegistrySettings,
    confirmations_topic: str,
    expiry_seconds: float,
    trusted_proxies: list[str],
) -> RegistrySettings:
    return settings.model_copy(
        update={
            "trusted_proxies": trusted_proxies,
            "applications_per_client": 4,
            "notifications_topic": confirmations_topic,
            "consumer_group": f"registry-{uuid.uuid4().hex[:8]}",
            "unconfirmed_application_days": expiry_seconds / 86_400,
            "expiry_poll_seconds": 0.2,
        }
    )


@pytest.fixture
async def relay_app(relay_settings: RegistrySettings) -> AsyncIterator[FastAPI]:
    async with started(create_app(relay_settings)) as app:
        yield app


@pytest.fixture
async def relay(relay_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(relay_app, "registry") as client:
        yield client


async def published(database_url: str, centre_id: str) -> list[Event]:
    """The events the registry wrote about a centre, in order (from its outbox)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT payload FROM outbox WHERE key = $1 ORDER BY id", centre_id
        )
    finally:
        await connection.close()
    events = [CATALOG.decode(bytes(row["payload"])) for row in rows]
    return [event for event in events if event is not None]


def named(pivot: str, *emails: str) -> dict[str, Any]:
    body = application(pivot=pivot)
    body["animators"] = [
        {"name": f"Personne {index}", "email": email} for index, email in enumerate(emails)
    ]
    return body


async def test_an_address_is_asked_once_however_many_applications_name_it(
    relay: httpx.AsyncClient, agency: dict[str, str], database_url: str
) -> None:
    await register_epcis(relay, agency)
    first = await relay.post(f"{API}/applications", json=named("00000000000000", CAMILLE))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["confirmation"] == "awaiting"
    assert body["expires_at"] is not None
    assert [a["confirmed"] for a in body["animators"]] == [False]
    [submitted] = await published(database_url, body["centre_id"])
    assert submitted.data.confirmation_required is True
    assert submitted.data.confirmation_requested == [uuid.UUID(body["animators"][0]["id"])]
    assert [a.confirmed for a in submitted.data.animators] == [False]

    # The same address again (case aside), with another one: only the new one is asked.
    again = await relay.post(
        f"{API}/applications", json=named("00000000000000", CAMILLE.upper(), "sam@lumbres.example")
    )
    assert again.status_code == 201, again.text
    [resubmitted] = await published(database_url, again.json()["centre_id"])
    sam = next(a for a in again.json()["animators"] if a["email"] == "sam@lumbres.example")
    assert resubmitted.data.confirmation_requested == [uuid.UUID(sam["id"])]

    # The agency sees which addresses are confirmed, on the application and the centre.
    awaiting = await relay.get(
        f"{API}/applications", params={"confirmation": "awaiting"}, headers=agency
    )
    assert awaiting.json()["total"] == 2
    none = await relay.get(
        f"{API}/applications", params={"confirmation": "confirmed"}, headers=agency
    )
    assert (none.json()["total"], none.json()["items"]) == (0, [])
    seen = (await relay.get(f"{API}/applications/{body['id']}", headers=agency)).json()
    assert seen["confirmation"] == "awaiting"
    assert [(a["email"], a["confirmed"]) for a in seen["animators"]] == [(CAMILLE, False)]
    centre = (await relay.get(f"{API}/centres/{body['centre_id']}", headers=agency)).json()
    assert [a["confirmed"] for a in centre["animators"]] == [False]


async def test_what_the_agency_enters_needs_no_confirmation(
    relay: httpx.AsyncClient, agency: dict[str, str], database_url: str
) -> None:
    await register_epcis(relay, agency)
    for _ in range(6):  # more than the anonymous limit: the agency is not limited
        entered = await relay.post(
            f"{API}/applications", json=named("00000000000000", CAMILLE), headers=agency
        )
        assert entered.status_code == 201, entered.text
    body = entered.json()
    assert body["confirmation"] == "not_required"
    assert body["expires_at"] is None
    assert [a["confirmed"] for a in body["animators"]] == [True]
    [submitted] = await published(database_url, body["centre_id"])
    assert submitted.data.confirmation_required is False
    assert submitted.data.confirmation_requested == []
    assert [a.confirmed for a in submitted.data.animators] == [True]
    added = await relay.post(
        f"{API}/centres/{body['centre_id']}/animators",
        json={"name": "Sam", "email": "sam@lumbres.example"},
        headers=agency,
    )
    assert added.json()["confirmed"] is True


async def test_anonymous_applications_are_limited_per_client(
    relay: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await register_epcis(relay, agency)
    for index in range(4):
        response = await relay.post(
            f"{API}/applications", json=named("00000000000000", f"p{index}@example.net")
        )
        assert response.status_code == 201, response.text
    refused = problem(
        await relay.post(f"{API}/applications", json=named("00000000000000", "p9@example.net")), 429
    )
    assert 3500 <= refused["retry_after"] <= 3600
    assert "retry in" in refused["detail"]
    # The refusal wrote nothing.
    listed = await relay.get(f"{API}/applications", headers=agency)
    assert listed.json()["total"] == 4


@pytest.mark.parametrize("trusted_proxies", [["127.0.0.1"]])
async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    relay: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await register_epcis(relay, agency)

    async def submit(client: str, index: int) -> int:
        response = await relay.post(
            f"{API}/applications",
            json=named("00000000000000", f"f{index}@example.net"),
            headers={"X-Forwarded-For": client},
        )
        return response.status_code

    assert [await submit("198.51.100.1", index) for index in range(5)] == [201] * 4 + [429]
    assert await submit("198.51.100.2", 9) == 201
    # Prepending a made-up address does not escape the limit.
    assert await submit("6.6.6.6, 198.51.100.1", 10) == 429


async def test_a_burst_is_refused_with_retry_after(
    relay: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await register_epcis(relay, agency)
    statuses = []
    for index in range(8):
        response = await relay.post(
            f"{API}/applications", json=named("00000000000000", f"b{index}@example.net")
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    assert statuses == [201] * 4 + [429] * 4


async def test_the_confirmation_event_confirms_the_address_and_the_application(
    relay: httpx.AsyncClient,
    agency: dict[str, str],
    database_url: str,
    kafka_bootstrap: str,
    confirmations_topic: str,
    relay_settings: RegistrySettings,
) -> None:
    await register_epcis(relay, agency)
    body = (
        await relay.post(
            f"{API}/applications", json=named("00000000000000", CAMILLE, "sam@lumbres.example")
        )
    ).json()
    confirmed = AddressConfirmed.create(
        source="/crnt/notifications",
        subject=body["id"],
        data=AddressConfirmedData(application_id=body["id"], email=CAMILLE.upper(), at=utcnow()),
    )
    broker = KafkaBroker(kafka_bootstrap)
    await broker.start()
    try:
        for _ in range(2):  # redelivered: handled once
            await broker.publish(
                confirmed.to_json(), topic=confirmations_topic, key=body["id"].encode()
            )
    finally:
        await broker.stop()

    async def confirmation() -> dict[str, Any] | None:
        seen = (await relay.get(f"{API}/applications/{body['id']}", headers=agency)).json()
        return seen if seen["confirmation"] == "confirmed" else None

    seen = await wait_until(confirmation, timeout=30, message="the confirmation consumed")
    assert {a["email"]: a["confirmed"] for a in seen["animators"]} == {
        CAMILLE: True,
        "sam@lumbres.example": False,
    }
    events = await published(database_url, body["centre_id"])
    assert [event.type for event in events] == [
        "fr.crnt.registry.application.submitted.v1",
        "fr.crnt.registry.application.address_confirmed.v1",
    ]
    told = events[1].data
    assert (told.animator.email, told.first, told.application_status) == (CAMILLE, True, "pending")
    assert {a.email: a.confirmed for a in told.animators} == {
        CAMILLE: True,
        "sam@lumbres.example": False,
    }


async def confirm(bootstrap: str, topic: str, application_id: str, email: str, times: int) -> None:
    """What the notifications service publishes when a person follows a confirmation link."""
    event = AddressConfirmed.create(
        source="/crnt/notifications",
        subject=application_id,
        data=AddressConfirmedData(application_id=application_id, email=email, at=utcnow()),
    )
    broker = KafkaBroker(bootstrap)
    await broker.start()
    try:
        for _ in range(times):
            await broker.publish(event.to_json(), topic=topic, key=application_id.encode())
    finally:
        await broker.stop()


async def confirmed(
    client: httpx.AsyncClient, agency: dict[str, str], application_id: str
) -> dict[str, Any]:
    async def confirmation() -> dict[str, Any] | None:
        seen = (await client.get(f"{API}/applications/{application_id}", headers=agency)).json()
        return seen if seen["confirmation"] == "confirmed" else None

    found: dict[str, Any] = await wait_until(
        confirmation, timeout=30, message="the confirmation consumed"
    )
    return found


@pytest.mark.parametrize("expiry_seconds", [10.0])
async def test_an_unconfirmed_application_expires(
    relay: httpx.AsyncClient,
    agency: dict[str, str],
    database_url: str,
    kafka_bootstrap: str,
    confirmations_topic: str,
) -> None:
    await register_epcis(relay, agency)
    body = (await relay.post(f"{API}/applications", json=named("24620101600077", CAMILLE))).json()
    entered = (
        await relay.post(
            f"{API}/applications", json=named("00000000000000", "sam@x.example"), headers=agency
        )
    ).json()
    answered = (
        await relay.post(f"{API}/applications", json=named("00000000000000", "kim@x.example"))
    ).json()
    await confirm(kafka_bootstrap, confirmations_topic, answered["id"], "kim@x.example", times=1)
    await confirmed(relay, agency, answered["id"])

    async def expired() -> dict[str, Any] | None:
        seen = (await relay.get(f"{API}/applications/{body['id']}", headers=agency)).json()
        return seen if seen["status"] == "expired" else None

    seen = await wait_until(expired, timeout=30, message="the application expired")
    assert seen["centre"]["status"] == "expired"
    assert seen["decided_by"] == "registry"
    assert "Aucune adresse de la demande n'a été confirmée" in seen["reason"]
    centre = (await relay.get(f"{API}/centres/{body['centre_id']}", headers=agency)).json()
    assert [(h["action"], h["status"]) for h in centre["history"]] == [
        ("submit", "pending"),
        ("expire", "expired"),
    ]
    events = await published(database_url, body["centre_id"])
    assert [event.type for event in events] == [
        "fr.crnt.registry.application.submitted.v1",
        "fr.crnt.registry.application.expired.v1",
    ]
    assert (events[1].data.previous_status, events[1].data.status) == ("pending", "expired")
    listed = await relay.get(f"{API}/applications", params={"status": "expired"}, headers=agency)
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    # An expired application is closed: the agency cannot approve it; its SIRET is free again.
    problem(await relay.post(f"{API}/applications/{body['id']}/approve", headers=agency), 409)
    again = await relay.post(f"{API}/applications", json=named("24620101600077", CAMILLE))
    assert again.status_code == 201, again.text
    # What the agency entered does not expire, nor what an address confirmed.
    for kept in (entered, answered):
        still = (await relay.get(f"{API}/applications/{kept['id']}", headers=agency)).json()
        assert still["status"] == "pending"
