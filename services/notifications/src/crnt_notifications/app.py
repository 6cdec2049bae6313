"""Wiring: the notifications service's runtime and HTTP app, built from its settings."""

from fastapi import FastAPI

from crnt_notifications.api import ROUTERS
from crnt_notifications.runtime import NotificationsRuntime
from crnt_notifications.settings import NotificationsSettings


def create_app(settings: NotificationsSettings) -> FastAPI:
    runtime = NotificationsRuntime(settings)
    return runtime.http_app(routers=ROUTERS)
