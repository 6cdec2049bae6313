"""Programme validations and progress reports on real Kafka feed the financing plan in real
PostgreSQL: the actions are its expenses (estimated and actual), the EPCIs owe the reste à
charge, and each version's summary event carries the plan's figures."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from crnt_budget.testing import (
    API,
    YEAR,
    Programme,
    Published,
    Registry,
    action_progressed,
    budget_body,
    budget_of,
    centre,
    fetchval,
    membership,
    programme_validated,
)
from crnt_shared.contracts.budget import CentreShareChanged, SharesRecalculated
from crnt_shared.contracts.programme import ProgrammeValidated
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.testing import wait_until

pytestmark = pytest.mark.integration
VALIDATED = ProgrammeValidated.event_type()
# budget_body(): dotations 30,000.00, the Region's 15,000.00, the EPCIs by member centres.
TOTALS = {
    "communication": "10000.00",
    "ateliers": "12000.00",
    "evenements": "5000.00",
    "formation": "3000.00",
    "materiel_partage": "2000.00",
}  # 32,000.00


@dataclass(frozen=True)
class Parties:
    """What the tests act through: the budget's API (``client``, with the agency's ``agency``
    headers) and the registry and the programme service standing in."""

    client: httpx.AsyncClient
    agency: dict[str, str]
    registry: Registry
    programme: Programme

    async def configure(self, body: dict[str, Any]) -> httpx.Response:
        """``PUT`` the year's budget as the agency."""
        return await self.client.put(f"{API}/budgets/{YEAR}", json=body, headers=self.agency)


@pytest.fixture
def parties(
    client: httpx.AsyncClient, agency: dict[str, str], registry: Registry, programme: Programme
) -> Parties:
    return Parties(client, agency, registry, programme)


async def handled_validations(database_url: str) -> int:
    count: int = await fetchval(
        database_url, "SELECT count(*) FROM inbox WHERE event_type = $1", VALIDATED
    )
    return count


async def plan_of_programme(client: httpx.AsyncClient, version: int) -> dict[str, Any]:
    """Waits for the budget's latest version to use the programme's ``version``."""

    async def check() -> dict[str, Any] | None:
        budget = await budget_of(client, YEAR)
        programme = budget["financing_plan"]["programme"]
        return budget if programme is not None and programme["version"] == version else None

    budget: dict[str, Any] = await wait_until(
        check, message=f"the plan based on the programme's version {version}"
    )
    return budget


async def test_a_validated_programme_feeds_the_plan_and_the_epcis_owe_the_reste_a_charge(
    parties: Parties, published: Published, database_url: str
) -> None:
    """Version 1, no member: no dotation, nothing to pay (15,000.00 of grants for no expense).
    Version 2, a CAPSO centre joins: the dotations 30,000.00 − 15,000.00 = 15,000.00, all
    CAPSO's (the only EPCI with a member centre). Version 3, the programme's 32,000.00:
    62,000.00 − 15,000.00 = 47,000.00 for CAPSO; the centre's dotation does not move."""
    response = await parties.configure(budget_body())
    assert response.status_code == 200, response.text
    plan = response.json()["financing_plan"]
    assert (plan["status"], plan["planned_expenses"], plan["programme"]) == (
        "awaiting_programme",
        None,
        None,
    )
    assert plan["reste_a_charge"] == "0.00"
    member = centre(workstations=3)
    await parties.registry.publish([membership(MembershipApproved, member, "pending", "member")])

    async def member_in() -> bool:
        return bool((await budget_of(parties.client, YEAR))["member_count"] == 1)

    await wait_until(member_in, message="the approval's version")
    assert [e["amount"] for e in (await budget_of(parties.client, YEAR))["epcis"]] == ["15000.00"]

    validation = programme_validated(YEAR, 1, TOTALS)
    await parties.programme.publish([validation])
    budget = await plan_of_programme(parties.client, 1)

    assert budget["version"] == 3
    plan = budget["financing_plan"]
    assert plan["status"] == "balanced"
    assert plan["planned_expenses"] == TOTALS
    assert (plan["expenses"], plan["grants"], plan["reste_a_charge"], plan["gap"]) == (
        "62000.00",
        "15000.00",
        "47000.00",
        "0.00",
    )
    assert plan["by_nature"] == {
        "fonctionnement": {"estimated": "60000.00", "actual": "0.00"},
        "investissement": {"estimated": "2000.00", "actual": "0.00"},
    }
    dotations = [line for line in plan["expense_lines"] if line["kind"] == "dotations"]
    assert [(d["key"], d["estimated"]) for d in dotations] == [("dotations", "30000.00")]
    assert plan["programme"]["deciding_body"] == "Comité de pilotage"
    assert budget["cause"]["events"] == [
        {"id": str(validation.id), "type": VALIDATED, "subject": str(YEAR)}
    ]
    assert [(c["amount"], c["change"]) for c in budget["centres"]] == [("30000.00", "0.00")]
    assert [(e["amount"], e["change"]) for e in budget["epcis"]] == [("47000.00", "32000.00")]

    async def summary_out() -> SharesRecalculated | None:
        found = [e for e in published.of(SharesRecalculated) if e.data.version == 3]
        return found[0] if found else None

    summary = await wait_until(summary_out, message="the summary of the programme's version")
    financing = summary.data.financing
    assert (financing.status, financing.expenses, financing.reste_a_charge) == (
        "balanced",
        "62000.00",
        "47000.00",
    )
    assert summary.data.epci_contribution == "47000.00"
    assert summary.data.changed_centres == 0
    share_events = await fetchval(
        database_url,
        "SELECT count(*) FROM outbox WHERE event_type = $1",
        CentreShareChanged.event_type(),
    )
    assert share_events == 1  # the approval's, none for the programme's version


async def test_a_rate_of_an_eligible_base_with_a_ceiling(parties: Parties) -> None:
    """Expenses: ateliers 30,000.00 + formation 6,000.00 + shared equipment 4,000.00
    (investment) + dotations 30,000.00 = 70,000.00. FEDER: 50 % of the operating costs of the
    axes ateliers and formation (36,000.00) = 18,000.00, capped at 12,000.00; FEDER investment:
    80 % of the investments, 3,200.00. Grants 15,000.00 + 12,000.00 + 3,200.00 = 30,200.00;
    reste à charge 39,800.00. The 20 % rule: the Region's 15,000.00 spread over the 70,000.00
    gives the equipment 15,000 × 4,000 / 70,000 = 857.14…; with FEDER's 3,200.00 the owner keeps
    4,000.00 − 4,057.14 < 0: the rule does not hold."""
    funders = [
        {"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"},
        {
            "name": "FEDER",
            "rate": "0.5",
            "ceiling": "12000.00",
            "base": {"natures": ["fonctionnement"], "axes": ["ateliers", "formation"]},
        },
        {"name": "FEDER investissement", "rate": "0.8", "base": {"natures": ["investissement"]}},
    ]
    response = await parties.configure(budget_body(funders=funders))
    assert response.status_code == 200, response.text
    await parties.registry.publish([membership(MembershipApproved, centre(), "pending", "member")])
    totals = {"ateliers": "30000.00", "formation": "6000.00", "materiel_partage": "4000.00"}
    await parties.programme.publish([programme_validated(YEAR, 1, totals)])

    async def both_in() -> dict[str, Any] | None:
        budget = await budget_of(parties.client, YEAR)
        plan = budget["financing_plan"]
        done = plan["programme"] is not None and budget["member_count"] == 1
        return budget if done else None

    budget = await wait_until(both_in, message="the member and the programme in the plan")
    plan = budget["financing_plan"]
    assert [(f["name"], f["amount"]) for f in plan["funders"]] == [
        ("Région Hauts-de-France (CRNT)", "15000.00"),
        ("FEDER", "12000.00"),
        ("FEDER investissement", "3200.00"),
    ]
    assert (plan["expenses"], plan["grants"], plan["reste_a_charge"]) == (
        "70000.00",
        "30200.00",
        "39800.00",
    )
    assert plan["investment_rule"]["holds"] is False
    assert plan["investment_rule"]["owner_share"] == "0.00"


async def test_an_older_version_arriving_late_does_not_override_a_newer_one(
    parties: Parties, database_url: str
) -> None:
    """No member: no dotation; 27,000.00 of actions − 15,000.00 = 12,000.00 to pay and nobody
    to pay it would wait, so the Region gives 40,000.00 here: over-funded, nothing to pay."""
    body = budget_body(funders=[{"name": "Région", "amount": "40000.00"}])
    response = await parties.configure(body)
    assert response.status_code == 200, response.text
    newer = programme_validated(YEAR, 2, {"ateliers": "27000.00"})
    older = programme_validated(YEAR, 1, {"ateliers": "50000.00"})
    newer_again = programme_validated(YEAR, 2, {"ateliers": "1.00"})  # another copy of v2
    await parties.programme.publish([newer, older, newer_again])

    async def all_handled() -> bool:
        return await handled_validations(database_url) == 3

    await wait_until(all_handled, message="the three validations in the inbox")
    budget = await plan_of_programme(parties.client, 2)
    plan = budget["financing_plan"]
    assert (plan["status"], plan["surplus"]) == ("over_funded", "13000.00")
    assert plan["planned_expenses"]["ateliers"] == "27000.00"
    listed = (await budget_of(parties.client, YEAR, "/versions"))["items"]
    assert [(v["version"], v["financing_status"]) for v in listed] == [
        (1, "awaiting_programme"),
        (2, "over_funded"),
    ]
    assert budget["cause"]["events"] == [
        {"id": str(newer.id), "type": VALIDATED, "subject": str(YEAR)}
    ]

    await parties.programme.publish([programme_validated(YEAR, 3, {"ateliers": "20000.00"})])
    budget = await plan_of_programme(parties.client, 3)
    assert (budget["version"], budget["financing_plan"]["surplus"]) == (3, "20000.00")


async def test_a_validation_before_the_budget_exists_is_applied_when_it_is_configured(
    parties: Parties, published: Published, database_url: str
) -> None:
    await parties.registry.publish([membership(MembershipApproved, centre(), "pending", "member")])
    await parties.programme.publish(
        [
            programme_validated(YEAR, 1, {"communication": "1000.00"}),
            programme_validated(YEAR, 2, TOTALS),
        ]
    )

    async def both_handled() -> bool:
        return await handled_validations(database_url) == 2

    await wait_until(both_handled, message="the two validations in the inbox")
    assert (await parties.client.get(f"{API}/budgets/{YEAR}")).status_code == 404

    async def member_known() -> bool:
        return bool(await fetchval(database_url, "SELECT count(*) FROM memberships"))

    await wait_until(member_known, message="the approval in the budget's read model")
    response = await parties.configure(budget_body())
    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget["version"] == 1
    plan = budget["financing_plan"]
    # 32,000.00 + 30,000.00 of dotations − 15,000.00.
    assert (plan["status"], plan["expenses"], plan["reste_a_charge"]) == (
        "balanced",
        "62000.00",
        "47000.00",
    )
    assert plan["programme"]["version"] == 2
    assert plan["planned_expenses"] == TOTALS

    async def summary_out() -> bool:
        return bool(published.of(SharesRecalculated))

    await wait_until(summary_out, message="the summary of the first version")
    first = published.of(SharesRecalculated)[0]
    assert (first.data.version, first.data.financing.reste_a_charge) == (1, "47000.00")


async def test_actual_costs_come_from_the_progress_reports(parties: Parties) -> None:
    """The workshops cost 4,250.50 so far: a new version shows it as their réalisé."""
    await parties.registry.publish([membership(MembershipApproved, centre(), "pending", "member")])
    response = await parties.configure(budget_body())
    assert response.status_code == 200, response.text
    validation = programme_validated(YEAR, 1, TOTALS)
    await parties.programme.publish([validation])
    await plan_of_programme(parties.client, 1)
    await parties.programme.publish([action_progressed(validation, "ateliers", "4250.50")])

    async def actual_in() -> dict[str, Any] | None:
        plan = (await budget_of(parties.client, YEAR))["financing_plan"]
        return plan if plan["by_axis"]["ateliers"]["actual"] == "4250.50" else None

    plan = await wait_until(actual_in, message="the actual cost in the plan")
    assert plan["actual_expenses"] == "4250.50"
    assert plan["reste_a_charge"] == "47000.00"  # asked on the estimates, not the actuals
