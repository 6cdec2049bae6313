"""The recalculator computes each dirty year once per wake-up.

Regression: it used to loop until no year was dirty. During a burst, the approvals handled while
a computation held the lock were pending again as soon as it committed, so the loop computed
again at once for them, and again: each computation absorbed about one event (3,326
recalculations for 5,000 approvals). Once per wake-up, what arrives meanwhile waits for the next
wake-up and its quiet time, and is absorbed together.

Whether the loop catches those commits depends on a race (its next look against the commits of
the handlers that waited for the lock), so a burst through Kafka does not reliably show the bug
(here, 1,000 approvals gave one version either way). The test drives the recalculator by hand
and makes the race deterministic instead: the approvals handled during a computation commit
with it.
"""

import httpx
import pytest
from crnt_budget import workers as recalculator_module
from crnt_budget.consumers import subscriptions
from crnt_budget.handlers import Outcome, recalculate_dirty_year
from crnt_budget.testing import API, YEAR, budget_body, centre, fetchval, membership
from crnt_budget.workers import Recalculator
from crnt_shared.consumer import Bulk
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.db import UnitOfWork
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def test_events_arriving_during_a_computation_wait_for_the_next_wake_up(
    app: FastAPI,
    client: httpx.AsyncClient,
    agency: dict[str, str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recalculator: Recalculator = app.state.recalculator
    await recalculator.stop()  # driven by hand below: one call of run_pending is one wake-up
    runtime = app.state.runtime
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    wakes: list[None] = []
    registry, _ = subscriptions(app.state.runtime.settings, lambda: wakes.append(None))
    handler = registry.handlers[MembershipApproved]
    assert isinstance(handler, Bulk)

    async def approve(uow: UnitOfWork) -> None:
        await handler.handle([membership(MembershipApproved, centre(), "pending", "member")], uow)

    async with runtime.unit_of_work() as uow:
        await approve(uow)
        await uow.commit()

    computations = 0
    real = recalculate_dirty_year

    async def busy(uow: UnitOfWork, year: int, publish_topic: str) -> Outcome | None:
        """The real computation, during which ten approvals are handled, three times over.

        Their handlers wait for the computation's lock and commit just after it; here they
        commit with it, so that their causes are pending the moment it ends, every time.
        """
        nonlocal computations
        computations += 1
        done = await real(uow, year, publish_topic)
        if computations <= 3:
            for _ in range(10):
                await approve(uow)
        return done

    monkeypatch.setattr(recalculator_module, "recalculate_dirty_year", busy)

    assert await recalculator.run_pending() == 1, "a wake-up computes each dirty year once"
    assert computations == 1
    assert await fetchval(database_url, "SELECT count(*) FROM pending_causes") == 10
    assert wakes, "the approvals that arrived woke the recalculator for its next round"

    assert await recalculator.run_pending() == 1
    assert await recalculator.run_pending() == 1
    assert await recalculator.run_pending() == 1
    assert await recalculator.run_pending() == 0
    versions = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"]
    assert [v["cause"]["event_count"] for v in versions] == [0, 1, 10, 10, 10]
    assert [v["member_count"] for v in versions] == [0, 1, 11, 21, 31]
    assert recalculator.runs == 4
