"""Identity's HTTP API under ``/api/v1``: thin adapters from requests to handlers.

Sign-in, redeem, refresh and sign-out need no bearer token (the link or the refresh token is
the proof); ``/me`` needs the person's token; people are the agency's; ``/keys`` is public.
"""

from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from crnt_shared.auth import Actor, Role
from crnt_shared.http import Problem
from crnt_shared.problems import problems
from crnt_shared.ratelimit import RateLimiter
from crnt_shared.runtime import ServiceRuntime
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from crnt_identity import handlers
from crnt_identity.domain import Standing, safe_return_to
from crnt_identity.mailer import SignInMailer
from crnt_identity.repository import IdentityRepository
from crnt_identity.settings import IdentitySettings

Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HOUR = timedelta(hours=1)

ACCEPTED = (
    "If this address may sign in, a link valid for 15 minutes has just been mailed to it: "
    "open it on this device."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignInIn(_Strict):
    email: EmailStr
    return_to: str | None = Field(default=None, description="A path of the web, e.g. /budget.")

    @field_validator("return_to")
    @classmethod
    def _a_path(cls, value: str | None) -> str | None:
        return safe_return_to(value)


class RedeemIn(_Strict):
    token: Secret


class RefreshIn(_Strict):
    refresh_token: Secret


class PersonIn(_Strict):
    email: EmailStr
    display_name: Name
    roles: list[Literal["agency", "copil"]] = Field(min_length=1, max_length=2)


def build_router(
    runtime: ServiceRuntime[IdentityRepository],
    settings: IdentitySettings,
    policy: handlers.TokenPolicy,
    mailer: SignInMailer,
) -> APIRouter:
    router = APIRouter()
    agency = runtime.auth.require(Role.AGENCY)
    anyone_signed_in = runtime.auth.require(Role.AGENCY, Role.COPIL, Role.ANIMATOR)
    trusted_proxies = set(settings.trusted_proxies)

    def client_of(request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        forwarded = request.headers.get("x-forwarded-for")
        if peer in trusted_proxies and forwarded:
            return forwarded.split(",")[-1].strip() or peer
        return peer

    @router.post(
        "/sign-in",
        status_code=202,
        tags=["sign-in"],
    )
    @problems(429)
    async def sign_in(body: SignInIn, request: Request) -> dict[str, str]:
        """Mail a sign-in link; the same answer whether or not the address is known."""
        limiter = RateLimiter(runtime.pool)
        await limiter.check(
            f"sign-in:client:{client_of(request)}",
            limit=settings.sign_in_per_client_per_hour,
            per=HOUR,
        )
        await limiter.check(
            f"sign-in:address:{body.email.lower()}",
            limit=settings.sign_in_per_address_per_hour,
            per=HOUR,
        )
        command = handlers.RequestSignIn(str(body.email), body.return_to)
        secret = await runtime.run(handlers.request_sign_in, command)
        if secret is not None:
            mailer.send_later(str(body.email).lower(), secret)
        return {"status": "accepted", "detail": ACCEPTED}

    @router.post("/sign-in/redeem", tags=["sign-in"])
    @problems(400)
    async def redeem(body: RedeemIn) -> dict[str, Any]:
        """Exchange a mailed link's secret for a session (once)."""
        grant = await runtime.run(handlers.redeem, handlers.Redeem(body.token, policy))
        return _grant(grant)

    @router.post("/sessions/refresh", tags=["sessions"])
    @problems(401)
    async def refresh(body: RefreshIn) -> dict[str, Any]:
        """A new access token for a session that has not ended."""
        grant = await runtime.run(handlers.refresh, handlers.Refresh(body.refresh_token, policy))
        return _grant(grant)

    @router.post("/sessions/end", status_code=204, tags=["sessions"])
    @problems()
    async def end(body: RefreshIn) -> Response:
        await runtime.run(handlers.end_session, handlers.EndSession(body.refresh_token))
        return Response(status_code=204)

    @router.get("/me", tags=["people"])
    @problems(404)
    async def me(actor: Annotated[Actor, anyone_signed_in]) -> dict[str, Any]:
        if actor.kind.value != "person":
            raise Problem(
                404, "Not found", "A service account is not a person: /me needs a person's token."
            )
        return _person(await runtime.run(handlers.who_is, handlers.WhoIs(UUID(actor.id))))

    @router.get("/people", dependencies=[agency], tags=["people"])
    async def people() -> dict[str, Any]:
        """Agency staff and COPIL members (animators come from the registry)."""

        async def standings(repository: IdentityRepository) -> list[Standing]:
            return [await handlers.standing_of(repository, p) for p in await repository.people()]

        found = await runtime.read(standings)
        return {"items": [_person(who) for who in found], "total": len(found)}

    @router.post("/people", status_code=201, tags=["people"])
    @problems()
    async def add_person(actor: Annotated[Actor, agency], body: PersonIn) -> dict[str, Any]:
        command = handlers.AddPerson(
            str(body.email), body.display_name, frozenset(Role(r) for r in body.roles), actor
        )
        person = await runtime.run(handlers.add_person, command)
        return _person(await runtime.read(lambda r: handlers.standing_of(r, person)))

    @router.delete("/people/{person_id}", status_code=204, tags=["people"])
    async def remove_person(actor: Annotated[Actor, agency], person_id: UUID) -> Response:
        """Remove a person: their sessions end and every service refuses their tokens."""
        await runtime.run(handlers.remove_person, handlers.RemovePerson(person_id, actor))
        return Response(status_code=204)

    @router.get("/keys", tags=["keys"], summary="The public signing keys (JWKS)")
    async def jwks() -> dict[str, Any]:
        live = [k for k in await runtime.read(lambda r: r.signing_keys()) if k.retired_at is None]
        return {"keys": [key.public_jwk for key in live]}

    return router


def _person(who: Standing) -> dict[str, Any]:
    return {
        "id": str(who.person.id),
        "display_name": who.display_name,
        "email": who.person.email,
        "roles": sorted(role.value for role in who.roles),
        "centres": sorted(str(centre) for centre in who.centres),
    }


def _grant(grant: handlers.Grant) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": grant.expires_in,
        "session_id": str(grant.session_id),
        "person": _person(grant.standing),
    }
    if grant.refresh_token is not None:
        body["refresh_token"] = grant.refresh_token
    if grant.return_to is not None:
        body["return_to"] = grant.return_to
    return body
