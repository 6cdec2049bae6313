"""Wiring: the budget's runtime, consumers, recalculator and HTTP app, built from its settings."""

from importlib.resources import files

from crnt_shared.contracts.budget import BUDGET_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.runtime import ServiceRuntime
from fastapi import FastAPI

from crnt_budget.api import build_router
from crnt_budget.consumers import subscriptions
from crnt_budget.repository import BudgetRepository, Repository
from crnt_budget.settings import BudgetSettings
from crnt_budget.workers import Recalculator

SERVICE = "budget"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_budget") / "migrations")


def create_app(settings: BudgetSettings) -> FastAPI:
    recalculator: Recalculator | None = None

    def wake() -> None:
        if recalculator is not None:
            recalculator.wake()

    runtime: ServiceRuntime[BudgetRepository] = ServiceRuntime(
        service=SERVICE,
        settings=settings,
        repository=Repository,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(settings, wake),
        published=BUDGET_EVENTS,
    )
    recalculator = Recalculator(runtime, settings)
    runtime.add_worker(recalculator)
    app = runtime.http_app(
        title="crnt budget",
        description=(
            "The yearly budget of the network: the financing plan (the programme's actions,"
            " the network's lines and the centres' dotations against the grants), the reste à"
            " charge each EPCI owes against what its council voted, every version, recalculated"
            " on each membership change, validation and progress report of the programme, and"
            " the budget annex (ODS, XLSX, PDF) of any version."
        ),
        routers=[build_router(runtime, settings)],
    )
    app.state.recalculator = recalculator
    return app
