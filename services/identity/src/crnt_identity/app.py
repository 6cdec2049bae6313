"""Wiring: identity's runtime, HTTP app, key keeper and error mapping, built from its settings."""

import functools
from datetime import timedelta

from crnt_shared.contracts.identity import IDENTITY_EVENTS
from crnt_shared.http import problem_response
from crnt_shared.runtime import ServiceDefinition, ServiceRuntime
from fastapi import FastAPI, Request, Response

from crnt_identity import handlers
from crnt_identity.api import build_router
from crnt_identity.consumers import subscriptions
from crnt_identity.domain import LinkNotValid, SessionEnded
from crnt_identity.keys import Vault
from crnt_identity.mailer import SignInMailer
from crnt_identity.repository import IdentityRepository, Repository
from crnt_identity.settings import IdentitySettings
from crnt_identity.workers import KeyKeeper, prepare

IDENTITY: ServiceDefinition[IdentityRepository] = ServiceDefinition(
    "identity", Repository, IDENTITY_EVENTS, identity_events=False
)


def create_app(settings: IdentitySettings) -> FastAPI:
    runtime: ServiceRuntime[IdentityRepository] = ServiceRuntime(
        IDENTITY, settings=settings, subscriptions=subscriptions(settings)
    )
    policy = handlers.TokenPolicy(
        vault=Vault(settings.key_passphrase.get_secret_value()),
        access_token_seconds=settings.access_token_seconds,
        session_lifetime=timedelta(hours=settings.session_hours),
    )
    mailer = SignInMailer(settings)
    runtime.on_start.append(functools.partial(prepare, runtime, settings))
    runtime.add_worker(KeyKeeper(runtime, settings))
    runtime.on_stop.append(mailer.stop)
    app = runtime.http_app(routers=[build_router(runtime, settings, policy, mailer)])

    async def on_link_not_valid(request: Request, exc: Exception) -> Response:
        return problem_response(400, "Invalid link", f"{exc}.", request)

    async def on_session_ended(request: Request, exc: Exception) -> Response:
        return problem_response(401, "Unauthorized", f"{exc}.", request)

    app.add_exception_handler(LinkNotValid, on_link_not_valid)
    app.add_exception_handler(SessionEnded, on_session_ended)
    return app
