"""Wiring: the budget's runtime, consumers, recalculator and HTTP app, built from its settings.

Two consumer groups: ``budget`` reads the registry's topic, ``budget-programme`` the programme's
(``BUDGET_CONSUMER_GROUP`` and ``BUDGET_PROGRAMME_CONSUMER_GROUP``).
Apart, each progresses at its own pace (a burst of approvals does not hold a programme
validation back, a failing validation does not hold the memberships back) and has its own lag;
both wake the same recalculator.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from crnt_shared.contracts.budget import BUDGET_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.http import create_http_app
from crnt_shared.runtime import ServiceRuntime, Subscription
from fastapi import FastAPI

from crnt_budget.api import build_router
from crnt_budget.handlers import event_handlers, programme_handlers
from crnt_budget.recalculator import Recalculator
from crnt_budget.settings import BudgetSettings

SERVICE = "budget"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_budget") / "migrations")


def create_app(settings: BudgetSettings) -> FastAPI:
    recalculator: Recalculator | None = None

    def wake() -> None:
        if recalculator is not None:
            recalculator.wake()

    runtime = ServiceRuntime(
        service=SERVICE,
        settings=settings,
        migrations=MIGRATIONS,
        subscriptions=[
            Subscription(settings.consumer_group, [settings.registry_topic], event_handlers(wake)),
            Subscription(
                settings.programme_consumer_group,
                [settings.programme_topic],
                programme_handlers(wake),
            ),
        ],
        published=BUDGET_EVENTS,
    )
    recalculator = Recalculator(
        runtime,
        publish_topic=settings.publish_topic,
        debounce_seconds=settings.recalculation_debounce_seconds,
        max_delay_seconds=settings.recalculation_max_delay_seconds,
        poll_seconds=settings.recalculation_poll_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            recalculator.start()
            try:
                yield
            finally:
                await recalculator.stop()

    app = create_http_app(
        service=SERVICE,
        title="crnt budget",
        description=(
            "The yearly budget of the network: the financing plan (the programme's actions,"
            " the network's lines and the centres' dotations against the grants), the reste à"
            " charge each EPCI owes against what its council voted, every version, recalculated"
            " on each membership change, validation and progress report of the programme, and"
            " the budget annex (ODS, XLSX, PDF) of any version."
        ),
        lifespan=lifespan,
        routers=[build_router(runtime, settings)],
        readiness_checks=runtime.readiness_checks,
        max_body_bytes=settings.max_body_bytes,
        asyncapi=runtime.asyncapi,
    )
    app.state.runtime = runtime
    app.state.recalculator = recalculator
    return app
