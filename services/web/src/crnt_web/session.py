"""The signed-in person, kept in the signed session cookie (HttpOnly, SameSite=Lax, Secure in
production: Starlette's ``SessionMiddleware``), and the CSRF token of every form.

The cookie holds the identity service's access token (short-lived) and refresh token; the
access token is refreshed when it is about to expire. Nothing else about the person is trusted
from the browser: the cookie is signed, and the services verify the token themselves.
"""

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from crnt_web.backend import ApiError, Backend

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
REFRESH_MARGIN_SECONDS = 60
ROLE_LABELS = {"agency": "agence", "copil": "comité de pilotage", "animator": "animation"}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    roles: frozenset[str]
    centres: tuple[str, ...]
    token: str

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def home(self) -> str:
        """Where this person's work starts."""
        if self.has("agency"):
            return "/agence"
        if self.has("copil"):
            return "/copil"
        if self.has("animator"):
            return "/mon-espace"
        return "/"


class SignInRequired(Exception):
    """The page needs a signed-in person: the handler redirects to the sign-in page."""


class RoleRequired(Exception):
    """The person is signed in, without the role the page needs: a clear refusal page."""

    def __init__(self, *roles: str) -> None:
        super().__init__(", ".join(roles))
        self.roles = roles


class CsrfFailure(Exception):
    """A form came back without the token its page carried."""


def csrf_token(request: Request) -> str:
    if "session" not in request.scope:  # an error page outside the session middleware
        return ""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Every unsafe request carries the session's CSRF token (form field or htmx header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise CsrfFailure


def store_sign_in(request: Request, tokens: dict[str, Any]) -> None:
    """Keep what ``/sign-in/redeem`` or ``/sessions/refresh`` answered."""
    person = tokens.get("person") or request.session.get("auth", {}).get("person", {})
    previous = request.session.get("auth", {})
    request.session["auth"] = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token") or previous.get("refresh_token"),
        "expires_at": int(time.time()) + int(tokens.get("expires_in", 900)),
        "lifetime": int(tokens.get("expires_in", 900)),
        "person": {
            "id": str(person.get("id", "")),
            "display_name": str(person.get("display_name", "")),
            "email": str(person.get("email", "")),
            "roles": [str(r) for r in person.get("roles", [])],
            "centres": [str(c) for c in person.get("centres", [])],
        },
    }


def forget(request: Request) -> str | None:
    """Sign out in the browser; returns the refresh token, to end the session at identity."""
    auth = request.session.pop("auth", None) or {}
    request.session.pop("csrf", None)
    token = auth.get("refresh_token")
    return token if isinstance(token, str) else None


def _person(auth: dict[str, Any]) -> Person:
    person = auth["person"]
    return Person(
        id=person["id"],
        name=person["display_name"] or person["email"],
        email=person["email"],
        roles=frozenset(person["roles"]),
        centres=tuple(person["centres"]),
        token=auth["access_token"],
    )


async def current_person(request: Request) -> Person | None:
    """The signed-in person, their access token refreshed if it is about to expire."""
    auth = request.session.get("auth")
    if not isinstance(auth, dict) or "access_token" not in auth:
        return None
    # Refreshed a little before it expires: a minute, or a quarter of a short token's life.
    margin = min(REFRESH_MARGIN_SECONDS, int(auth.get("lifetime", 900)) // 4)
    if int(auth.get("expires_at", 0)) - margin <= time.time():
        backend: Backend = request.app.state.backend
        refresh = auth.get("refresh_token")
        if not refresh:
            forget(request)
            return None
        try:
            tokens = await backend.post(
                "identity", "/sessions/refresh", json={"refresh_token": refresh}
            )
        except ApiError:
            forget(request)  # the session ended (signed out elsewhere, expired, removed)
            return None
        store_sign_in(request, tokens)
        auth = request.session["auth"]
    request.state.person = _person(auth)
    return request.state.person  # type: ignore[no-any-return]


async def signed_in(request: Request) -> Person:
    person = await current_person(request)
    if person is None:
        raise SignInRequired
    return person


def require(*roles: str) -> Callable[..., Awaitable[Person]]:
    """A dependency: a signed-in person with one of ``roles``."""

    async def check(person: Person = Depends(signed_in)) -> Person:  # noqa: B008
        if not any(person.has(role) for role in roles):
            raise RoleRequired(*roles)
        return person

    return check
