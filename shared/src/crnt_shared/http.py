"""The HTTP side every service shares: app factory, RFC 9457 problems, request ids (who makes a
request: :mod:`crnt_shared.auth`)."""

import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crnt_shared import errors
from crnt_shared.asyncapi_page import asyncapi_router
from crnt_shared.context import set_correlation_id
from crnt_shared.errors import DomainError
from crnt_shared.metrics import HTTP_LATENCY
from crnt_shared.problems import API_PREFIX as API_PREFIX
from crnt_shared.problems import PROBLEM_JSON as PROBLEM_JSON
from crnt_shared.problems import document_problems
from crnt_shared.ratelimit import TooManyRequests
from crnt_shared.transient import is_transient

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


#: A refusal does not echo the path: it can name a person (``/preferences/<address>``), and a
#: refusal tells nothing about anyone.
REFUSALS = frozenset({401, 403})

#: What a 503 asks a client to wait before it retries (the database restarting, a failover).
UNAVAILABLE_RETRY_SECONDS = 5

#: The members :func:`problem_response` writes itself: RFC 9457's, and the request id.
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "request_id"})


class Problem(Exception):
    """An error a client can act on, rendered as ``application/problem+json``.

    ``status``, ``title`` and ``detail`` are positional-only, so that any name (``status``
    included) can be an extension member in ``extra``; see :func:`problem_response` for what
    becomes of an extension member named like a standard one.
    """

    def __init__(self, status: int, title: str, detail: str, /, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


class NotFound(Problem):
    def __init__(self, detail: str, /) -> None:
        super().__init__(404, "Not found", detail)


class Conflict(Problem):
    def __init__(self, detail: str, /, **extra: Any) -> None:
        super().__init__(409, "Conflict", detail, **extra)


class Unprocessable(Problem):
    def __init__(self, detail: str, /, **extra: Any) -> None:
        super().__init__(422, "Invalid input", detail, **extra)


#: The status and title of each domain error (:mod:`crnt_shared.errors`), the first that matches.
DOMAIN_STATUSES: tuple[tuple[type[DomainError], int, str], ...] = (
    (errors.NotFound, 404, "Not found"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.Invalid, 422, "Invalid input"),
    (errors.Conflict, 409, "Conflict"),
    (errors.RuleViolation, 409, "Conflict"),
)


def _domain_status(error: DomainError) -> tuple[int, str]:
    for kind, status, title in DOMAIN_STATUSES:
        if isinstance(error, kind):
            return status, title
    return 409, "Conflict"


def problem_response(
    status: int, title: str, detail: str, request: Request | None = None, /, **extra: Any
) -> JSONResponse:
    """An RFC 9457 problem: ``type``, ``title``, ``status``, ``detail``, ``instance`` and the
    request id, then the extension members of ``extra``.

    An extension member never replaces a standard member (:data:`RESERVED_MEMBERS`): a client
    must be able to trust ``status`` to be the HTTP status and ``detail`` to be the sentence.
    Such a member is dropped (and logged: it is a mistake of the code that raised the problem);
    name it for what it is instead, e.g. ``current_status``.
    """
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if request is not None:
        if status not in REFUSALS:
            body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    clashing = sorted(RESERVED_MEMBERS.intersection(extra))
    if clashing:
        log.warning("problem extension members dropped: they name standard members", names=clashing)
    body.update((name, value) for name, value in extra.items() if name not in RESERVED_MEMBERS)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_detail(errors: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        fields.append({"field": ".".join(location) or "body", "message": message})
    sentence = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:10])
    return f"The request is not valid. {sentence}.", fields


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.title, exc.detail, request, **exc.extra)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Not allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no resource at {request.url.path}: check the path."
        return problem_response(
            exc.status_code, title.get(exc.status_code, "Error"), detail, request
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail, fields = _validation_detail(exc.errors())
        return problem_response(422, "Invalid input", detail, request, errors=fields)

    async def on_unstorable(request: Request, exc: Exception) -> Response:
        detail = unstorable_detail(exc)
        if detail is None:
            return await on_error(request, exc)
        return problem_response(422, "Invalid input", detail, request)

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        status, title = _domain_status(exc)
        return problem_response(status, title, exc.detail, request, **exc.details)

    async def on_too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyRequests)
        response = problem_response(
            429, "Too many requests", exc.detail, request, retry_after=exc.retry_after
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        if not is_transient(exc):
            return await on_error(request, exc)
        log.warning("a dependency is unavailable", path=request.url.path, error=repr(exc))
        response = problem_response(
            503,
            "Service unavailable",
            "The service cannot reach its database at the moment: retry in"
            f" {UNAVAILABLE_RETRY_SECONDS} s (a write that failed before its commit changed"
            " nothing).",
            request,
        )
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            500,
            "Internal error",
            "Something went wrong on our side; nothing was changed by this request if it "
            "failed before its commit. Retry later, and quote the request id if it persists.",
            request,
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(asyncpg.DataError, on_unstorable)
    app.add_exception_handler(TooManyRequests, on_too_many)
    # The database or the network unreachable for a while (the most specific handler wins:
    # a DataError is the client's, above).
    for unavailable in (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ):
        app.add_exception_handler(unavailable, on_unavailable)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(Exception, on_error)


_NUL = (
    "A text of the request contains the NUL character (U+0000), which cannot be stored: "
    "remove it and send the request again."
)
_TOO_LARGE = (
    "A number of the request is too large to be stored (integers go from "
    f"{-(2**63)} to {2**63 - 1}, counts and versions up to {2**31 - 1}): send a smaller one."
)


def unstorable_detail(error: Exception) -> str | None:
    """The sentence for a value the database refuses to store, whatever the route, or None
    for any other data error (ours: a 500).

    PostgreSQL's text and jsonb cannot hold U+0000, and its integers have a range: such a
    value is the client's to fix (422), not a failure of ours.
    """
    sqlstate = getattr(error, "sqlstate", None)
    # An argument asyncpg cannot encode (its cause an OverflowError), or the server's refusal.
    if isinstance(error.__cause__, OverflowError) or sqlstate == "22003":
        return _TOO_LARGE
    if sqlstate in {"22021", "22P05"}:  # character_not_in_repertoire, untranslatable_character
        return _NUL
    return None


def client_address(request: Request, trusted_proxies: Collection[str] = ()) -> str:
    """The address of the client, for rate limits: the peer's, unless the peer is a trusted
    proxy (the web front end, a load balancer), whose ``X-Forwarded-For`` then names it: the
    right-most address there that is not itself a trusted proxy (the left part of the header
    is the client's to write, so it is never believed)."""
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if address not in trusted_proxies:
            return address
    return peer


class RequestContextMiddleware:
    """Request id and correlation id on every request, response and log line; body limit;
    latency histogram."""

    def __init__(self, app: ASGIApp, *, service: str, max_body_bytes: int) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _identifying_headers(scope["headers"])
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        correlation_id = headers.get("x-correlation-id") or request_id
        scope.setdefault("state", {})["request_id"] = request_id
        set_correlation_id(correlation_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        status = 500
        started = time.perf_counter()

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_ids)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send)
            status = 413
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_LATENCY.labels(self.service, scope["method"], path, str(status)).observe(
                time.perf_counter() - started
            )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Request too large",
            f"The request body is larger than {self.max_body_bytes} bytes: send less at once.",
        )
        await response(scope, receive, send)


_IDENTIFYING = frozenset({b"x-request-id", b"x-correlation-id", b"content-length"})


def _identifying_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers this middleware reads, kept only when they are printable ASCII: a header
    is bytes, and a client may send any (a request id it sent that way is replaced)."""
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.lower()
        if name in _IDENTIFYING and value.isascii() and value.decode().isprintable():
            headers[name.decode()] = value.decode()[:128]
    return headers


class _BodyTooLarge(Exception):
    pass


def create_http_app(
    *,
    service: str,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    readiness_checks: Callable[[FastAPI], Mapping[str, ReadinessCheck]],
    max_body_bytes: int,
    asyncapi: Callable[[], dict[str, Any]] | None = None,
) -> FastAPI:
    """A FastAPI app with the project's conventions; routers are mounted under ``/api/v1``,
    with the AsyncAPI document of the service's events (``asyncapi``) and its page, which
    the OpenAPI document links to."""
    if asyncapi is not None:
        page = f"{API_PREFIX}/asyncapi"
        description += (
            f"\n\nThe events it publishes and consumes on Kafka: [{page}]({page}) (a page to"
            f" read) and [{page}.json]({page}.json) (AsyncAPI 3.0)."
        )
        routers = [*routers, asyncapi_router(service, asyncapi)]
    app = FastAPI(title=title, description=description, lifespan=lifespan, version="1.0.0")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = [
                (f"{API_PREFIX}{route.path_format}", route)
                for router in routers
                for route in router.routes
                if isinstance(route, APIRoute)
            ]
            routes += [(r.path_format, r) for r in app.routes if isinstance(r, APIRoute)]
            document = document_problems(FastAPI.openapi(app), routes)
            if asyncapi is not None:
                document["externalDocs"] = {
                    "description": "The events of the service (AsyncAPI)",
                    "url": f"{API_PREFIX}/asyncapi",
                }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=service, max_body_bytes=max_body_bytes)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    readiness = {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not ready"]},
            "checks": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }

    @app.get(
        "/ready",
        tags=["operations"],
        summary="Readiness: database and Kafka reachable",
        response_class=JSONResponse,
        responses={
            200: {"content": {"application/json": {"schema": readiness}}},
            503: {
                "description": "A dependency is unavailable",
                "content": {"application/json": {"schema": readiness}},
            },
        },
    )
    async def ready() -> Response:
        results: dict[str, str] = {}
        for name, check in readiness_checks(app).items():
            try:
                await check()
                results[name] = "ok"
            except Exception as error:
                results[name] = f"unavailable: {error}"
        ok = all(value == "ok" for value in results.values())
        body = {"status": "ready" if ok else "not ready", "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
