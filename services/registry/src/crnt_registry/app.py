"""Wiring: the registry's runtime, HTTP app and error mapping, built from its settings."""

from importlib.resources import files

from crnt_shared.contracts.registry import REGISTRY_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.http import create_http_app, problem_response
from crnt_shared.runtime import ServiceRuntime
from fastapi import FastAPI, Request, Response

from crnt_registry.api import build_router
from crnt_registry.domain import RuleViolation
from crnt_registry.settings import RegistrySettings

SERVICE = "registry"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_registry") / "migrations")


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = ServiceRuntime(
        service=SERVICE, settings=settings, migrations=MIGRATIONS, published=REGISTRY_EVENTS
    )
    app = create_http_app(
        service=SERVICE,
        title="crnt registry",
        description=(
            "The member registry of the network: centres (in the national standard"
            " standard-mediation-num), their animators, the EPCIs, and the membership lifecycle"
            " pending → member | rejected, member ⇄ suspended, member | suspended → withdrawn."
        ),
        lifespan=runtime.lifespan,
        routers=[build_router(runtime, settings)],
        readiness_checks=runtime.readiness_checks,
        max_body_bytes=settings.max_body_bytes,
    )

    async def on_rule_violation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RuleViolation)
        return problem_response(409, "Conflict", f"{exc}.", request, **exc.details)

    app.add_exception_handler(RuleViolation, on_rule_violation)
    app.state.runtime = runtime
    return app
