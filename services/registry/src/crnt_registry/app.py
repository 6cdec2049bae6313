"""Wiring: the registry's runtime, HTTP app, built from its settings."""

from fastapi import FastAPI

from crnt_registry.api import ROUTERS
from crnt_registry.runtime import RegistryRuntime
from crnt_registry.settings import RegistrySettings


def create_app(settings: RegistrySettings) -> FastAPI:
    runtime = RegistryRuntime(settings)
    return runtime.http_app(routers=ROUTERS)
