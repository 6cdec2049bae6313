"""Registry events on real Kafka change the shares in real PostgreSQL; the budget publishes."""

from typing import Any

import httpx
import pytest
from crnt_budget.testing import (
    API,
    CAPSO,
    CCPL,
    YEAR,
    DotationsFollower,
    Published,
    Registry,
    budget_body,
    budget_of,
    centre,
    centre_updated,
    epci_registered,
    fetchval,
    membership,
)
from crnt_shared.contracts.budget import CentreShareChanged, DotationsChanged, SharesRecalculated
from crnt_shared.contracts.registry import (
    MembershipApproved,
    MembershipReinstated,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.money import cents_from_amount
from crnt_shared.testing import wait_until
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def inbox_count(database_url: str) -> int:
    count: int = await fetchval(
        database_url, "SELECT count(*) FROM inbox WHERE event_type LIKE 'fr.crnt.registry.%'"
    )
    return count


async def shares(client: httpx.AsyncClient) -> dict[str, Any]:
    return await budget_of(client, YEAR, "/shares")


async def test_events_before_the_budget_are_kept_and_configuring_computes_at_once(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    published: Published,
    database_url: str,
) -> None:
    centres = [centre(workstations=2), centre(workstations=4), centre(workstations=6, epci=CCPL)]
    await registry.publish([epci_registered(CAPSO), epci_registered(CCPL)])
    await registry.publish(
        [membership(MembershipApproved, c, "pending", "member") for c in centres]
    )

    async def all_handled() -> bool:
        return await inbox_count(database_url) == 5

    """The dotations, 30,000.00, are the plan's only expense until the programme is validated;
    the Region gives 15,000.00: the reste à charge is 15,000.00, by population
    1,500,000 × 104,937 / 129,124 = 1,219,025.80… → 1,219,026 (the larger remainder takes the
    cent left) for CAPSO, 1,500,000 × 24,187 / 129,124 = 280,974.19… → 280,974 for CCPL."""
    await wait_until(all_handled, message="the five registry events in the inbox")
    assert (await client.get(f"{API}/budgets/{YEAR}")).status_code == 404

    body = budget_body(epci_key="population")
    response = await client.put(f"{API}/budgets/{YEAR}", json=body, headers=agency)
    assert response.status_code == 200, response.text
    budget = response.json()
    assert budget["version"] == 1
    assert budget["cause"]["kind"] == "manual"
    amounts = {c["centre_id"]: c["amount"] for c in budget["centres"]}
    # 15,000 equally (5,000 each) + 15,000 by 2/4/6 workstations.
    assert amounts == {
        str(centres[0].id): "7500.00",
        str(centres[1].id): "10000.00",
        str(centres[2].id): "12500.00",
    }
    epcis = {e["siren"]: e["amount"] for e in budget["epcis"]}
    assert epcis == {CAPSO[0]: "12190.26", CCPL[0]: "2809.74"}
    assert budget["financing_plan"]["reste_a_charge"] == "15000.00"
    assert budget["financing_plan"]["status"] == "awaiting_programme"

    async def events_out() -> bool:
        return bool(published.of(DotationsChanged)) and bool(published.of(SharesRecalculated))

    await wait_until(events_out, message="the summary and the dotations")
    summary = published.of(SharesRecalculated)[0]
    assert (summary.subject, summary.data.version, summary.data.member_count) == (str(YEAR), 1, 3)
    # A manual change is about no centre: no centre.share.changed; the first version lists
    # every member, and the classes give each its amount.
    [dotations] = published.of(DotationsChanged)
    assert {c.centre_id for c in dotations.data.changed} == {c.id for c in centres}
    follower = DotationsFollower()
    follower.take([dotations])
    assert {str(i): cents for i, cents in follower.amounts.items()} == {
        key: cents_from_amount(amount) for key, amount in amounts.items()
    }
    assert published.of(CentreShareChanged) == []
    assert {key for key, _ in published.records} == {str(YEAR)}


# A second of quiet, 60 s at most: on a loaded machine the burst trickles in slowly, and the
# bound below must not depend on how fast this machine handles it.
@pytest.mark.parametrize("recalculation_quiet", [(1.0, 60.0)])
async def test_a_burst_of_approvals_gives_few_recalculations_and_every_event_is_handled(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    published: Published,
    database_url: str,
    app: FastAPI,
) -> None:
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    burst = [centre(workstations=i % 7) for i in range(300)]
    await registry.publish([membership(MembershipApproved, c, "pending", "member") for c in burst])

    async def all_in() -> bool:
        body = await shares(client)
        members = [c for c in body["centres"] if c["member"]]
        return await inbox_count(database_url) == 300 and len(members) == 300

    await wait_until(all_in, timeout=60, message="300 approvals handled and in the shares")
    versions = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"]
    recalculations = versions[1:]
    assert 1 <= len(recalculations) <= 5, f"{len(recalculations)} recalculations for 300 events"
    assert sum(v["cause"]["event_count"] for v in recalculations) == 300
    assert app.state.recalculator.runs == len(recalculations)
    final = await shares(client)
    assert sum(cents_from_amount(c["amount"]) for c in final["centres"]) == 3_000_000
    # The reste à charge: the dotations 30,000.00 − the Region's 15,000.00.
    assert sum(cents_from_amount(e["amount"]) for e in final["epcis"]) == 1_500_000

    async def summaries_out() -> bool:
        return len(published.of(SharesRecalculated)) == len(versions)

    await wait_until(summaries_out, message="one summary per version")
    assert [e.data.version for e in published.of(SharesRecalculated)] == list(
        range(1, len(versions) + 1)
    )


async def test_suspension_reinstatement_update_and_withdrawal_move_the_shares(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    published: Published,
) -> None:
    first, second = centre(workstations=0), centre(workstations=0)
    body = budget_body(centre_key={"fixed_ratio": "0", "weight": "workstations"})
    assert (await client.put(f"{API}/budgets/{YEAR}", json=body, headers=agency)).status_code == 200
    await registry.publish(
        [membership(MembershipApproved, c, "pending", "member") for c in (first, second)]
    )

    async def amounts_are(expected: dict[str, str]) -> Any:
        async def check() -> bool:
            body = await shares(client)
            current = {c["centre_id"]: c["amount"] for c in body["centres"] if c["member"]}
            return current == expected

        return check

    a, b = str(first.id), str(second.id)
    await wait_until(await amounts_are({a: "15000.00", b: "15000.00"}), message="two members")

    await registry.publish([membership(MembershipSuspended, first, "member", "suspended")])
    await wait_until(await amounts_are({b: "30000.00"}), message="the suspended centre left")
    left = next(c for c in (await shares(client))["centres"] if c["centre_id"] == a)
    assert (left["member"], left["amount"], left["change"]) == (False, "0.00", "-15000.00")

    await registry.publish([membership(MembershipReinstated, first, "suspended", "member")])
    await wait_until(await amounts_are({a: "15000.00", b: "15000.00"}), message="reinstated")

    busier = first.model_copy(update={"workstations": 3})
    await registry.publish([centre_updated(busier, ["workstations"])])
    await wait_until(await amounts_are({a: "30000.00", b: "0.00"}), message="re-weighted")

    await registry.publish([membership(MembershipWithdrawn, busier, "member", "withdrawn")])
    await wait_until(await amounts_are({b: "30000.00"}), message="withdrawn")

    def caused_by_withdrawal() -> list[CentreShareChanged]:
        return [
            e
            for e in published.of(CentreShareChanged)
            if e.subject == a
            and MembershipWithdrawn.event_type() in [c.type for c in e.data.cause.events]
        ]

    async def left_event() -> bool:
        return bool(caused_by_withdrawal())

    await wait_until(left_event, message="a share-changed event for the withdrawn centre")
    [withdrawn] = caused_by_withdrawal()
    assert (withdrawn.data.member, withdrawn.data.amount) == (False, "0.00")
    assert withdrawn.data.cause.kind == "events"
    assert [c.type for c in withdrawn.data.cause.events] == [MembershipWithdrawn.event_type()]


async def test_a_redelivered_event_changes_nothing(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    database_url: str,
) -> None:
    assert (
        await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    ).status_code == 200
    approval = membership(MembershipApproved, centre(), "pending", "member")
    await registry.publish([approval])

    async def version_two() -> bool:
        body = await shares(client)
        return bool(body["version"] == 2)

    await wait_until(version_two, message="the approval's version")
    await registry.publish([approval, approval])
    marker = membership(MembershipApproved, centre(), "pending", "member")
    await registry.publish([marker])

    async def marker_handled() -> bool:
        return await inbox_count(database_url) == 2

    await wait_until(marker_handled, message="the marker after the duplicates")

    async def version_three() -> bool:
        return bool((await shares(client))["version"] == 3)

    await wait_until(version_three, message="the marker's version")
    versions = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"]
    assert [v["cause"]["event_count"] for v in versions] == [0, 1, 1]


async def test_a_second_put_is_a_revision_with_a_manual_cause(
    client: httpx.AsyncClient, agency: dict[str, str], registry: Registry
) -> None:
    await registry.publish([epci_registered(CAPSO)])
    first = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    second = await client.put(
        f"{API}/budgets/{YEAR}", json=budget_body(envelope="40000.00"), headers=agency
    )
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert second.json()["revision"] == 2
    assert second.json()["configuration"]["envelope"] == "40000.00"
    one = (await client.get(f"{API}/budgets/{YEAR}/versions/1")).json()
    assert one["configuration"]["envelope"] == "30000.00"
    listed = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"]
    assert [(v["version"], v["cause"]["kind"]) for v in listed] == [(1, "manual"), (2, "manual")]
