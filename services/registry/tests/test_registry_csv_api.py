"""Import and export of the national standard's CSV through the API, on the real PostgreSQL."""

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from crnt_shared.http import PROBLEM_JSON

pytestmark = pytest.mark.integration

API = "/api/v1"
DATA = Path(__file__).with_name("data")
CSV = {"Content-Type": "text/csv"}
REIMS = {"siren": "200067213", "name": "CU du Grand Reims", "population": 294000}


async def register_saint_omer_epcis(client: httpx.AsyncClient, agency: dict[str, str]) -> None:
    epcis: dict[str, dict[str, Any]] = {}
    with (DATA / "communes-epci.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            epci = epcis.setdefault(
                row["epci_siren"], {"siren": row["epci_siren"], "name": row["epci_nom"]}
            )
            epci.setdefault("communes", []).append(row["code_insee"])
    populations = {"200069037": 104937, "246201016": 24187}
    for siren, epci in epcis.items():
        response = await client.post(
            f"{API}/epcis", json={**epci, "population": populations[siren]}, headers=agency
        )
        assert response.status_code == 201, response.text


async def test_the_standards_example_round_trips_through_import_and_export(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await client.post(f"{API}/epcis", json={**REIMS, "communes": ["51454"]}, headers=agency)
    original = (DATA / "exemple-valide.csv").read_bytes()
    problem = await client.post(f"{API}/centres/import", content=original, headers=CSV)
    assert problem.status_code == 401

    imported = await client.post(
        f"{API}/centres/import", content=original, headers={**CSV, **agency}
    )
    assert imported.status_code == 201, imported.text
    [row] = imported.json()["applications"]
    assert (row["line"], row["epci_siren"]) == (2, REIMS["siren"])
    centre = f"{API}/centres/{row['centre_id']}"
    await client.post(
        f"{centre}/animators", json={"name": "Alex", "email": "alex@reims.example"}, headers=agency
    )
    approved = await client.post(
        f"{API}/applications/{row['application_id']}/approve", headers=agency
    )
    assert approved.status_code == 200, approved.text

    exported = await client.get(f"{API}/centres/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    [before] = list(csv.DictReader(io.StringIO(original.decode())))
    [after] = list(csv.DictReader(io.StringIO(exported.text)))
    assert after["id"] == row["centre_id"]
    assert {k: v for k, v in after.items() if k != "id"} == {
        k: v for k, v in before.items() if k != "id"
    }

    again = await client.post(
        f"{API}/centres/import", content=exported.content, headers={**CSV, **agency}
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["line"] == 2
    assert "already pending, member or suspended" in again.json()["errors"][0]["reason"]


async def test_the_saint_omer_places_become_pending_applications_in_their_epci(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await register_saint_omer_epcis(client, agency)
    content = (DATA / "pays-de-saint-omer-lieux.csv").read_bytes()
    dry = await client.post(
        f"{API}/centres/import",
        params={"dry_run": "true"},
        content=content,
        headers={**CSV, **agency},
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["valid"], dry.json()["imported"]) == (8, 0)
    assert (await client.get(f"{API}/centres")).json()["total"] == 0

    imported = await client.post(
        f"{API}/centres/import", content=content, headers={**CSV, **agency}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 8
    by_name = {item["nom"]: item["epci_siren"] for item in imported.json()["applications"]}
    assert by_name["France services de Lumbres"] == "246201016"
    assert by_name["France services de Saint-Omer"] == "200069037"
    pending = await client.get(
        f"{API}/applications", params={"status": "pending", "limit": 100}, headers=agency
    )
    assert pending.json()["total"] == 8
    assert {item["channel"] for item in pending.json()["items"]} == {"import"}


async def test_a_file_with_an_invalid_row_imports_nothing(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await register_saint_omer_epcis(client, agency)
    lines = (DATA / "pays-de-saint-omer-lieux.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("62120", "6212")  # line 4: a postal code with 4 digits
    lines[5] = lines[5].replace("62811", "62999")  # line 6: a commune no EPCI lists
    content = "\n".join(lines).encode()
    refused = await client.post(f"{API}/centres/import", content=content, headers={**CSV, **agency})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM_JSON
    errors = refused.json()["errors"]
    assert [error["line"] for error in errors] == [4, 6]
    assert "code_postal" in errors[0]["reason"]
    assert "no registered EPCI lists commune 62999" in errors[1]["reason"]
    assert "nothing was imported" in refused.json()["detail"]
    assert (await client.get(f"{API}/centres")).json()["total"] == 0


async def test_unreadable_files_are_refused(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    headers = {**CSV, **agency}
    empty = await client.post(f"{API}/centres/import", content=b"", headers=headers)
    assert empty.status_code == 422
    latin1 = "id,pivot,nom\nx,1,Médiathèque".encode("latin-1")
    not_utf8 = await client.post(f"{API}/centres/import", content=latin1, headers=headers)
    assert "UTF-8" in not_utf8.json()["detail"]
    no_header = await client.post(f"{API}/centres/import", content=b"a,b\n1,2\n", headers=headers)
    assert "lacks the standard's column" in no_header.json()["detail"]
    multipart = await client.post(
        f"{API}/centres/import", files={"file": ("lieux.csv", b"a,b")}, headers=agency
    )
    assert multipart.status_code == 415
