"""Wiring: the programme's runtime and HTTP app, built from its settings."""

from crnt_shared.contracts.programme import PROGRAMME_EVENTS
from crnt_shared.runtime import ServiceDefinition, ServiceRuntime
from fastapi import FastAPI

from crnt_programme.api import ROUTERS
from crnt_programme.consumers import subscriptions
from crnt_programme.repository import Repository
from crnt_programme.settings import ProgrammeSettings

PROGRAMME = ServiceDefinition("programme", Repository, PROGRAMME_EVENTS)


def create_app(settings: ProgrammeSettings) -> FastAPI:
    runtime = ServiceRuntime(PROGRAMME, settings=settings, subscriptions=subscriptions(settings))
    return runtime.http_app(routers=ROUTERS)
