"""Programme validations on real Kafka feed the financing plan in real PostgreSQL; the gap is
reported in the budget and in the summary event of the version the validation causes."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from crnt_budget.testing import (
    API,
    Programme,
    Published,
    Registry,
    budget_body,
    centre,
    membership,
    programme_validated,
)
from crnt_shared.contracts.budget import CentreShareChanged, SharesRecalculated
from crnt_shared.contracts.programme import ProgrammeValidated
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.testing import wait_until

pytestmark = pytest.mark.integration

YEAR = datetime.now(UTC).year
VALIDATED = ProgrammeValidated.event_type()
# Resources of budget_body(): the Region's 15,000.00 and the EPCIs' 12,000.00.
DEFICIT_TOTALS = {
    "communication": "10000.00",
    "ateliers": "12000.00",
    "evenements": "5000.00",
    "formation": "3000.00",
    "materiel_partage": "2000.00",
}  # 32,000.00: 5,000.00 more than the resources


async def handled_validations(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM inbox WHERE event_type = $1", VALIDATED
        )
        return count
    finally:
        await connection.close()


async def get_budget(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"{API}/budgets/{YEAR}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def versions(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/budgets/{YEAR}/versions")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def plan_of_programme(client: httpx.AsyncClient, version: int) -> dict[str, Any]:
    """Waits for the budget's latest version to use the programme's ``version``."""

    async def check() -> dict[str, Any] | None:
        budget = await get_budget(client)
        programme = budget["financing_plan"]["programme"]
        return budget if programme is not None and programme["version"] == version else None

    budget: dict[str, Any] = await wait_until(
        check, message=f"the plan based on the programme's version {version}"
    )
    return budget


async def test_a_validated_programme_feeds_the_plan_and_the_deficit_is_reported(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    programme: Programme,
    published: Published,
    database_url: str,
) -> None:
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    plan = response.json()["financing_plan"]
    assert (plan["status"], plan["planned_expenses"], plan["programme"]) == (
        "awaiting_programme",
        None,
        None,
    )
    member = centre(workstations=3)
    await registry.publish([membership(MembershipApproved, member, "pending", "member")])

    async def member_in() -> bool:
        return bool((await get_budget(client))["member_count"] == 1)

    await wait_until(member_in, message="the approval's version")

    validation = programme_validated(YEAR, 1, DEFICIT_TOTALS)
    await programme.publish([validation])
    budget = await plan_of_programme(client, 1)

    assert budget["version"] == 3
    plan = budget["financing_plan"]
    assert plan["status"] == "deficit"
    assert plan["planned_expenses"] == DEFICIT_TOTALS
    assert (plan["expenses"], plan["resources"], plan["gap"]) == (
        "32000.00",
        "27000.00",
        "-5000.00",
    )
    assert plan["programme"]["deciding_body"] == "Comité de pilotage"
    assert budget["financing_status"] == "deficit"
    assert budget["cause"]["kind"] == "events"
    assert budget["cause"]["events"] == [
        {"id": str(validation.id), "type": VALIDATED, "subject": str(YEAR)}
    ]
    # The shares do not move: the plan changed, not the envelope nor the EPCIs' contribution.
    assert [(c["amount"], c["change"]) for c in budget["centres"]] == [("30000.00", "0.00")]

    async def summary_out() -> SharesRecalculated | None:
        found = [e for e in published.of(SharesRecalculated) if e.data.version == 3]
        return found[0] if found else None

    summary = await wait_until(summary_out, message="the summary of the programme's version")
    assert summary.subject == str(YEAR)
    financing = summary.data.financing
    assert (financing.status, financing.expenses, financing.resources, financing.gap) == (
        "deficit",
        "32000.00",
        "27000.00",
        "-5000.00",
    )
    assert summary.data.cause.kind == "events"
    assert [(e.id, e.type) for e in summary.data.cause.events] == [(validation.id, VALIDATED)]
    assert summary.data.changed_centres == 0
    connection = await asyncpg.connect(database_url)
    try:
        share_events = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = $1", CentreShareChanged.event_type()
        )
    finally:
        await connection.close()
    assert share_events == 1  # the approval's, none for the programme's version


async def test_a_balanced_plan_with_a_rate_funder(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    programme: Programme,
    published: Published,
) -> None:
    # Resources: 15,000 + 25 % of the expenses + 12,000 (EPCIs) = expenses at 36,000.00.
    funders = [
        {"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"},
        {"name": "FEDER", "rate": "0.25", "ceiling": "20000.00"},
    ]
    response = await client.put(
        f"{API}/budgets/{YEAR}", json=budget_body(funders=funders), headers=agency
    )
    assert response.status_code == 200, response.text
    await programme.publish(
        [programme_validated(YEAR, 1, {"ateliers": "30000.00", "formation": "6000.00"})]
    )
    budget = await plan_of_programme(client, 1)
    plan = budget["financing_plan"]
    assert (plan["status"], plan["gap"]) == ("balanced", "0.00")
    assert plan["funders"] == [
        {"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"},
        {"name": "FEDER", "amount": "9000.00"},
    ]
    assert plan["planned_expenses"] == {
        "ateliers": "30000.00",
        "communication": "0.00",
        "evenements": "0.00",
        "formation": "6000.00",
        "materiel_partage": "0.00",
    }
    assert (plan["expenses"], plan["resources"]) == ("36000.00", "36000.00")

    async def summary_out() -> bool:
        return any(e.data.version == 2 for e in published.of(SharesRecalculated))

    await wait_until(summary_out, message="the summary of the programme's version")
    summary = next(e for e in published.of(SharesRecalculated) if e.data.version == 2)
    assert (summary.data.financing.status, summary.data.financing.gap) == ("balanced", "0.00")


async def test_an_older_version_arriving_late_does_not_override_a_newer_one(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    programme: Programme,
    database_url: str,
) -> None:
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    newer = programme_validated(YEAR, 2, {"ateliers": "27000.00"})
    older = programme_validated(YEAR, 1, {"ateliers": "50000.00"})
    newer_again = programme_validated(YEAR, 2, {"ateliers": "1.00"})  # another copy of v2
    await programme.publish([newer, older, newer_again])

    async def all_handled() -> bool:
        return await handled_validations(database_url) == 3

    await wait_until(all_handled, message="the three validations in the inbox")
    budget = await plan_of_programme(client, 2)
    assert (budget["financing_plan"]["status"], budget["financing_plan"]["gap"]) == (
        "balanced",
        "0.00",
    )
    assert budget["financing_plan"]["planned_expenses"]["ateliers"] == "27000.00"
    listed = await versions(client)
    assert [(v["version"], v["financing_status"]) for v in listed] == [
        (1, "awaiting_programme"),
        (2, "balanced"),
    ]
    assert budget["cause"]["events"] == [
        {"id": str(newer.id), "type": VALIDATED, "subject": str(YEAR)}
    ]

    # A newer version still applies after the late one.
    await programme.publish([programme_validated(YEAR, 3, {"ateliers": "20000.00"})])
    budget = await plan_of_programme(client, 3)
    plan = budget["financing_plan"]
    assert (budget["version"], plan["status"], plan["gap"]) == (3, "surplus", "7000.00")


async def test_a_validation_before_the_budget_exists_is_applied_when_it_is_configured(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    programme: Programme,
    published: Published,
    database_url: str,
) -> None:
    await programme.publish(
        [
            programme_validated(YEAR, 1, {"communication": "1000.00"}),
            programme_validated(YEAR, 2, DEFICIT_TOTALS),
        ]
    )

    async def both_handled() -> bool:
        return await handled_validations(database_url) == 2

    await wait_until(both_handled, message="the two validations in the inbox")
    assert (await client.get(f"{API}/budgets/{YEAR}")).status_code == 404

    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget["version"] == 1
    plan = budget["financing_plan"]
    assert (plan["status"], plan["expenses"], plan["gap"]) == ("deficit", "32000.00", "-5000.00")
    assert plan["programme"]["version"] == 2
    assert plan["planned_expenses"] == DEFICIT_TOTALS

    async def summary_out() -> bool:
        return bool(published.of(SharesRecalculated))

    await wait_until(summary_out, message="the summary of the first version")
    first = published.of(SharesRecalculated)[0]
    assert (first.data.version, first.data.financing.status, first.data.financing.gap) == (
        1,
        "deficit",
        "-5000.00",
    )
    assert len(await versions(client)) == 1
