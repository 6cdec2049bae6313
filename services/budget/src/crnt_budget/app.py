"""Wiring: the budget's runtime, consumers, recalculator and HTTP app, built from its settings."""

from crnt_shared.contracts.budget import BUDGET_EVENTS
from crnt_shared.runtime import ServiceDefinition, ServiceRuntime
from fastapi import FastAPI

from crnt_budget.api import build_router
from crnt_budget.consumers import subscriptions
from crnt_budget.repository import BudgetRepository, Repository
from crnt_budget.settings import BudgetSettings
from crnt_budget.workers import Recalculator

BUDGET: ServiceDefinition[BudgetRepository] = ServiceDefinition("budget", Repository, BUDGET_EVENTS)
MIGRATIONS = BUDGET.migrations


def create_app(settings: BudgetSettings) -> FastAPI:
    recalculator: Recalculator | None = None

    def wake() -> None:
        if recalculator is not None:
            recalculator.wake()

    runtime: ServiceRuntime[BudgetRepository] = ServiceRuntime(
        BUDGET, settings=settings, subscriptions=subscriptions(settings, wake)
    )
    recalculator = Recalculator(runtime, settings)
    runtime.add_worker(recalculator)
    app = runtime.http_app(routers=[build_router(runtime, settings)])
    app.state.recalculator = recalculator
    return app
