"""A service's HTTP app with a few routes of a test's own and no I/O, and a client for it: how
the shared HTTP mechanics (problems, tracing, auth) are tested without a service."""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import httpx
from crnt_shared.http import ReadinessCheck, create_http_app
from fastapi import APIRouter, FastAPI


@asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


def app_with(
    router: APIRouter,
    readiness_checks: Callable[[FastAPI], Mapping[str, ReadinessCheck]] = lambda _: {},
) -> FastAPI:
    return create_http_app(
        service="test",
        title="t",
        description="d",
        lifespan=_nothing,
        routers=[router],
        readiness_checks=readiness_checks,
        max_body_bytes=1000,
    )


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
