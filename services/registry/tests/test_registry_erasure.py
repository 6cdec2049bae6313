"""Erasing an animator (RGPD) on the real PostgreSQL and Kafka: only the agency, only for a
centre that left or never joined; the registry keeps a pseudonym, forgets the published events
that named the address, and publishes an erasure event that does not name it."""

import json
from typing import Any

import httpx
import pytest
from crnt_shared.erasure import address_digest
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.registry.tests.samples import API
from services.registry.tests.test_registry_api import application, member, problem

pytestmark = pytest.mark.integration

ADDRESS = "camille.martin@lumbres.example"


async def _outbox(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.runtime.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT event_type, payload, published_at FROM outbox ORDER BY id"
        )
    return [dict(row) for row in rows]


async def _all_published(app: FastAPI) -> bool:
    return all(row["published_at"] is not None for row in await _outbox(app))


async def test_the_agency_erases_an_animator_of_a_withdrawn_centre(
    app: FastAPI,
    client: httpx.AsyncClient,
    agency: dict[str, str],
    copil: dict[str, str],
    epcis: None,
) -> None:
    centre_id = await member(client, agency)
    animators = (await client.get(f"{API}/centres/{centre_id}/animators", headers=agency)).json()
    animator_id = animators["items"][0]["id"]
    erasure = f"{API}/centres/{centre_id}/animators/{animator_id}/erasure"

    refused = problem(await client.post(erasure, headers=agency), 409)
    assert "centre is member" in refused["detail"]
    assert "Withdraw its membership first" in refused["detail"]
    problem(await client.post(erasure, headers=copil), 403)
    problem(await client.post(erasure), 401)
    await client.post(
        f"{API}/centres/{centre_id}/suspend", json={"reason": "audit"}, headers=agency
    )
    assert (
        "centre is suspended" in problem(await client.post(erasure, headers=agency), 409)["detail"]
    )
    await client.post(
        f"{API}/centres/{centre_id}/withdraw", json={"reason": "closed"}, headers=agency
    )
    problem(
        await client.post(
            f"{API}/centres/{centre_id}/animators/{centre_id}/erasure", headers=agency
        ),
        404,
    )
    await wait_until(lambda: _all_published(app), message="the outbox published")
    assert any(ADDRESS in row["payload"].decode() for row in await _outbox(app))

    erased = await client.post(erasure, headers=agency)
    assert erased.status_code == 200, erased.text
    assert erased.json()["already"] is False

    listed = (await client.get(f"{API}/centres/{centre_id}/animators", headers=agency)).json()
    assert listed["items"][0]["name"] == "Personne effacée"
    assert listed["items"][0]["email"] == f"{animator_id}@erased.invalid"
    centre = (await client.get(f"{API}/centres/{centre_id}", headers=agency)).text
    assert ADDRESS not in centre.lower()
    assert "Camille" not in centre

    rows = await _outbox(app)
    assert not any(ADDRESS in row["payload"].decode().lower() for row in rows)
    erasures = [row for row in rows if row["event_type"] == "fr.crnt.registry.person.erased.v1"]
    assert len(erasures) == 1
    data = json.loads(erasures[0]["payload"])["data"]
    assert data["animator_id"] == animator_id
    assert data["email_digest"] == address_digest(ADDRESS, data["salt"])
    assert "Camille" not in erasures[0]["payload"].decode()

    again = await client.post(erasure, headers=agency)
    assert again.json()["already"] is True
    rows_after = await _outbox(app)
    assert len(rows_after) == len(rows), "erasing again publishes nothing"


async def test_a_person_who_animates_a_member_centre_too_is_not_erased(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    first = await member(client, agency)
    await member(client, agency, pivot="00000000000000", nom="Médiathèque de Lumbres")
    await client.post(f"{API}/centres/{first}/withdraw", json={"reason": "closed"}, headers=agency)
    animators = (await client.get(f"{API}/centres/{first}/animators", headers=agency)).json()
    animator_id = animators["items"][0]["id"]
    refused = problem(
        await client.post(f"{API}/centres/{first}/animators/{animator_id}/erasure", headers=agency),
        409,
    )
    assert "also animates centre" in refused["detail"]
    assert ADDRESS not in refused["detail"]
    assert application()["animators"][0]["email"] == ADDRESS
