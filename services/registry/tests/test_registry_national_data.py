"""Real national data: the cartography's own typologies are kept with a warning; a SIRET whose
SIREN fails its check digit and opening hours with impossible times are refused."""

import httpx
import pytest

from services.registry.tests.samples import API

from .test_registry_api import application, problem

pytestmark = pytest.mark.integration

CSV_HEADER = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,typologie,horaires"


async def test_an_unknown_typology_is_kept_with_a_warning(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    response = await client.post(
        f"{API}/applications", json=application(typologie=["RELAIS_LECTURE", "EPN", "MDH"])
    )
    assert response.status_code == 201, response.text
    body = response.json()
    [warning] = body["warnings"]
    assert "RELAIS_LECTURE, MDH is not a data·inclusion code; it was kept" in warning
    centre = (await client.get(f"{API}/centres/{body['centre_id']}")).json()
    assert centre["typologie"] == ["RELAIS_LECTURE", "EPN", "MDH"]
    known = await client.post(
        f"{API}/applications", json=application(pivot="24620101600069", typologie=["EPN"])
    )
    assert known.status_code == 201, known.text
    assert known.json()["warnings"] == []


async def test_a_siret_whose_siren_fails_and_impossible_hours_are_refused(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    siret = problem(
        await client.post(f"{API}/applications", json=application(pivot="10000000000008")), 422
    )
    assert "SIREN 100000000" in siret["detail"]
    hours = problem(
        await client.post(f"{API}/applications", json=application(horaires="Mo-Fr 25:00-26:00")),
        422,
    )
    assert "OpenStreetMap" in hours["detail"]


async def test_the_import_keeps_the_cartographys_typologies(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    content = "\r\n".join(
        [
            CSV_HEADER,
            "a,00000000000000,Fabrique de Lumbres,Lumbres,62380,62534,1 rue,2026-01-05,"
            "FABRIQUE|CFP,Mo-Fr 09:00-12:00",
            "b,00000000000000,EPI de Lumbres,Lumbres,62380,62534,2 rue,2026-01-05,EPI|EPN,",
        ]
    )
    response = await client.post(
        f"{API}/centres/import",
        content=content.encode(),
        headers={**agency, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    first, second = response.json()["applications"]
    assert "FABRIQUE, CFP is not a data·inclusion code" in first["warnings"][0]
    assert "EPI is not" in second["warnings"][0]
    bad_hours = content.replace("Mo-Fr 09:00-12:00", "Mo-Fr 25:00-26:00")
    refused = await client.post(
        f"{API}/centres/import",
        content=bad_hours.encode(),
        headers={**agency, "Content-Type": "text/csv"},
    )
    assert problem(refused, 422)["errors"][0]["line"] == 2
