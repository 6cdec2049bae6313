"""The programme on the real Kafka: membership from the registry's events (a withdrawal or a
suspension takes the centre out of the open actions; a lost lead is announced), and the
validated programme published with its totals, keyed by the year."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from crnt_shared.contracts.programme import (
    PROGRAMME_EVENTS,
    ActionLeadMissing,
    ActionProposed,
    ActionStatusChanged,
    ActionUpdated,
    ProgrammeValidated,
)
from crnt_shared.events import Event, EventCatalog
from crnt_shared.testing import Record, reading, wait_until
from crnt_shared.topics import environment_topics
from fastapi import FastAPI

from services.programme.tests.kit import API, Headers, membership_event, new_action

pytestmark = pytest.mark.integration

CATALOG = EventCatalog(PROGRAMME_EVENTS)


class Seen:
    """Every programme event read from the topic since the fixture started."""

    def __init__(self, events: list[Record]) -> None:
        self.events = events

    def about(self, subject: str, kind: type[Event]) -> list[Any]:
        return [
            event
            for key, event in self.events
            if key == subject.encode() and isinstance(event, kind)
        ]


@pytest.fixture
async def seen(kafka_bootstrap: str, app: FastAPI) -> AsyncIterator[Seen]:
    topic = environment_topics().programme
    async with reading(kafka_bootstrap, topic, CATALOG, from_latest=True) as records:
        yield Seen(records)


@pytest.fixture
async def registry(
    kafka_bootstrap: str, topic: str
) -> AsyncIterator[Callable[[Any], Awaitable[None]]]:
    """Sends an event (or raw bytes) to this test's registry topic, keyed like the registry."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()

    async def send(event: Event | bytes) -> None:
        if isinstance(event, bytes):
            await producer.send_and_wait(topic, event, key=b"garbage")
        else:
            await producer.send_and_wait(topic, event.to_json(), key=event.subject.encode())

    try:
        yield send
    finally:
        await producer.stop()


def collected(seen: Seen, subject: str, kind: type[Event], count: int = 1) -> Any:
    async def check() -> list[Any] | None:
        found = seen.about(subject, kind)
        return found if len(found) >= count else None

    return check


async def members_known(client: httpx.AsyncClient, *ids: UUID) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        listed = (await client.get(f"{API}/centres", params={"status": "member"})).json()
        return {str(centre) for centre in ids} <= {centre["id"] for centre in listed}

    return check


async def approve(client: httpx.AsyncClient, registry: Any, **names: UUID) -> None:
    for name, centre in names.items():
        await registry(membership_event(centre, name, "member", "pending"))
    await wait_until(await members_known(client, *names.values()), message="the approvals")


@pytest.fixture
async def lumbres_and_arques(client: httpx.AsyncClient, registry: Any) -> tuple[UUID, UUID]:
    """Two member centres, Lumbres and Arques, as the registry's approvals made them known."""
    lumbres, arques = uuid4(), uuid4()
    await approve(client, registry, Lumbres=lumbres, Arques=arques)
    return lumbres, arques


@pytest.fixture
def lumbres(lumbres_and_arques: tuple[UUID, UUID]) -> UUID:
    """Lumbres, a member centre (approved together with Arques)."""
    return lumbres_and_arques[0]


@pytest.fixture
def arques(lumbres_and_arques: tuple[UUID, UUID]) -> UUID:
    """Arques, a member centre (approved together with Lumbres)."""
    return lumbres_and_arques[1]


async def test_a_withdrawn_centre_leaves_the_open_actions_and_a_lost_lead_is_announced(
    client: httpx.AsyncClient,
    agency: Headers,
    registry: Any,
    seen: Seen,
) -> None:
    lumbres, arques, aire = uuid4(), uuid4(), uuid4()
    await approve(client, registry, Lumbres=lumbres, Arques=arques, Aire=aire)

    async def propose(body: dict[str, Any]) -> str:
        response = await client.post(f"{API}/programmes/2025/actions", json=body, headers=agency)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def status(action: str, *statuses: str) -> None:
        for value in statuses:
            response = await client.post(
                f"{API}/actions/{action}/status", json={"status": value}, headers=agency
            )
            assert response.status_code == 200, response.text

    led = await propose(new_action(lumbres, arques, aire))
    joined = await propose(new_action(arques, lumbres, axis="formation"))
    finished = await propose(new_action(aire, lumbres, axis="evenements"))
    await status(led, "planned")
    await status(finished, "planned", "in_progress", "done")
    await wait_until(collected(seen, led, ActionProposed), message="the proposal's event")

    await registry(membership_event(lumbres, "Lumbres", "withdrawn", "member"))

    (missing,) = await wait_until(
        collected(seen, led, ActionLeadMissing), message="the lead-missing event"
    )
    assert missing.data.previous_lead.centre_id == lumbres
    assert missing.data.previous_lead.centre_name == "Lumbres"
    assert missing.data.membership_status == "withdrawn"
    assert missing.data.action.needs_lead
    assert missing.data.action.lead_centre_id is None
    assert missing.data.action.participant_centre_ids == [arques, aire]
    assert missing.causationid is not None

    led_now = (await client.get(f"{API}/actions/{led}")).json()
    assert (led_now["needs_lead"], led_now["lead_centre_id"], led_now["status"]) == (
        True,
        None,
        "planned",
    )
    (update,) = await wait_until(collected(seen, joined, ActionUpdated), message="the update")
    assert [p.centre_id for p in update.data.removed_participants] == [lumbres]
    assert update.data.action.participant_centre_ids == [arques]
    assert seen.about(joined, ActionLeadMissing) == []
    done = (await client.get(f"{API}/actions/{finished}")).json()
    assert lumbres in [UUID(p["centre_id"]) for p in done["participants"]]

    # The programme cannot go to the committee while an action has no lead; the agency names one.
    response = await client.post(f"{API}/programmes/2025/submit", headers=agency)
    assert response.status_code == 409
    assert "need a new lead" in response.json()["detail"]
    response = await client.patch(
        f"{API}/actions/{led}", json={"lead_centre_id": str(aire)}, headers=agency
    )
    assert response.status_code == 200, response.text
    assert response.json()["needs_lead"] is False
    assert (await client.post(f"{API}/programmes/2025/submit", headers=agency)).status_code == 200

    # A withdrawn centre cannot come back into an action.
    response = await client.patch(
        f"{API}/actions/{joined}", json={"participant_ids": [str(lumbres)]}, headers=agency
    )
    assert response.status_code == 409


async def test_a_suspended_participant_leaves_a_validated_programmes_actions(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    registry: Any,
    seen: Seen,
    lumbres: UUID,
    arques: UUID,
) -> None:
    response = await client.post(
        f"{API}/programmes/2025/actions", json=new_action(lumbres, arques), headers=agency
    )
    action = response.json()["id"]
    response = await client.post(
        f"{API}/programmes/2025/actions", json=new_action(arques, axis="formation"), headers=agency
    )
    leaderless = response.json()["id"]
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    assert (await client.post(f"{API}/programmes/2025/validate", headers=copil)).status_code == 201

    await registry(membership_event(arques, "Arques", "suspended", "member"))

    (update,) = await wait_until(collected(seen, action, ActionUpdated), message="the update")
    assert update.data.reason == "Arques is suspended"
    assert update.data.action.participant_centre_ids == [lumbres]
    assert update.data.action.status == "planned"
    await wait_until(collected(seen, leaderless, ActionLeadMissing), message="the lost lead")

    # A validated programme's content changes through an amendment, but a lost lead is
    # replaced at once.
    response = await client.patch(
        f"{API}/actions/{leaderless}", json={"title": "Autre"}, headers=agency
    )
    assert response.status_code == 409
    response = await client.patch(
        f"{API}/actions/{leaderless}", json={"lead_centre_id": str(lumbres)}, headers=agency
    )
    assert response.status_code == 200, response.text
    assert (response.json()["lead_centre_id"], response.json()["needs_lead"]) == (
        str(lumbres),
        False,
    )


async def test_bad_registry_messages_go_to_the_dead_letter_topic_and_the_rest_goes_on(
    client: httpx.AsyncClient,
    registry: Any,
    kafka_bootstrap: str,
    topic: str,
) -> None:
    await registry(b"{not an event")
    centre = uuid4()
    await registry(membership_event(centre, "Lumbres", "member", "pending"))
    await wait_until(await members_known(client, centre), message="the approval after garbage")

    consumer = AIOKafkaConsumer(
        f"{topic}.dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert record.value == b"{not an event"
    assert dict(record.headers)["dlq-reason"] == b"invalid"


async def test_a_validation_publishes_the_programme_with_its_totals_keyed_by_year(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    seen: Seen,
    lumbres: UUID,
    arques: UUID,
) -> None:
    bodies = [
        new_action(lumbres, arques, axis="ateliers", estimated_cost="1500.00"),
        new_action(arques, axis="ateliers", estimated_cost="0.01"),
        new_action(arques, lumbres, axis="materiel_partage", estimated_cost="12000"),
        new_action(lumbres, axis="communication", estimated_cost="450.50"),
        new_action(lumbres, axis="formation", estimated_cost="999.99"),
    ]
    ids = []
    for body in bodies:
        response = await client.post(f"{API}/programmes/2025/actions", json=body, headers=agency)
        ids.append(response.json()["id"])
    response = await client.post(
        f"{API}/actions/{ids[-1]}/status", json={"status": "cancelled"}, headers=agency
    )
    assert response.status_code == 200
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    response = await client.post(
        f"{API}/programmes/2025/validate",
        json={"deciding_body": "Comité de pilotage CRNT", "decided_on": "2025-02-10"},
        headers=copil,
    )
    assert response.status_code == 201, response.text

    async def ours() -> list[Any]:
        return [
            event
            for event in seen.about("2025", ProgrammeValidated)
            if {str(action.id) for action in event.data.actions} == set(ids)
        ]

    (validated,) = await wait_until(ours, message="the programme-validated event")
    data = validated.data
    assert (data.year, data.version, data.deciding_body) == (2025, 1, "Comité de pilotage CRNT")
    assert data.decided_on.isoformat() == "2025-02-10"
    assert data.totals_by_axis == {
        "communication": "450.50",
        "ateliers": "1500.01",
        "evenements": "0.00",
        "formation": "0.00",
        "materiel_partage": "12000.00",
    }
    assert data.total == "13950.51"
    by_id = {str(action.id): action for action in data.actions}
    assert by_id[ids[0]].participants[0].lead
    assert [p.centre_id for p in by_id[ids[0]].participants] == [lumbres, arques]
    assert by_id[ids[0]].status == "planned"
    assert by_id[ids[-1]].status == "cancelled"
    assert response.json() == validated.data.model_dump(mode="json")

    # The committee's adoption planned each proposed action, with an event each.
    for action in ids[:-1]:
        (change,) = await wait_until(
            collected(seen, action, ActionStatusChanged), message="the planning"
        )
        assert (change.data.previous_status, change.data.status) == ("proposed", "planned")
