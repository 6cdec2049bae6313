"""The registry's HTTP API on the real PostgreSQL: EPCIs, applications, membership, centres,
animators, and bad input."""

from typing import Any

import httpx
import pytest
from crnt_shared.http import PROBLEM_JSON

from services.registry.tests.samples import API, CAPSO, CAPSO_SIREN, CCPL, CCPL_SIREN, lumbres

pytestmark = pytest.mark.integration


def application(**centre: Any) -> dict[str, Any]:
    """A valid application from a Lumbres centre, with ``centre`` fields changed."""
    return {
        "centre": lumbres(
            **{
                "epci_siren": CCPL["siren"],
                "typologie": ["EPN", "EPCI"],
                "horaires": "Mo-Fr 08:30-12:00,13:30-17:00",
                "services": ["Accès internet et matériel informatique"],
                **centre,
            }
        ),
        "animators": [{"name": "Camille Martin", "email": "camille.martin@lumbres.example"}],
    }


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{API}/applications", json=body)
    assert response.status_code == 201, response.text
    submitted: dict[str, Any] = response.json()
    return submitted


async def member(client: httpx.AsyncClient, agency: dict[str, str], **centre: Any) -> str:
    submitted = await submit(client, application(**centre))
    response = await client.post(f"{API}/applications/{submitted['id']}/approve", headers=agency)
    assert response.status_code == 200, response.text
    return str(submitted["centre_id"])


async def test_epcis_are_registered_by_the_agency_and_listed_openly(
    client: httpx.AsyncClient, agency: dict[str, str], copil: dict[str, str]
) -> None:
    problem(await client.post(f"{API}/epcis", json=CAPSO), 401)
    problem(
        await client.post(f"{API}/epcis", json=CAPSO, headers={"Authorization": "Bearer x"}), 401
    )
    problem(await client.post(f"{API}/epcis", json=CAPSO, headers=copil), 403)
    created = await client.post(
        f"{API}/epcis", json={**CAPSO, "communes": ["62765", "62765", "62525"]}, headers=agency
    )
    assert created.status_code == 201
    assert created.json() == {**CAPSO, "communes": ["62525", "62765"]}
    body = problem(await client.post(f"{API}/epcis", json=CAPSO, headers=agency), 409)
    assert "200069037 is registered already" in body["detail"]
    taken = await client.post(f"{API}/epcis", json={**CCPL, "communes": ["62765"]}, headers=agency)
    assert "62765 (EPCI 200069037)" in problem(taken, 409)["detail"]
    await client.post(f"{API}/epcis", json=CCPL, headers=agency)

    listed = await client.get(f"{API}/epcis", params={"limit": 1})
    assert listed.status_code == 200
    assert listed.json()["total"] == 2
    assert [epci["siren"] for epci in listed.json()["items"]] == [CAPSO["siren"]]

    updated = await client.patch(
        f"{API}/epcis/{CCPL['siren']}",
        json={"population": 24500, "communes": ["62534"]},
        headers=agency,
    )
    assert updated.json() == {**CCPL, "population": 24500, "communes": ["62534"]}
    assert (await client.get(f"{API}/epcis/{CCPL['siren']}")).json()["population"] == 24500
    problem(await client.get(f"{API}/epcis/123456789"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"siren": "200069038", "name": "x", "population": 1}, "siren"),
        ({"siren": "20006903", "name": "x", "population": 1}, "siren"),
        ({"siren": "200069037", "name": "", "population": 1}, "name"),
        ({"siren": "200069037", "name": "x", "population": -1}, "population"),
        ({"siren": "200069037", "name": "x", "population": 1, "communes": ["6276"]}, "communes"),
    ],
)
async def test_bad_epcis_are_refused_field_by_field(
    client: httpx.AsyncClient, agency: dict[str, str], body: dict[str, Any], field: str
) -> None:
    refused = problem(await client.post(f"{API}/epcis", json=body, headers=agency), 422)
    assert refused["errors"][0]["field"].startswith(field)


async def test_an_application_is_pending_until_the_agency_approves_it(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    submitted = await submit(client, application())
    assert submitted["status"] == "pending"
    assert submitted["centre"]["epci_name"] == CCPL["name"]
    assert submitted["centre"]["member_since"] is None
    assert submitted["animators"][0]["email"] == "camille.martin@lumbres.example"

    pending = await client.get(f"{API}/applications", params={"status": "pending"}, headers=agency)
    assert pending.json()["total"] == 1
    assert pending.json()["items"][0]["id"] == submitted["id"]
    problem(await client.get(f"{API}/applications"), 401)

    approved = await client.post(f"{API}/applications/{submitted['id']}/approve", headers=agency)
    assert approved.status_code == 200
    assert approved.json()["status"] == "member"
    assert approved.json()["centre_id"] == submitted["centre_id"]

    again = problem(
        await client.post(f"{API}/applications/{submitted['id']}/approve", headers=agency), 409
    )
    assert again["detail"] == "centre is member; it can be approved only when pending."
    assert again["current_status"] == "member"
    rejected = await client.post(
        f"{API}/applications/{submitted['id']}/reject", json={"reason": "late"}, headers=agency
    )
    assert "it can be rejected only when pending" in problem(rejected, 409)["detail"]

    decided = await client.get(f"{API}/applications/{submitted['id']}", headers=agency)
    assert decided.json()["status"] == "approved"
    assert decided.json()["decided_by"] == "agency"
    # Its arrival in the network, public: the web lists the places arrived since a day.
    listed = (await client.get(f"{API}/centres", params={"status": "member"})).json()["items"]
    assert listed[0]["member_since"] == decided.json()["decided_at"]
    assert approved.json()["centre"]["member_since"] == decided.json()["decided_at"]


async def test_the_membership_lifecycle_and_its_history(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    centre_id = await member(client, agency)
    base = f"{API}/centres/{centre_id}"

    problem(await client.post(f"{base}/suspend", json={"reason": "x"}), 401)
    problem(await client.post(f"{base}/suspend", json={}, headers=agency), 422)
    reinstate = await client.post(f"{base}/reinstate", json={"reason": "x"}, headers=agency)
    assert (
        "centre is member; it can be reinstated only when suspended"
        in (problem(reinstate, 409)["detail"])
    )
    suspended = await client.post(
        f"{base}/suspend",
        json={"reason": "no animator for 6 months", "by": "Jeanne"},
        headers=agency,
    )
    assert suspended.json()["status"] == "suspended"
    reinstated = await client.post(f"{base}/reinstate", json={"reason": "back"}, headers=agency)
    assert reinstated.json()["status"] == "member"
    withdrawn = await client.post(f"{base}/withdraw", json={"reason": "closed"}, headers=agency)
    assert withdrawn.json()["status"] == "withdrawn"
    refused = problem(
        await client.post(f"{base}/reinstate", json={"reason": "x"}, headers=agency), 409
    )
    assert refused["detail"] == "centre is withdrawn; it can be reinstated only when suspended."

    public = (await client.get(base)).json()
    assert "animators" not in public
    assert [entry["action"] for entry in public["history"]] == [
        "submit",
        "approve",
        "suspend",
        "reinstate",
        "withdraw",
    ]
    assert public["history"][2]["reason"] == "no animator for 6 months"
    assert "by" not in public["history"][2]
    private = (await client.get(base, headers=agency)).json()
    assert private["history"][2]["by"] == "Jeanne"
    assert private["animators"][0]["name"] == "Camille Martin"
    problem(await client.get(base, headers={"Authorization": "Bearer wrong"}), 401)


async def test_rejection_frees_the_pivot_for_a_new_application(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    first = await submit(client, application())
    duplicate = problem(await client.post(f"{API}/applications", json=application()), 409)
    assert first["centre_id"] in duplicate["detail"]
    rejected = await client.post(
        f"{API}/applications/{first['id']}/reject",
        json={"reason": "not a public space"},
        headers=agency,
    )
    assert rejected.json()["status"] == "rejected"
    assert (await submit(client, application()))["status"] == "pending"


async def test_the_placeholder_pivot_is_never_a_duplicate(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    for name in ("France services de Saint-Omer", "France services d'Arques"):
        await submit(
            client,
            application(
                nom=name,
                pivot="00000000000000",
                code_insee="62765",
                code_postal="62500",
                epci_siren=None,
            ),
        )
    listed = await client.get(f"{API}/centres", params={"epci_siren": CAPSO_SIREN})
    assert listed.json()["total"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pivot": "24620101600078"}, "centre.pivot"),
        ({"pivot": "W12345"}, "centre.pivot"),
        ({"code_postal": "6238"}, "centre.code_postal"),
        ({"code_insee": "20534"}, "centre.code_insee"),
        ({"workstations": -1}, "centre.workstations"),
        (
            {"typologie": ["X" * 101]},
            "centre.typologie",
        ),  # unknown codes are kept: see national_data
        ({"services": ["Yoga"]}, "centre.services"),
        ({"horaires": "lundi 9h-12h"}, "centre.horaires"),
        ({"nom": ""}, "centre.nom"),
        ({"colour": "blue"}, "centre.colour"),
    ],
)
async def test_bad_centres_are_refused_with_the_field_named(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    change: dict[str, Any],
    field: str,
    epcis: None,
) -> None:
    refused = problem(await client.post(f"{API}/applications", json=application(**change)), 422)
    assert refused["errors"][0]["field"] == field
    assert (await client.get(f"{API}/centres")).json()["total"] == 0


async def test_bad_applications_write_nothing(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    no_animator = {**application(), "animators": []}
    problem(await client.post(f"{API}/applications", json=no_animator), 422)
    bad_email = {**application(), "animators": [{"name": "A", "email": "a@"}]}
    assert (
        problem(await client.post(f"{API}/applications", json=bad_email), 422)["errors"][0]["field"]
        == "animators.0.email"
    )
    twice = {
        **application(),
        "animators": [{"name": "A", "email": "a@x.example"}, {"name": "B", "email": "A@x.example"}],
    }
    assert (
        "a@x.example"
        in problem(await client.post(f"{API}/applications", json=twice), 422)["detail"]
    )
    unknown = problem(
        await client.post(
            f"{API}/applications", json=application(code_insee="62040", epci_siren="200067213")
        ),
        422,
    )
    assert "EPCI 200067213 is not registered" in unknown["detail"]
    elsewhere = problem(
        await client.post(f"{API}/applications", json=application(epci_siren=CAPSO["siren"])), 422
    )
    assert "commune 62534 belongs to EPCI 246201016" in elsewhere["detail"]
    unlisted = problem(
        await client.post(
            f"{API}/applications", json=application(code_insee="62040", epci_siren=None)
        ),
        422,
    )
    assert "no registered EPCI lists commune 62040" in unlisted["detail"]
    malformed = await client.post(
        f"{API}/applications", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    problem(malformed, 422)
    huge = application(presentation_detail="x" * 300_000)
    problem(await client.post(f"{API}/applications", json=huge), 413)
    assert (await client.get(f"{API}/centres")).json()["total"] == 0
    assert (await client.get(f"{API}/applications", headers=agency)).json()["total"] == 0


async def test_unknown_ids_are_404(client: httpx.AsyncClient, agency: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    problem(await client.post(f"{API}/applications/{missing}/approve", headers=agency), 404)
    problem(
        await client.post(f"{API}/centres/{missing}/suspend", json={"reason": "x"}, headers=agency),
        404,
    )
    problem(await client.get(f"{API}/centres/{missing}"), 404)
    problem(await client.get(f"{API}/centres/not-a-uuid"), 422)


async def test_centres_are_listed_by_status_and_epci_with_a_total(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    await member(client, agency)
    await submit(
        client,
        application(
            nom="Centre social de Saint-Omer",
            pivot="33507537000023",
            code_insee="62765",
            code_postal="62500",
            commune="Saint-Omer",
            epci_siren=None,
        ),
    )
    members = await client.get(
        f"{API}/centres", params={"status": "member", "epci_siren": CCPL_SIREN}
    )
    assert members.json()["total"] == 1
    assert members.json()["items"][0]["nom"] == "Cyber-centre de Lumbres"
    assert "animators" not in members.json()["items"][0]
    page = await client.get(f"{API}/centres", params={"limit": 1, "offset": 1})
    assert page.json()["total"] == 2
    assert len(page.json()["items"]) == 1
    problem(await client.get(f"{API}/centres", params={"status": "sleeping"}), 422)
    problem(await client.get(f"{API}/centres", params={"limit": 0}), 422)


async def test_the_agency_updates_a_centre(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    centre_id = await member(client, agency)
    base = f"{API}/centres/{centre_id}"
    problem(await client.patch(base, json={"workstations": 12}), 401)
    updated = await client.patch(base, json={"workstations": 12}, headers=agency)
    assert updated.status_code == 200
    assert updated.json()["workstations"] == 12
    refused = problem(await client.patch(base, json={"workstations": -3}, headers=agency), 422)
    assert refused["errors"][0]["field"] == "workstations"
    problem(await client.patch(base, json={"status": "member"}, headers=agency), 422)
    problem(await client.patch(base, json={"nom": None}, headers=agency), 422)
    assert (await client.get(base)).json()["workstations"] == 12
    await client.post(f"{base}/withdraw", json={"reason": "closed"}, headers=agency)
    closed = problem(await client.patch(base, json={"workstations": 3}, headers=agency), 409)
    assert "centre is withdrawn" in closed["detail"]


async def test_the_agency_manages_animators(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    centre_id = await member(client, agency)
    base = f"{API}/centres/{centre_id}/animators"
    problem(await client.get(base), 401)
    [first] = (await client.get(base, headers=agency)).json()["items"]

    last = problem(await client.delete(f"{base}/{first['id']}", headers=agency), 409)
    assert "last animator" in last["detail"]
    added = await client.post(
        base, json={"name": "Lou Bernard", "email": "Lou@Lumbres.example"}, headers=agency
    )
    assert added.status_code == 201
    assert added.json()["email"] == "lou@lumbres.example"
    same = await client.post(
        base, json={"name": "Lou B.", "email": "lou@lumbres.example"}, headers=agency
    )
    assert "lou@lumbres.example" in problem(same, 409)["detail"]
    problem(await client.post(base, json={"name": "X", "email": "x"}, headers=agency), 422)

    renamed = await client.patch(
        f"{base}/{added.json()['id']}", json={"name": "Lou Bernard-Petit"}, headers=agency
    )
    assert renamed.json()["name"] == "Lou Bernard-Petit"
    clash = await client.patch(
        f"{base}/{added.json()['id']}", json={"email": first["email"]}, headers=agency
    )
    problem(clash, 409)
    bad = await client.patch(f"{base}/{added.json()['id']}", json={"email": "lou@"}, headers=agency)
    assert problem(bad, 422)["errors"][0]["field"] == "email"
    removed = await client.delete(f"{base}/{first['id']}", headers=agency)
    assert removed.status_code == 204
    remaining = (await client.get(base, headers=agency)).json()
    assert [a["name"] for a in remaining["items"]] == ["Lou Bernard-Petit"]
    problem(await client.delete(f"{base}/{first['id']}", headers=agency), 404)


async def test_approval_needs_an_animator(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    submitted = await submit(client, application())
    centre_id = submitted["centre_id"]
    base = f"{API}/centres/{centre_id}/animators"
    [only] = (await client.get(base, headers=agency)).json()["items"]
    removed = await client.delete(f"{base}/{only['id']}", headers=agency)
    assert removed.status_code == 204
    refused = problem(
        await client.post(f"{API}/applications/{submitted['id']}/approve", headers=agency), 409
    )
    assert "no animator" in refused["detail"]
    assert (await client.get(f"{API}/centres/{centre_id}")).json()["status"] == "pending"


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/epcis",
        "/api/v1/applications",
        "/api/v1/applications/{application_id}/approve",
        "/api/v1/centres/{centre_id}/withdraw",
        "/api/v1/centres/export.csv",
        "/api/v1/centres/import",
    ):
        assert path in paths
