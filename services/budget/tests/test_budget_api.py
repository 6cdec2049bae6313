"""The HTTP contract: who may write, what is refused and how, what the reads show."""

from typing import Any

import httpx
import pytest
from crnt_budget.testing import API, budget_body

pytestmark = pytest.mark.integration

YEAR = 2031
PROBLEM = "application/problem+json"


async def put(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.put(f"{API}/budgets/{YEAR}", json=body, headers=headers)


def assert_refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail


async def test_writing_needs_the_agency_token(client: httpx.AsyncClient) -> None:
    anonymous = await put(client, {}, budget_body())
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith(PROBLEM)
    copil = await put(client, {"Authorization": "Bearer test-copil-token"}, budget_body())
    assert copil.status_code == 403


async def test_a_budget_is_configured_and_read_by_anyone(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    body = budget_body(funders=[{"name": "FEDER", "rate": "0.5", "ceiling": "10000.00"}])
    response = await put(client, agency, body)
    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget["configuration"] == {
        **body,
        "funders": [{"name": "FEDER", "rate": "0.5", "ceiling": "10000.00", "base": None}],
        "network_lines": [],
    }
    assert (budget["year"], budget["version"], budget["revision"]) == (YEAR, 1, 1)
    assert budget["centres"] == []
    assert budget["epcis"] == []
    assert (budget["allocated"], budget["unallocated"]) == ("0.00", "30000.00")
    public = await client.get(f"{API}/budgets/{YEAR}")
    assert public.status_code == 200
    shares = (await client.get(f"{API}/budgets/{YEAR}/shares")).json()
    assert set(shares) >= {"year", "version", "envelope", "centres", "epcis"}
    assert (await client.get(f"{API}/budgets/{YEAR}/versions/1")).status_code == 200


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"envelope": "-5.00"}, ("envelope", "negative")),
        ({"envelope": "10.005"}, ("envelope", "more than 2 decimals")),
        ({"envelope": 30000.5}, ("envelope", "not numbers")),
        ({"envelope": 30000}, ("envelope", "not numbers")),
        ({"epci_contribution": "12000.00"}, ("epci_contribution", "reste à charge")),
        ({"epci_key": "fixed_shares"}, ("fixed_shares", "a ratio per EPCI")),
        ({"fixed_shares": {"200069037": "1"}}, ("fixed_shares go with epci_key fixed_shares",)),
        (
            {"epci_key": "fixed_shares", "fixed_shares": {"CAPSO": "1"}},
            ("keyed by SIREN",),
        ),
        (
            {"funders": [{"name": "F", "rate": "0.5", "base": {"axes": ["cuisine"]}}]},
            ("unknown axes", "materiel_partage"),
        ),
        ({"funders": [{"name": "F", "amount": "1.00", "base": {}}]}, ("base without a rate",)),
        (
            {
                "network_lines": [
                    {"id": "dotations", "label": "D", "estimated": "1.00"},
                ]
            },
            ("distinct and not 'dotations'",),
        ),
        ({"centre_key": {"fixed_ratio": "1.5", "weight": "workstations"}}, ("greater than 1",)),
        ({"centre_key": {"fixed_ratio": "-0.1", "weight": "workstations"}}, ("not a ratio",)),
        ({"centre_key": {"fixed_ratio": 0.5, "weight": "workstations"}}, ("not numbers",)),
        ({"centre_key": {"fixed_ratio": "0.5", "weight": "surface"}}, ("weight",)),
        ({"epci_key": "surface"}, ("epci_key",)),
        ({"surprise": 1}, ("surprise",)),
        ({"funders": [{"name": "FEDER"}]}, ("exactly one of an amount or a rate",)),
        ({"funders": [{"name": "R", "amount": "1.00", "ceiling": "2.00"}]}, ("ceiling",)),
        ({"funders": [{"name": "R", "rate": "2"}]}, ("greater than 1",)),
    ],
)
async def test_bad_input_is_refused_with_a_readable_sentence(
    client: httpx.AsyncClient, agency: dict[str, str], change: dict[str, Any], words: tuple[str]
) -> None:
    assert_refused(await put(client, agency, budget_body(**change)), *words)


async def test_a_missing_field_and_a_body_that_is_not_json_are_refused(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    body = budget_body()
    del body["envelope"]
    assert_refused(await put(client, agency, body), "envelope")
    raw = await client.put(
        f"{API}/budgets/{YEAR}",
        content=b"{not json",
        headers={**agency, "content-type": "application/json"},
    )
    assert raw.status_code == 422


@pytest.mark.parametrize("year", ["1999", "2101", "twenty"])
async def test_a_year_out_of_range_is_refused(
    client: httpx.AsyncClient, agency: dict[str, str], year: str
) -> None:
    response = await client.put(f"{API}/budgets/{year}", json=budget_body(), headers=agency)
    assert_refused(response, "year")
    assert (await client.get(f"{API}/budgets/{year}/shares")).status_code == 422


async def test_reading_what_does_not_exist_is_a_404_that_says_what_to_do(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    missing = await client.get(f"{API}/budgets/{YEAR}/shares")
    assert missing.status_code == 404
    assert "PUT /api/v1/budgets" in missing.json()["detail"]
    assert (await client.get(f"{API}/budgets/{YEAR}/versions")).status_code == 404
    assert (await put(client, agency, budget_body())).status_code == 200
    assert (await client.get(f"{API}/budgets/{YEAR}/versions/7")).status_code == 404
    assert (await client.get(f"{API}/budgets/{YEAR}/versions/0")).status_code == 422


async def test_a_reste_a_charge_with_nobody_to_pay_it_publishes_no_version(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    """1,000.00 of animation and no grant: 1,000.00 to pay, and no EPCI has a member centre.
    No split is invented: no version, the budget says why, the shares answer 409."""
    line = {"id": "animation", "label": "Animation du réseau", "estimated": "1000.00"}
    body = budget_body(funders=[], network_lines=[line])
    response = await put(client, agency, body)
    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget["version"] is None
    assert budget["waiting"]["missing"] == [
        f"no EPCI has a member centre in {YEAR}: nobody owes the reste à charge"
    ]
    shares = await client.get(f"{API}/budgets/{YEAR}/shares")
    assert shares.status_code == 409
    assert "nobody owes the reste à charge" in shares.json()["detail"]
    assert (await client.get(f"{API}/budgets/{YEAR}/annex.pdf")).status_code == 409
