"""Wiring: the notifications service's runtime and HTTP app, built from its settings."""

from crnt_shared.http import create_http_app
from fastapi import FastAPI

from crnt_notifications.api import build_router
from crnt_notifications.runtime import SERVICE, NotificationsRuntime
from crnt_notifications.settings import NotificationsSettings


def create_app(settings: NotificationsSettings) -> FastAPI:
    runtime = NotificationsRuntime(settings)
    app = create_http_app(
        service=SERVICE,
        title="crnt notifications",
        description=(
            "Who hears what, by email: the recipients read model (from the registry's events),"
            " the French templates, the deliveries (one per event, recipient and kind; retried"
            " with backoff; coalesced within a window for share changes and new members), and"
            " each person's preferences."
        ),
        lifespan=runtime.lifespan,
        routers=[build_router(runtime, settings, runtime.links, runtime.confirmations)],
        readiness_checks=runtime.readiness_checks,
        max_body_bytes=settings.max_body_bytes,
        asyncapi=runtime.asyncapi,
    )
    app.state.runtime = runtime
    return app
