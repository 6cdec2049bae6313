"""The HTTP API on the real PostgreSQL: the happy path, bad input (422), illegal transitions
(409 naming the states), roles; never a 500 on bad input."""

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from crnt_shared.topics import environment_topics

from services.programme.tests.kit import API, Headers, Seed, new_action, propose

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


@pytest.fixture
async def members(seed_centre: Seed) -> list[UUID]:
    return [
        await seed_centre("Cyber-centre de Lumbres"),
        await seed_centre("Médiathèque d'Arques"),
        await seed_centre("EPN de Saint-Omer"),
    ]


@pytest.fixture
async def action(client: httpx.AsyncClient, agency: Headers, members: list[UUID]) -> dict[str, Any]:
    """An action of the 2025 programme, led by the first member, as the agency proposed it."""
    return await propose(client, agency, new_action(members[0]))


async def to_status(
    client: httpx.AsyncClient, agency: Headers, action_id: str, *statuses: str
) -> None:
    for status in statuses:
        response = await client.post(
            f"{API}/actions/{action_id}/status", json={"status": status}, headers=agency
        )
        assert response.status_code == 200, response.text


async def test_the_programme_of_a_year_from_proposal_to_report(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    members: list[UUID],
) -> None:
    lead, other, third = members
    ateliers = await propose(client, agency, new_action(lead, other, lead, other))
    assert ateliers["status"] == "proposed"
    assert ateliers["estimated_cost"] == "1500.00"
    assert [(p["centre_name"], p["lead"]) for p in ateliers["participants"]] == [
        ("Cyber-centre de Lumbres", True),
        ("Médiathèque d'Arques", False),
    ]
    formation = await propose(
        client,
        agency,
        new_action(third, axis="formation", title="Formation PIX", estimated_cost="800.5"),
    )
    dropped = await propose(
        client, agency, new_action(third, axis="evenements", estimated_cost="999.99")
    )
    await to_status(client, agency, dropped["id"], "cancelled")

    programme = (await client.get(f"{API}/programmes/2025")).json()
    assert programme["status"] == "draft"
    assert programme["version"] is None
    assert programme["totals_by_axis"] == {
        "communication": "0.00",
        "ateliers": "1500.00",
        "evenements": "0.00",
        "formation": "800.50",
        "materiel_partage": "0.00",
    }
    assert programme["total"] == "2300.50"
    assert len(programme["actions"]) == 3

    assert (await client.post(f"{API}/programmes/2025/submit", headers=agency)).status_code == 200
    validated = await client.post(
        f"{API}/programmes/2025/validate",
        json={"decided_on": "2025-02-10", "decision_reference": "COPIL n°1"},
        headers=copil,
    )
    assert validated.status_code == 201, validated.text
    version = validated.json()
    assert version["version"] == 1
    assert version["deciding_body"] == "Comité de pilotage"
    assert version["total"] == "2300.50"
    assert {a["id"]: a["status"] for a in version["actions"]} == {
        ateliers["id"]: "planned",
        formation["id"]: "planned",
        dropped["id"]: "cancelled",
    }

    await to_status(client, agency, ateliers["id"], "in_progress")
    response = await client.patch(
        f"{API}/actions/{ateliers['id']}/progress",
        json={"progress": 50, "note": "4 ateliers sur 8", "actual_cost": "700"},
        headers=agency,
    )
    assert response.status_code == 200, response.text
    assert response.json()["progress"] == 50
    assert response.json()["actual_cost"] == "700.00"

    report = (await client.get(f"{API}/programmes/2025/report")).json()
    axes = {row["axis"]: row for row in report["axes"]}
    assert axes["ateliers"]["by_status"]["in_progress"] == 1
    assert axes["ateliers"]["planned_cost"] == "1500.00"
    assert axes["ateliers"]["actual_cost"] == "700.00"
    assert axes["ateliers"]["progress"] == 50
    assert axes["evenements"]["by_status"]["cancelled"] == 1
    assert axes["evenements"]["planned_cost"] == "0.00"
    assert report["overall"]["planned_cost"] == "2300.50"
    assert report["overall"]["actual_cost"] == "700.00"
    assert report["overall"]["progress"] == 25

    history = (await client.get(f"{API}/actions/{ateliers['id']}/history")).json()
    assert [entry["kind"] for entry in history] == ["proposed", "status", "status", "progress"]
    assert history[-1]["note"] == "4 ateliers sur 8"


async def test_an_amendment_makes_a_new_version_and_keeps_the_first(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    members: list[UUID],
) -> None:
    lead, other, _ = members
    action = await propose(client, agency, new_action(lead))
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    await client.post(f"{API}/programmes/2025/validate", headers=copil)

    response = await client.patch(
        f"{API}/actions/{action['id']}", json={"estimated_cost": "2000"}, headers=agency
    )
    problem(response, 409)
    assert "amend" in response.json()["detail"]

    assert (await client.post(f"{API}/programmes/2025/amend", headers=agency)).json()[
        "status"
    ] == "amending"
    response = await client.patch(
        f"{API}/actions/{action['id']}",
        json={"estimated_cost": "2000", "participant_ids": [str(other)]},
        headers=agency,
    )
    assert response.status_code == 200, response.text
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    second = await client.post(
        f"{API}/programmes/2025/validate", json={"deciding_body": "COPIL CRNT"}, headers=copil
    )
    assert second.json()["version"] == 2
    assert second.json()["total"] == "2000.00"

    first = (await client.get(f"{API}/programmes/2025/versions/1")).json()
    assert first["total"] == "1500.00"
    assert first["actions"][0]["participants"] == [
        {"centre_id": str(lead), "centre_name": "Cyber-centre de Lumbres", "lead": True}
    ]
    versions = (await client.get(f"{API}/programmes/2025/versions")).json()
    assert [(v["version"], v["deciding_body"]) for v in versions] == [
        (1, "Comité de pilotage"),
        (2, "COPIL CRNT"),
    ]
    programme = (await client.get(f"{API}/programmes/2025")).json()
    assert (programme["status"], programme["version"]) == ("validated", 2)


# Bad input: 422 with a sentence


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"estimated_cost": 1500.5}, "estimated_cost"),
        ({"estimated_cost": "12.345"}, "estimated_cost"),
        ({"estimated_cost": "-5.00"}, "estimated_cost"),
        ({"estimated_cost": "1e3"}, "estimated_cost"),
        ({"axis": "sport"}, "axis"),
        ({"title": "   "}, "title"),
        ({"starts_on": "2025-02-30"}, "starts_on"),
        ({"lead_centre_id": "not-a-uuid"}, "lead_centre_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_action_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient,
    agency: Headers,
    members: list[UUID],
    change: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        f"{API}/programmes/2025/actions", json=new_action(members[0], **change), headers=agency
    )
    body = problem(response, 422)
    assert field in [error["field"] for error in body["errors"]], body


async def test_an_end_before_the_start_is_refused(
    client: httpx.AsyncClient, agency: Headers, members: list[UUID]
) -> None:
    body = new_action(members[0], starts_on="2025-06-01", ends_on="2025-05-31")
    response = await client.post(f"{API}/programmes/2025/actions", json=body, headers=agency)
    assert "before it starts" in problem(response, 422)["detail"]


async def test_an_action_outside_its_year_is_refused(
    client: httpx.AsyncClient, agency: Headers, members: list[UUID]
) -> None:
    response = await client.post(
        f"{API}/programmes/2024/actions", json=new_action(members[0]), headers=agency
    )
    assert "partly in 2024" in problem(response, 422)["detail"]


async def test_an_unknown_centre_is_a_422(
    client: httpx.AsyncClient, agency: Headers, members: list[UUID]
) -> None:
    stranger = uuid4()
    response = await client.post(
        f"{API}/programmes/2025/actions", json=new_action(members[0], stranger), headers=agency
    )
    assert str(stranger) in problem(response, 422)["detail"]


@pytest.mark.parametrize("status", ["pending", "suspended", "withdrawn"])
async def test_a_centre_that_is_not_a_member_cannot_take_part(
    client: httpx.AsyncClient,
    agency: Headers,
    seed_centre: Seed,
    members: list[UUID],
    status: str,
) -> None:
    outsider = await seed_centre("Espace numérique d'Aire", status)
    for body in (new_action(outsider), new_action(members[0], outsider)):
        response = await client.post(f"{API}/programmes/2025/actions", json=body, headers=agency)
        detail = problem(response, 409)["detail"]
        assert f"Espace numérique d'Aire ({status})" in detail


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/programmes/1999/actions", None),
        ("/programmes/year/actions", None),
        ("/actions/not-a-uuid/progress", {"progress": 5}),
    ],
)
async def test_bad_paths_are_a_422(
    client: httpx.AsyncClient,
    agency: Headers,
    members: list[UUID],
    path: str,
    body: dict[str, Any] | None,
) -> None:
    method = "PATCH" if path.endswith("progress") else "POST"
    response = await client.request(
        method, f"{API}{path}", json=body or new_action(members[0]), headers=agency
    )
    problem(response, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"progress": 101},
        {"progress": -1},
        {"progress": "half"},
        {},
        {"actual_cost": 12.5},
        {"progress": 10, "unknown": True},
    ],
)
async def test_bad_progress_is_a_422(
    client: httpx.AsyncClient, agency: Headers, body: dict[str, Any], action: dict[str, Any]
) -> None:
    response = await client.patch(
        f"{API}/actions/{action['id']}/progress", json=body, headers=agency
    )
    problem(response, 422)


@pytest.mark.parametrize(
    "body", [{}, {"title": None}, {"lead_centre_id": None}, {"estimated_cost": "abc"}]
)
async def test_bad_edits_are_a_422(
    client: httpx.AsyncClient, agency: Headers, body: dict[str, Any], action: dict[str, Any]
) -> None:
    response = await client.patch(f"{API}/actions/{action['id']}", json=body, headers=agency)
    problem(response, 422)


async def test_malformed_json_is_a_422(client: httpx.AsyncClient, agency: Headers) -> None:
    response = await client.post(
        f"{API}/programmes/2025/actions",
        content=b"{not json",
        headers={**agency, "content-type": "application/json"},
    )
    problem(response, 422)


# Illegal transitions: 409 naming the states


async def test_validating_a_draft_is_a_409_naming_the_states(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    members: list[UUID],
) -> None:
    await propose(client, agency, new_action(members[0]))
    body = problem(await client.post(f"{API}/programmes/2025/validate", headers=copil), 409)
    assert body["detail"] == "The 2025 programme is draft; it can be validated only when submitted."
    assert (body["current_status"], body["command"]) == ("draft", "validate")
    body = problem(await client.post(f"{API}/programmes/2025/amend", headers=agency), 409)
    assert "only when validated" in body["detail"]


async def test_a_submitted_programme_is_frozen(
    client: httpx.AsyncClient,
    agency: Headers,
    members: list[UUID],
    action: dict[str, Any],
) -> None:
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    response = await client.post(f"{API}/programmes/2025/submit", headers=agency)
    assert (
        "is submitted; it can be submitted only when draft or amending"
        in (problem(response, 409)["detail"])
    )
    response = await client.post(
        f"{API}/programmes/2025/actions", json=new_action(members[1]), headers=agency
    )
    assert "steering committee" in problem(response, 409)["detail"]
    response = await client.patch(
        f"{API}/actions/{action['id']}", json={"title": "Autre titre"}, headers=agency
    )
    assert problem(response, 409)["programme_status"] == "submitted"


async def test_illegal_action_transitions_are_a_409(
    client: httpx.AsyncClient, agency: Headers, action: dict[str, Any]
) -> None:
    response = await client.post(
        f"{API}/actions/{action['id']}/status", json={"status": "done"}, headers=agency
    )
    body = problem(response, 409)
    assert "is proposed; it can become done only when in_progress" in body["detail"]
    assert (body["current_status"], body["requested_status"]) == ("proposed", "done")

    await to_status(client, agency, action["id"], "planned", "in_progress", "done")
    done = (await client.get(f"{API}/actions/{action['id']}")).json()
    assert done["progress"] == 100
    response = await client.post(
        f"{API}/actions/{action['id']}/status", json={"status": "cancelled"}, headers=agency
    )
    assert "is done" in problem(response, 409)["detail"]
    response = await client.patch(
        f"{API}/actions/{action['id']}/progress", json={"progress": 80}, headers=agency
    )
    assert "100 %" in problem(response, 409)["detail"]
    response = await client.patch(
        f"{API}/actions/{action['id']}", json={"title": "Nouveau"}, headers=agency
    )
    assert "is done" in problem(response, 409)["detail"]


async def test_a_cancelled_action_makes_no_progress(
    client: httpx.AsyncClient, agency: Headers, action: dict[str, Any]
) -> None:
    await to_status(client, agency, action["id"], "cancelled")
    response = await client.patch(
        f"{API}/actions/{action['id']}/progress", json={"progress": 10}, headers=agency
    )
    assert "cancelled" in problem(response, 409)["detail"]


async def test_an_empty_programme_cannot_be_submitted(
    client: httpx.AsyncClient, agency: Headers, action: dict[str, Any]
) -> None:
    await to_status(client, agency, action["id"], "cancelled")
    response = await client.post(f"{API}/programmes/2025/submit", headers=agency)
    assert "no action" in problem(response, 409)["detail"]


# Not found, roles


async def test_what_does_not_exist_is_a_404(client: httpx.AsyncClient, agency: Headers) -> None:
    problem(await client.get(f"{API}/programmes/2031"), 404)
    problem(await client.get(f"{API}/programmes/2031/report"), 404)
    problem(await client.post(f"{API}/programmes/2031/submit", headers=agency), 404)
    problem(await client.get(f"{API}/programmes/2031/versions/1"), 404)
    problem(await client.get(f"{API}/actions/{uuid4()}"), 404)
    response = await client.patch(
        f"{API}/actions/{uuid4()}/progress", json={"progress": 5}, headers=agency
    )
    problem(response, 404)


async def test_roles(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    members: list[UUID],
) -> None:
    body = new_action(members[0])
    problem(await client.post(f"{API}/programmes/2025/actions", json=body), 401)
    problem(await client.post(f"{API}/programmes/2025/actions", json=body, headers=copil), 403)
    await propose(client, agency, body)
    await client.post(f"{API}/programmes/2025/submit", headers=agency)
    response = await client.post(f"{API}/programmes/2025/validate", headers=agency)
    assert "copil" in problem(response, 403)["detail"]
    bad = {"Authorization": "Bearer nope"}
    problem(await client.post(f"{API}/programmes/2025/validate", headers=bad), 401)
    assert (await client.get(f"{API}/programmes/2025")).status_code == 200


async def test_naming_a_new_lead_is_refused_to_a_non_member(
    client: httpx.AsyncClient,
    agency: Headers,
    seed_centre: Seed,
    members: list[UUID],
) -> None:
    action = await propose(client, agency, new_action(members[0], members[1]))
    suspended = await seed_centre("Centre suspendu", "suspended")
    response = await client.patch(
        f"{API}/actions/{action['id']}", json={"lead_centre_id": str(suspended)}, headers=agency
    )
    problem(response, 409)
    response = await client.patch(
        f"{API}/actions/{action['id']}", json={"lead_centre_id": str(members[1])}, headers=agency
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["lead_centre_id"] == str(members[1])
    # The new lead is no longer listed twice; the previous one left.
    assert [p["centre_id"] for p in changed["participants"]] == [str(members[1])]


async def test_the_openapi_and_asyncapi_documents(client: httpx.AsyncClient) -> None:
    openapi = (await client.get("/openapi.json")).json()
    cost = openapi["components"]["schemas"]["ActionIn"]["properties"]["estimated_cost"]
    assert cost["type"] == "string"
    asyncapi = (await client.get(f"{API}/asyncapi.json")).json()
    messages = asyncapi["channels"][environment_topics().programme]["messages"]
    validated = asyncapi["components"]["messages"]["ProgrammeValidated"]
    assert validated["name"] == "fr.crnt.programme.programme.validated.v1"
    assert messages["ProgrammeValidated"] == {"$ref": "#/components/messages/ProgrammeValidated"}


async def test_a_version_beyond_postgresql_integers_is_a_422(client: httpx.AsyncClient) -> None:
    for version in ("2147483648", "9223372036854775808"):
        body = problem(await client.get(f"{API}/programmes/2025/versions/{version}"), 422)
        assert "too large" in body["detail"]
