"""Wiring: the registry's runtime, HTTP app and error mapping, built from its settings."""

from crnt_shared.http import create_http_app
from fastapi import FastAPI

from crnt_registry.api import build_router
from crnt_registry.runtime import SERVICE, RegistryRuntime
from crnt_registry.settings import RegistrySettings


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = RegistryRuntime(settings)
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
    app.state.runtime = runtime
    return app
