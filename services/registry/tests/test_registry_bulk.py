"""The agency's work on many centres at once, on the real PostgreSQL: a file imported, an
animator given to each place, all approved — each all or nothing, with the history and the
events one call per centre would make."""

from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.registry.tests.samples import API

from .test_registry_api import problem

pytestmark = pytest.mark.integration

CSV = {"Content-Type": "text/csv"}
HEADER = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,typologie"


def places(count: int, *, pivot: str = "00000000000000") -> bytes:
    lines = [HEADER] + [
        f"p{n},{pivot},Lieu {n:02d},Lumbres,62380,62534,{n} rue,2026-01-05,EPN"
        for n in range(count)
    ]
    return "\r\n".join(lines).encode()


async def imported(client: httpx.AsyncClient, agency: dict[str, str], count: int) -> list[Any]:
    response = await client.post(
        f"{API}/centres/import", content=places(count), headers={**CSV, **agency}
    )
    assert response.status_code == 201, response.text
    items: list[Any] = response.json()["applications"]
    return items


async def outbox_types(app: FastAPI) -> Counter[str]:
    async with app.state.runtime.pool.acquire() as connection:
        rows = await connection.fetch("SELECT event_type FROM outbox")
    return Counter(row["event_type"].removeprefix("fr.crnt.registry.") for row in rows)


async def test_a_file_then_its_animators_then_its_approvals(
    app: FastAPI, client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    rows = await imported(client, agency, 30)
    assert [row["line"] for row in rows] == list(range(2, 32))
    assert {row["epci_siren"] for row in rows} == {"246201016"}

    team = [
        {"centre_id": row["centre_id"], "name": f"Animatrice {n}", "email": f"a{n}@lieux.example"}
        for n, row in enumerate(rows)
    ]
    added = await client.post(f"{API}/animators", json={"animators": team}, headers=agency)
    assert added.status_code == 201, added.text
    assert added.json()["added"] == 30
    first = added.json()["items"][0]
    assert (first["centre_id"], first["email"], first["confirmed"]) == (
        rows[0]["centre_id"],
        "a0@lieux.example",
        True,
    )

    ids = [row["application_id"] for row in rows]
    approved = await client.post(
        f"{API}/applications/approve", json={"application_ids": ids}, headers=agency
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] == 30
    assert {item["status"] for item in approved.json()["items"]} == {"member"}

    members = await client.get(f"{API}/centres", params={"status": "member", "limit": 100})
    assert members.json()["total"] == 30
    assert all(c["member_since"] for c in members.json()["items"])
    centre = (await client.get(f"{API}/centres/{rows[7]['centre_id']}", headers=agency)).json()
    assert [(h["action"], h["status"]) for h in centre["history"]] == [
        ("submit", "pending"),
        ("approve", "member"),
    ]
    assert centre["animators"][0]["email"] == "a7@lieux.example"
    decided = (await client.get(f"{API}/applications/{ids[7]}", headers=agency)).json()
    assert (decided["status"], decided["decided_by"]) == ("approved", "agency")
    assert decided["decided_at"] == centre["member_since"]
    assert await outbox_types(app) == {
        "epci.registered.v1": 2,
        "application.submitted.v1": 30,
        "animator.added.v1": 30,
        "membership.approved.v1": 30,
    }


async def test_one_that_cannot_be_approved_and_none_is(
    app: FastAPI, client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    rows = await imported(client, agency, 3)
    team = [
        {"centre_id": row["centre_id"], "name": "Alex", "email": "alex@lieux.example"}
        for row in rows[:2]
    ]
    assert (
        await client.post(f"{API}/animators", json={"animators": team}, headers=agency)
    ).is_success
    ids = [row["application_id"] for row in rows]
    refused = problem(
        await client.post(
            f"{API}/applications/approve", json={"application_ids": ids}, headers=agency
        ),
        409,
    )
    assert refused["detail"].startswith("1 application(s) cannot be approved (the first, ")
    assert "centre has no animator" in refused["detail"]
    [error] = refused["errors"]
    assert error["field"] == "application_ids.2"
    assert error["message"].startswith(f"{ids[2]}: centre has no animator")
    assert (await client.get(f"{API}/centres", params={"status": "member"})).json()["total"] == 0
    unknown = "00000000-0000-4000-8000-000000000001"
    missing = problem(
        await client.post(
            f"{API}/applications/approve",
            json={"application_ids": [ids[0], unknown]},
            headers=agency,
        ),
        404,
    )
    assert unknown in missing["detail"]
    assert "nothing was approved" in missing["detail"]
    done = await client.post(
        f"{API}/applications/approve", json={"application_ids": ids[:2]}, headers=agency
    )
    assert done.status_code == 200, done.text
    again = problem(
        await client.post(
            f"{API}/applications/approve", json={"application_ids": ids[:1]}, headers=agency
        ),
        409,
    )
    assert "centre is member; it can be approved only when pending" in again["detail"]
    assert (await outbox_types(app))["membership.approved.v1"] == 2


async def test_animators_all_or_none(
    app: FastAPI, client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    rows = await imported(client, agency, 2)
    twice = [
        {"centre_id": rows[0]["centre_id"], "name": "Alex", "email": "alex@lieux.example"},
        {"centre_id": rows[1]["centre_id"], "name": "Alex", "email": "alex@lieux.example"},
        {"centre_id": rows[0]["centre_id"], "name": "Alex bis", "email": "ALEX@lieux.example"},
    ]
    refused = problem(
        await client.post(f"{API}/animators", json={"animators": twice}, headers=agency), 409
    )
    assert [e["field"] for e in refused["errors"]] == ["animators.2.email"]
    assert "none was added" in refused["detail"]
    nowhere = {"centre_id": "00000000-0000-4000-8000-000000000001", "name": "A", "email": "a@b.fr"}
    assert problem(
        await client.post(f"{API}/animators", json={"animators": [nowhere]}, headers=agency), 404
    )
    problem(await client.post(f"{API}/animators", json={"animators": []}, headers=agency), 422)
    problem(await client.post(f"{API}/animators", json={"animators": twice[:1]}), 401)
    assert "animator.added.v1" not in await outbox_types(app)


async def test_a_place_twice_in_a_file_or_already_in_the_registry_is_refused(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    siret = "24620101600077"
    twice = places(2, pivot=siret)
    refused = problem(
        await client.post(f"{API}/centres/import", content=twice, headers={**CSV, **agency}), 422
    )
    [error] = refused["errors"]
    assert error["line"] == 3
    assert f"with pivot {siret} is already pending, member or suspended" in error["reason"]
    assert (await client.get(f"{API}/centres")).json()["total"] == 0
    once = await client.post(
        f"{API}/centres/import", content=places(1, pivot=siret), headers={**CSV, **agency}
    )
    assert once.status_code == 201, once.text
    again = problem(
        await client.post(
            f"{API}/centres/import", content=places(1, pivot=siret), headers={**CSV, **agency}
        ),
        422,
    )
    assert once.json()["applications"][0]["centre_id"] in again["errors"][0]["reason"]
