"""Wiring: the web's HTTP app, its session, its assets and its error pages."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog
from crnt_shared.http import RequestContextMiddleware
from crnt_shared.logging import configure_logging
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crnt_web.api import agency, animator, copil, public, sign_in
from crnt_web.backend import SERVICE_LABELS, ApiError, Backend, ServiceUnavailable
from crnt_web.pages import Pages
from crnt_web.session import CsrfFailure, RoleRequired, SignInRequired, current_person, verify_csrf
from crnt_web.settings import WebSettings

SERVICE = "web"
SESSION_COOKIE = "crnt_session"
MAX_BODY_BYTES = 5 * 1024 * 1024  # a CSV import of a few thousand places

log = structlog.get_logger(__name__)

ASSETS = {"dsfr": "@gouvfr/dsfr/dist", "htmx": "htmx.org/dist"}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def _assets(settings: WebSettings) -> dict[str, Path]:
    found = {name: settings.assets_dir / path for name, path in ASSETS.items()}
    missing = [str(path) for path in found.values() if not path.is_dir()]
    if missing:
        raise RuntimeError(
            f"the front-end assets are missing ({', '.join(missing)}): run `make install`"
            " (it runs `npm ci` at the repository root), or set WEB_ASSETS_DIR"
        )
    return found


def create_app(settings: WebSettings) -> FastAPI:
    configure_logging(SERVICE, settings.log_level, settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call is noise
    assets = _assets(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.api_timeout_seconds) as client:
            app.state.backend = Backend(
                {
                    "registry": str(settings.registry_url),
                    "programme": str(settings.programme_url),
                    "budget": str(settings.budget_url),
                    "notifications": str(settings.notifications_url),
                    "identity": str(settings.identity_url),
                },
                client,
            )
            yield

    async def load_person(request: Request) -> None:
        await current_person(request)

    app = FastAPI(
        title="crnt web",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(load_person), Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.pages = Pages(
        mail_catcher_url=str(settings.mail_catcher_url) if settings.mail_catcher_url else None
    )
    for router in (public.router, sign_in.router, agency.router, copil.router, animator.router):
        app.include_router(router)
    for name, path in assets.items():
        app.mount(f"/static/{name}", StaticFiles(directory=path), name=name)
    app.mount("/static/crnt", StaticFiles(directory=Path(__file__).parent / "static"), name="crnt")
    _install_error_pages(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.production,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContextMiddleware, service=SERVICE, max_body_bytes=MAX_BODY_BYTES)
    return app


def _install_error_pages(app: FastAPI) -> None:
    def page(request: Request, code: int, template: str, **context: object) -> Response:
        pages: Pages = request.app.state.pages
        return pages.response(request, template, dict(context), status_code=code)

    async def on_sign_in_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/connexion?retour={quote(target, safe='')}", status_code=303)

    async def on_role_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RoleRequired)
        return page(request, 403, "errors/403.html", roles=exc.roles)

    async def on_csrf(request: Request, exc: Exception) -> Response:
        return page(request, 403, "errors/csrf.html")

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return page(request, 404, "errors/404.html")
        if exc.status_code == 405:
            return page(request, 405, "errors/404.html")
        return page(request, exc.status_code, "errors/500.html", status=exc.status_code)

    async def on_validation(request: Request, exc: Exception) -> Response:
        return page(request, 400, "errors/400.html")

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 401:
            return await on_sign_in_required(request, exc)
        if exc.status == 403:
            return page(request, 403, "errors/403.html", roles=(), detail=exc.detail)
        if exc.status == 404:
            return page(request, 404, "errors/404.html")
        return page(request, 400, "errors/400.html", detail=exc.detail)

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceUnavailable)
        log.warning("service unavailable", service=exc.service, path=request.url.path)
        label = SERVICE_LABELS.get(exc.service, exc.service)
        return page(request, 503, "errors/503.html", service=label)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        try:
            return page(request, 500, "errors/500.html", status=500)
        except Exception:
            log.exception("the error page failed too")
            return JSONResponse({"detail": "Erreur interne"}, status_code=500)

    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(RoleRequired, on_role_required)
    app.add_exception_handler(CsrfFailure, on_csrf)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
    app.add_exception_handler(Exception, on_error)
