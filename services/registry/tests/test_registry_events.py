"""Each change publishes exactly one event, on the real Kafka topic, keyed by the centre id."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from crnt_shared.contracts.registry import (
    REGISTRY_EVENTS,
    EpciRegistered,
    MembershipApproved,
    MembershipSuspended,
)
from crnt_shared.events import Event, EventCatalog
from crnt_shared.testing import Record, reading, wait_until
from crnt_shared.topics import environment_topics

pytestmark = pytest.mark.integration

API = "/api/v1"
PREFIX = "fr.crnt.registry."
# An EPCI of its own (a valid SIREN no other test registers), so its events are only this test's.
EPCI = {"siren": "200067213", "name": "CU du Grand Reims", "population": 294000}
CATALOG = EventCatalog(REGISTRY_EVENTS)


class Seen:
    """Every registry event read from the topic since the test started."""

    def __init__(self, events: list[Record]) -> None:
        self.events = events

    def about(self, subject: str) -> list[Event]:
        return [event for key, event in self.events if key == subject.encode()]


@pytest.fixture
async def seen(kafka_bootstrap: str, client: httpx.AsyncClient) -> AsyncIterator[Seen]:
    topic = environment_topics().registry
    async with reading(kafka_bootstrap, topic, CATALOG, from_latest=True) as records:
        yield Seen(records)


def application(name: str, pivot: str) -> dict[str, Any]:
    return {
        "centre": {
            "nom": name,
            "pivot": pivot,
            "adresse": "12 bis rue de Leclercq",
            "code_postal": "51100",
            "commune": "Reims",
            "code_insee": "51454",
            "typologie": ["EPN"],
            "workstations": 6,
        },
        "animators": [{"name": "Alex Dupont", "email": "alex.dupont@reims.example"}],
    }


async def test_each_change_publishes_exactly_one_event(
    client: httpx.AsyncClient, agency: dict[str, str], seen: Seen
) -> None:
    registered = await client.post(
        f"{API}/epcis", json={**EPCI, "communes": ["51454"]}, headers=agency
    )
    assert registered.status_code == 201
    submitted = (
        await client.post(f"{API}/applications", json=application("EPN de Reims", "43493312300029"))
    ).json()
    centre_id = submitted["centre_id"]
    base = f"{API}/centres/{centre_id}"
    steps = [
        ("POST", f"{API}/applications/{submitted['id']}/approve", None),
        ("POST", f"{API}/applications/{submitted['id']}/approve", None),  # 409: no event
        ("POST", f"{base}/suspend", {"reason": "inventory"}),
        ("POST", f"{base}/suspend", {"reason": "twice"}),  # 409: no event
        ("POST", f"{base}/reinstate", {"reason": "done"}),
        ("PATCH", base, {"workstations": 10}),
        ("PATCH", base, {"workstations": 10}),  # nothing changes: no event
        ("POST", f"{base}/animators", {"name": "Sam Leroy", "email": "sam@reims.example"}),
        ("POST", f"{base}/withdraw", {"reason": "moved away"}),
    ]
    for method, url, body in steps:
        await client.request(method, url, json=body, headers=agency)
    animator_id = (await client.get(f"{base}/animators", headers=agency)).json()["items"][1]["id"]
    rejected = (
        await client.post(f"{API}/applications", json=application("Autre lieu", "W123456789"))
    ).json()
    await client.post(
        f"{API}/applications/{rejected['id']}/reject", json={"reason": "duplicate"}, headers=agency
    )

    expected = [
        "application.submitted",
        "membership.approved",
        "membership.suspended",
        "membership.reinstated",
        "centre.updated",
        "animator.added",
        "membership.withdrawn",
    ]

    async def all_arrived() -> bool:
        return (
            len(seen.about(centre_id)) >= len(expected)
            and len(seen.about(rejected["centre_id"])) >= 2
        )

    await wait_until(all_arrived, timeout=30, message="the registry's events on Kafka")
    await asyncio.sleep(1.0)  # time for a duplicate to show, if there were one
    events = seen.about(centre_id)
    assert [event.type.removeprefix(PREFIX).removesuffix(".v1") for event in events] == expected
    assert len({event.id for event in events}) == len(events)
    assert all(event.subject == centre_id for event in events)
    assert [
        event.type.removeprefix(PREFIX).removesuffix(".v1")
        for event in seen.about(rejected["centre_id"])
    ] == ["application.submitted", "membership.rejected"]

    approved = events[1]
    assert isinstance(approved, MembershipApproved)
    assert approved.data.centre.nom == "EPN de Reims"
    assert approved.data.centre.commune == "Reims"
    assert approved.data.centre.code_insee == "51454"
    assert approved.data.centre.epci_siren == EPCI["siren"]
    assert approved.data.centre.epci_name == EPCI["name"]
    assert approved.data.centre.workstations == 6
    assert [(a.name, a.email) for a in approved.data.animators] == [
        ("Alex Dupont", "alex.dupont@reims.example")
    ]
    suspended = events[2]
    assert isinstance(suspended, MembershipSuspended)
    assert (suspended.data.reason, suspended.data.by) == ("inventory", "agency")
    assert suspended.data.previous_status == "member"
    assert suspended.data.animators[0].email == "alex.dupont@reims.example"
    assert events[4].data.changed == ["workstations"]
    withdrawn = events[6]
    assert {a.email for a in withdrawn.data.animators} == {
        "alex.dupont@reims.example",
        "sam@reims.example",
    }
    assert any(str(a.id) == animator_id for a in withdrawn.data.animators)

    epci_events = [e for key, e in seen.events if key == EPCI["siren"].encode()]
    assert [type(e) for e in epci_events] == [EpciRegistered]
