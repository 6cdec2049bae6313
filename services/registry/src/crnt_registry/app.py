"""Wiring: the registry's runtime, HTTP app, built from its settings."""

from fastapi import FastAPI

from crnt_registry.api import ROUTERS
from crnt_registry.runtime import RegistryRuntime
from crnt_registry.settings import RegistrySettings


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = RegistryRuntime(settings)
    return runtime.http_app(
        title="crnt registry",
        description=(
            "The member registry of the network: centres (in the national standard"
            " standard-mediation-num), their animators, the EPCIs, and the membership lifecycle"
            " pending → member | rejected, member ⇄ suspended, member | suspended → withdrawn."
        ),
        routers=ROUTERS,
    )
