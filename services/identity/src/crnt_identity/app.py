"""Wiring: identity's runtime, HTTP app, key keeper and error mapping, built from its settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib.resources import files

from crnt_shared.auth import Role
from crnt_shared.contracts.identity import IDENTITY_EVENTS
from crnt_shared.contracts.registry import PersonErased
from crnt_shared.db import MigrationSource
from crnt_shared.http import create_http_app, problem_response
from crnt_shared.runtime import ServiceRuntime, Subscription
from fastapi import FastAPI, Request, Response

from crnt_identity import erasure, handlers
from crnt_identity.api import build_router
from crnt_identity.domain import LinkNotValid, RuleViolation, SessionEnded
from crnt_identity.keys import Vault
from crnt_identity.mailer import SignInMailer
from crnt_identity.settings import IdentitySettings
from crnt_identity.workers import KeyKeeper, key_policy

SERVICE = "identity"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_identity") / "migrations")


def create_app(settings: IdentitySettings) -> FastAPI:
    runtime = ServiceRuntime(
        service=SERVICE,
        settings=settings,
        migrations=MIGRATIONS,
        subscriptions=[
            Subscription(
                settings.consumer_group,
                [settings.registry_topic],
                {**handlers.REGISTRY_HANDLERS, PersonErased: erasure.on_person_erased},
            )
        ],
        published=IDENTITY_EVENTS,
        identity_events=False,
    )
    policy = handlers.TokenPolicy(
        vault=Vault(settings.key_passphrase.get_secret_value()),
        access_token_seconds=settings.access_token_seconds,
        session_lifetime=timedelta(hours=settings.session_hours),
    )
    mailer = SignInMailer(settings)
    keeper = KeyKeeper(runtime, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            async with runtime.unit_of_work() as uow:
                await handlers.maintain_keys(key_policy(settings, announce_all=True), uow)
            seeds: dict[str, frozenset[Role]] = {}
            for role, emails in (
                (Role.AGENCY, settings.agency_emails),
                (Role.COPIL, settings.copil_emails),
            ):
                for email in emails:
                    seeds[email] = seeds.get(email, frozenset()) | {role}
            async with runtime.unit_of_work() as uow:
                await handlers.seed_people(handlers.SeedPeople(seeds), uow)
            keeper.start()
            try:
                yield
            finally:
                await keeper.stop()
                await mailer.stop()

    app = create_http_app(
        service=SERVICE,
        title="crnt identity",
        description=(
            "Who is who in the network: agency staff and COPIL members, the animators of member"
            " centres (from the registry's events); sign-in by a link mailed to the person"
            " (single use, 15 minutes); short-lived access tokens signed EdDSA that every"
            " service verifies locally with the keys published at /keys and on Kafka."
        ),
        lifespan=lifespan,
        routers=[build_router(runtime, settings, policy, mailer)],
        readiness_checks=runtime.readiness_checks,
        max_body_bytes=settings.max_body_bytes,
        asyncapi=runtime.asyncapi,
    )

    async def on_link_not_valid(request: Request, exc: Exception) -> Response:
        return problem_response(400, "Invalid link", f"{exc}.", request)

    async def on_session_ended(request: Request, exc: Exception) -> Response:
        return problem_response(401, "Unauthorized", f"{exc}.", request)

    async def on_rule_violation(request: Request, exc: Exception) -> Response:
        return problem_response(409, "Conflict", f"{exc}.", request)

    app.add_exception_handler(LinkNotValid, on_link_not_valid)
    app.add_exception_handler(SessionEnded, on_session_ended)
    app.add_exception_handler(RuleViolation, on_rule_violation)
    app.state.runtime = runtime
    return app
