"""Hostile input gets a problem a person can act on, never a 500: a NUL in a text, integers
PostgreSQL cannot hold, a header that is not UTF-8, a CSV field larger than the csv module's
limit."""

import httpx
import jsonschema
import pytest
from crnt_shared.http import PROBLEM_JSON

from services.registry.tests.samples import API

from .test_registry_api import application, problem

pytestmark = pytest.mark.integration


async def test_a_nul_character_in_an_anonymous_application_is_refused(
    client: httpx.AsyncClient, agency: dict[str, str], epcis: None
) -> None:
    body = problem(await client.post(f"{API}/applications", json=application(nom="Cyber\x00")), 422)
    assert "U+0000" in body["detail"]
    assert (await client.get(f"{API}/centres")).json()["total"] == 0


@pytest.mark.parametrize("offset", ["9223372036854775808", "99999999999999999999"])
async def test_integers_beyond_postgresql_are_refused(
    client: httpx.AsyncClient, offset: str
) -> None:
    body = problem(await client.get(f"{API}/centres", params={"offset": offset}), 422)
    assert "too large" in body["detail"]


async def test_a_header_that_is_not_utf8_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/centres", headers=[(b"X-Request-Id", b"\xff\xfe"), (b"X-Note", b"caf\xe9")]
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"].isascii()


async def test_a_csv_field_over_the_csv_limit_is_a_problem(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    header = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj\r\n"
    row = f'1,00000000000000,"{"x" * 140_000}",Lumbres,62380,62534,1 rue,2026-01-05\r\n'
    content = header + row
    response = await client.post(
        f"{API}/centres/import",
        content=content.encode(),
        headers={**agency, "Content-Type": "text/csv"},
    )
    body = problem(response, 422)
    assert "line 2" in body["detail"]


async def test_the_problems_of_a_refused_file_match_the_documented_schema(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    document = (await client.get("/openapi.json")).json()
    documented = document["paths"][f"{API}/centres/import"]["post"]["responses"]["422"]
    schema = documented["content"][PROBLEM_JSON]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}
    header = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj\r\n"
    row = "1,00000000000000,Lieu,Lumbres,6238,62534,1 rue,2026-01-05\r\n"
    response = await client.post(
        f"{API}/centres/import",
        content=(header + row).encode(),
        headers={**agency, "Content-Type": "text/csv"},
    )
    body = problem(response, 422)
    assert body["errors"][0]["line"] == 2
    jsonschema.validate(body, document["components"]["schemas"]["Problem"])
