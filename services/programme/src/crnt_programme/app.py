"""Wiring: the programme's runtime and HTTP app, built from its settings."""

from importlib.resources import files

from crnt_shared.contracts.programme import PROGRAMME_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.runtime import ServiceRuntime
from fastapi import FastAPI

from crnt_programme.api import ROUTERS
from crnt_programme.consumers import subscriptions
from crnt_programme.repository import Repository
from crnt_programme.settings import ProgrammeSettings

SERVICE = "programme"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_programme") / "migrations")


def create_app(settings: ProgrammeSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service=SERVICE,
        settings=settings,
        repository=Repository,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(settings),
        published=PROGRAMME_EVENTS,
    )
    return runtime.http_app(
        title="crnt programme",
        description=(
            "The yearly work programme of the network: actions on five axes (communication,"
            " ateliers, évènements, formation, matériel partagé), led and run by member centres;"
            " draft → submitted → validated by the steering committee (COPIL), then amending →"
            " submitted → validated again, each validation an immutable version; actions"
            " proposed → planned → in_progress → done, or cancelled; their état d'avancement."
        ),
        routers=ROUTERS,
    )
