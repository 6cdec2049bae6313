"""The recalculator keeps a pace of share-change events, whatever the rate of approvals.

Every arrival moves every member's dotation, so each version publishes one
``centre.share.changed`` per member: without a pace, a steady stream of approvals at 5,000
members made notifications read 1,000 events a second and fall 41,000 behind on a loaded
machine (the fault suite). After a version that moved N dotations, the next waits
N / ``BUDGET_SHARE_EVENTS_PER_SECOND`` seconds. Driven by hand: the pause is a figure, not a
timing.
"""

import httpx
import pytest
from crnt_budget.consumers import subscriptions
from crnt_budget.settings import BudgetSettings
from crnt_budget.testing import API, YEAR, budget_body, centre, membership
from crnt_budget.workers import Recalculator
from crnt_shared.consumer import Bulk
from crnt_shared.contracts.registry import MembershipApproved
from fastapi import FastAPI

pytestmark = pytest.mark.integration
PACE = 10.0


@pytest.fixture
def settings(settings: BudgetSettings) -> BudgetSettings:
    return settings.model_copy(update={"recalculation_share_events_per_second": PACE})


async def approve(app: FastAPI, count: int) -> None:
    runtime = app.state.runtime
    registry, _ = subscriptions(runtime.settings, lambda: None)
    handler = registry.handlers[MembershipApproved]
    assert isinstance(handler, Bulk)  # a fetch's approvals taken together, as Kafka gives them
    async with runtime.unit_of_work() as uow:
        events = [
            membership(MembershipApproved, centre(), "pending", "member") for _ in range(count)
        ]
        await handler.handle(events, uow)
        await uow.commit()


async def test_the_pause_after_a_version_follows_the_shares_it_moved(
    app: FastAPI, client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    recalculator: Recalculator = app.state.recalculator
    await recalculator.stop()  # one call of run_pending is one round
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text

    await approve(app, 20)
    assert await recalculator.run_pending() == 1
    latest = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"][-1]
    assert latest["member_count"] == 20
    assert latest["changed_centres"] == 20
    assert recalculator.pause_seconds == pytest.approx(20 / PACE)

    await approve(app, 1)  # one arrival moves every member's dotation
    assert await recalculator.run_pending() == 1
    latest = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"][-1]
    assert latest["changed_centres"] == 21
    assert recalculator.pause_seconds == pytest.approx(21 / PACE)

    assert await recalculator.run_pending() == 0, "nothing pending: no version"
    assert recalculator.pause_seconds == 0
