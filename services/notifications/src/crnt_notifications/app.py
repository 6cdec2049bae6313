"""Wiring: the notifications service's runtime and HTTP app, built from its settings."""

from fastapi import FastAPI

from crnt_notifications.api import ROUTERS
from crnt_notifications.runtime import NotificationsRuntime
from crnt_notifications.settings import NotificationsSettings


def create_app(settings: NotificationsSettings) -> FastAPI:
    runtime = NotificationsRuntime(settings)
    return runtime.http_app(
        title="crnt notifications",
        description=(
            "Who hears what, by email: the recipients read model (from the registry's events),"
            " the French templates, the deliveries (one per event, recipient and kind; retried"
            " with backoff; coalesced within a window for share changes and new members), and"
            " each person's preferences."
        ),
        routers=ROUTERS,
    )
