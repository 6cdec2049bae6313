"""No open relay, on the whole system: the four services as separate processes on the real
Kafka, PostgreSQL and mail catcher, driven over HTTP and read from the mailbox only.

Anonymous applications naming an outside address mail it once (a request to confirm); the
acknowledgement comes only after it confirms; a burst from one client is refused with 429 and
Retry-After; what the agency enters is not held."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from crnt_shared import samples
from crnt_shared.testing import wait_until

from tests.e2e.system import System, running_system

pytestmark = pytest.mark.integration

CCPL = "246201016"
PER_CLIENT = 7
CONFIRM = "Confirmez votre adresse pour la demande d'adhésion de "
ACKNOWLEDGED = "Votre demande d'adhésion au réseau a bien été reçue"


@pytest.fixture(scope="module")
async def system(
    kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    logs: Path = tmp_path_factory.mktemp("e2e-relay-logs")
    async with running_system(
        kafka_bootstrap,
        postgres_admin_url,
        logs,
        NOTIFICATIONS_AGENCY_EMAILS="agence@example.org",
        REGISTRY_APPLICATIONS_PER_CLIENT=str(PER_CLIENT),
    ) as system:
        async with httpx.AsyncClient(timeout=30) as client:
            registered = await client.post(
                system.url("registry", "/epcis"),
                json={
                    "siren": CCPL,
                    "name": "CC du Pays de Lumbres",
                    "population": 24_187,
                    "communes": ["62534"],
                },
                headers=system.agency,
            )
            assert registered.status_code == 201, registered.text
        yield system


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def application(name: str, *emails: str) -> dict[str, Any]:
    people = [("Quelqu'un", email) for email in emails]
    return samples.application(
        name, people, commune=samples.LUMBRES, adresse="1 Chemin du Pressart", workstations=4
    )


async def subjects_to(system: System, address: str) -> list[str]:
    return [mail["Subject"] for mail in await system.mails_to(address)]


async def wait_for_mail(system: System, address: str, starts: str) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        found = [m for m in await system.mails_to(address) if m["Subject"].startswith(starts)]
        return found[0] if found else None

    mail: dict[str, Any] = await wait_until(arrived, timeout=90, message=f"{starts!r} to {address}")
    return mail


async def test_five_applications_mail_an_outside_address_once_until_it_confirms(
    system: System, client: httpx.AsyncClient
) -> None:
    run = uuid.uuid4().hex[:6]
    victim = f"victime.{run}@dehors.example"
    created = []
    for index in range(5):
        response = await client.post(
            system.url("registry", "/applications"),
            json=application(f"Lieu {run} n°{index}", victim),
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    assert all(item["confirmation"] == "awaiting" for item in created)

    request = await wait_for_mail(system, victim, CONFIRM)
    assert request["Subject"] == f"{CONFIRM}Lieu {run} n°0"
    # Time for the other four to reach the mailbox if they were to (a last count comes after
    # the acknowledgement below, which the registry published after all five).
    await asyncio.sleep(3.0)
    assert await subjects_to(system, victim) == [request["Subject"]]
    assert not [s for s in await subjects_to(system, "agence@example.org") if run in s]

    # It confirms: the acknowledgement of that application comes, and the agency hears of it.
    match = re.search(r"/api/v1(/confirmations/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", request["Text"])
    assert match, request["Text"]
    page = await client.get(system.url("notifications", match.group(1)))
    assert page.status_code == 200
    assert "Confirmer mon adresse" in page.text
    confirmed = await client.post(system.url("notifications", match.group(1)))
    assert confirmed.status_code == 200, confirmed.text
    assert "est confirmée" in confirmed.text
    await wait_for_mail(system, victim, ACKNOWLEDGED)
    agency = await wait_for_mail(
        system, "agence@example.org", f"Nouvelle demande d'adhésion\u202f: Lieu {run} n°0"
    )
    assert victim in agency["Text"]

    seen = await client.get(
        system.url("registry", f"/applications/{created[0]['id']}"), headers=system.agency
    )
    assert seen.json()["confirmation"] == "confirmed"
    assert [a["confirmed"] for a in seen.json()["animators"]] == [True]
    others = await client.get(
        system.url("registry", f"/applications/{created[1]['id']}"), headers=system.agency
    )
    assert others.json()["confirmation"] == "awaiting"
    await asyncio.sleep(2.0)
    assert sorted(await subjects_to(system, victim)) == sorted([request["Subject"], ACKNOWLEDGED])


async def test_a_burst_from_one_client_is_refused_with_retry_after(
    system: System, client: httpx.AsyncClient
) -> None:
    run = uuid.uuid4().hex[:6]
    statuses = []
    refused: httpx.Response | None = None
    for index in range(PER_CLIENT + 3):
        response = await client.post(
            system.url("registry", "/applications"),
            json=application(f"Rafale {run} n°{index}", f"rafale.{run}.{index}@dehors.example"),
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            refused = response
    assert statuses[-1] == 429, statuses
    assert set(statuses) <= {201, 429}
    assert refused is not None
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])
    # The agency is not limited, and what it enters is not held: the acknowledgement comes at
    # once, with no confirmation request.
    entered = await client.post(
        system.url("registry", "/applications"),
        json=application(f"Saisi {run}", f"saisi.{run}@lumbres.example"),
        headers=system.agency,
    )
    assert entered.status_code == 201, entered.text
    assert entered.json()["confirmation"] == "not_required"
    await wait_for_mail(system, f"saisi.{run}@lumbres.example", ACKNOWLEDGED)
    await wait_for_mail(
        system, "agence@example.org", f"Nouvelle demande d'adhésion\u202f: Saisi {run}"
    )
    assert await subjects_to(system, f"saisi.{run}@lumbres.example") == [ACKNOWLEDGED]
