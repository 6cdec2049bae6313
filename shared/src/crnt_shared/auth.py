"""Who makes a request: an :class:`Actor`, from a bearer token verified locally.

Two kinds of bearer tokens are accepted by every service:

- a person's access token: a JWT signed by the identity service (EdDSA, Ed25519, ``kid`` in the
  header, at most 15 minutes long). It is verified with identity's public keys, which a service
  knows without calling identity: from ``CRNT_IDENTITY_JWKS`` (configuration) and from the keys
  identity announces on ``crnt.identity.events``, recorded in the service's own database;
- the static tokens ``CRNT_AGENCY_TOKEN`` / ``CRNT_COPIL_TOKEN``: service accounts (the CLI,
  automation), recorded as such.

Revocation: identity publishes ``access.revoked`` (a person removed, an animator removed, a
centre no longer a member); each service records it in its own database, which every replica
reads on every person's request. A replica that did not receive the event (one replica per
consumer group does) refuses the token all the same, at once.
"""

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4, uuid5

import jwt
import jwt.algorithms
import structlog
from asyncpg import Pool
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crnt_shared.contracts.identity import (
    AccessRevoked,
    ActorRef,
    SigningKeyAnnounced,
    SigningKeyRetired,
)
from crnt_shared.db import Connection, EventHandler, UnitOfWork
from crnt_shared.events import Event
from crnt_shared.http import Problem
from crnt_shared.problems import problems

log = structlog.get_logger(__name__)

ISSUER = "crnt-identity"
AUDIENCE = "crnt"
ALGORITHM = "EdDSA"
MAX_TOKEN_SECONDS = 900
#: Clock skew tolerated between identity and a service.
LEEWAY_SECONDS = 30
#: An unknown ``kid`` reloads the keys from the database at most this often.
RELOAD_SECONDS = 1.0


#: People's ids are derived from their address (uuid5): the same person whatever their roles,
#: and a service that knows an address (the registry, notifications) knows whose it is.
PEOPLE_NAMESPACE = UUID("5b0f8c64-1d7e-4f57-9a43-52b8f1f0c2a1")


def person_id_for(email: str) -> UUID:
    return uuid5(PEOPLE_NAMESPACE, email.strip().lower())


class Role(StrEnum):
    AGENCY = "agency"
    COPIL = "copil"
    ANIMATOR = "animator"


class ActorKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"


@dataclass(frozen=True)
class Actor:
    """A person (signed token) or a service account (static token)."""

    kind: ActorKind
    id: str
    name: str
    roles: frozenset[Role]
    centres: frozenset[UUID] = frozenset()
    session_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def animates(self, centre_id: UUID) -> bool:
        """Whether this actor is an animator acting for ``centre_id`` (a member centre)."""
        return Role.ANIMATOR in self.roles and centre_id in self.centres

    @property
    def ref(self) -> ActorRef:
        """The actor as events, histories and versions record it."""
        return ActorRef(kind=self.kind.value, id=self.id, name=self.name)

    @property
    def label(self) -> str:
        """One string for the ``by`` fields that predate :class:`ActorRef`: the display name of
        a person; the role of a service account (``agency``, ``copil``), as before."""
        return self.name if self.kind is ActorKind.PERSON else self.id.removeprefix("service:")


def service_account(role: Role) -> Actor:
    names = {Role.AGENCY: "Compte de service de l'agence", Role.COPIL: "Compte de service du COPIL"}
    return Actor(ActorKind.SERVICE, f"service:{role.value}", names[role], frozenset({role}))


def read_jwks(value: str | None) -> list[dict[str, Any]]:
    """``CRNT_IDENTITY_JWKS``: a JWKS as JSON text, or the path of a file holding one."""
    if not value or not value.strip():
        return []
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    try:
        keys = json.loads(text)["keys"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError('CRNT_IDENTITY_JWKS is not a JWKS ({"keys": [...]})') from error
    if not isinstance(keys, list):
        raise ValueError('CRNT_IDENTITY_JWKS is not a JWKS ({"keys": [...]})')
    return keys


KeySource = Callable[[], Awaitable[tuple[dict[str, dict[str, Any]], set[str]]]]
RevocationSource = Callable[[str], Awaitable[datetime | None]]


@dataclass
class KeyRing:
    """The public keys by kid: configured ones, then those the database holds (announced)."""

    configured: Mapping[str, dict[str, Any]]
    load: KeySource | None = None
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _retired: set[str] = field(default_factory=set)
    _loaded_at: float = -1e9
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self._keys = {kid: jwt.PyJWK(jwk, ALGORITHM) for kid, jwk in self.configured.items()}

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys and kid not in self._retired:
            await self._reload()
        if kid in self._retired:
            return None
        return self._keys.get(kid)

    async def _reload(self) -> None:
        if self.load is None:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at < RELOAD_SECONDS:
                return
            announced, retired = await self.load()
            keys = {kid: jwt.PyJWK(jwk, ALGORITHM) for kid, jwk in self.configured.items()}
            for kid, jwk in announced.items():
                try:
                    keys[kid] = jwt.PyJWK(jwk, ALGORITHM)
                except jwt.PyJWTError:
                    log.warning("announced signing key is not usable", kid=kid)
            self._keys, self._retired = keys, retired
            self._loaded_at = time.monotonic()


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail)


NOT_VALID = (
    "The bearer token is not valid (unknown, expired or revoked): sign in again, or send "
    "a service account's token."
)


class Authenticator:
    """Resolves a bearer token to an :class:`Actor`; builds the FastAPI dependencies."""

    def __init__(
        self,
        *,
        service_tokens: Mapping[Role, str],
        keys: KeyRing,
        revoked_before: RevocationSource | None = None,
    ) -> None:
        self._service_tokens = {role: token.encode() for role, token in service_tokens.items()}
        self._keys = keys
        self._revoked_before = revoked_before

    async def authenticate(self, token: str) -> Actor:
        """The actor of ``token``; :class:`Problem` 401 when it is not valid (never saying who)."""
        if token.count(".") == 2:
            return await self._person(token)
        given = token.encode()
        matched = None
        for role, expected in self._service_tokens.items():
            # Compare with every token, always, in constant time.
            if hmac.compare_digest(given, expected) and matched is None:
                matched = role
        if matched is None:
            raise _unauthorized(NOT_VALID)
        return service_account(matched)

    async def _person(self, token: str) -> Actor:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthorized(NOT_VALID) from error
        kid = header.get("kid")
        key = await self._keys.key(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != ALGORITHM:
            raise _unauthorized(NOT_VALID)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "jti", "sid", "iss", "aud"]},
            )
            actor = _actor_from(claims)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise _unauthorized(NOT_VALID) from error
        if self._revoked_before is not None:
            revoked_before = await self._revoked_before(actor.id)
            issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
            if revoked_before is not None and issued_at <= revoked_before:
                raise _unauthorized(NOT_VALID)
        return actor

    # FastAPI dependencies

    @problems(401)
    async def optional(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Actor | None:
        """The actor, ``None`` without a token; a wrong token is refused, not ignored."""
        if credentials is None:
            return None
        return await self.authenticate(credentials.credentials)

    def require(self, *roles: Role) -> Any:
        """``Depends``: the actor, who must hold one of ``roles`` (401 without a token, 403
        with one that lacks them)."""

        @problems(401, 403)
        async def check(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> Actor:
            return await self.holding(credentials, roles)

        return Depends(check)

    async def holding(
        self, credentials: HTTPAuthorizationCredentials | None, roles: Sequence[Role]
    ) -> Actor:
        """The actor of ``credentials``, who must hold one of ``roles``."""
        wanted = " or ".join(role.value for role in roles)
        if credentials is None:
            raise _unauthorized(
                f"This action needs a token of the {wanted} role: sign in, or send a "
                "service account's token as 'Authorization: Bearer <token>'."
            )
        actor = await self.authenticate(credentials.credentials)
        if not actor.has(*roles):
            raise forbidden(f"This action is reserved to the {wanted} role.")
        return actor


# The same dependencies for module-level routers: the authenticator is the app's runtime's
# (``app.state.runtime.auth``), known once the app is built.


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.runtime.auth
    return authenticator


def require(*roles: Role) -> Any:
    """``Depends``: the actor, who must hold one of ``roles``, as :meth:`Authenticator.require`
    says."""

    @problems(401, 403)
    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        return await _authenticator(request).holding(credentials, roles)

    return Depends(check)


@problems(401)
async def _optional(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    return await _authenticator(request).optional(credentials)


#: ``Depends``: the actor, ``None`` without a token (:meth:`Authenticator.optional`).
OPTIONAL_ACTOR: Any = Depends(_optional)


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def require_centre(actor: Actor, centre_id: UUID, *, agency_too: bool = True) -> None:
    """Admit the agency (unless ``agency_too`` is false) and the animators of ``centre_id``."""
    if agency_too and actor.has(Role.AGENCY):
        return
    if actor.animates(centre_id):
        return
    raise forbidden(
        "This action is reserved to the agency and to the animators of this centre"
        if agency_too
        else "This action is reserved to the animators of this centre"
    )


def _actor_from(claims: Mapping[str, Any]) -> Actor:
    issued, expires = int(claims["iat"]), int(claims["exp"])
    if expires - issued > MAX_TOKEN_SECONDS:
        raise ValueError("the token lives longer than 15 minutes")
    roles = frozenset(Role(role) for role in claims.get("roles", []))
    centres = frozenset(UUID(str(centre)) for centre in claims.get("centres", []))
    name = claims.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("the token names no one")
    return Actor(
        ActorKind.PERSON,
        str(UUID(str(claims["sub"]))),
        name,
        roles,
        centres if Role.ANIMATOR in roles else frozenset(),
        str(claims["sid"]),
    )


# Issuing (the identity service, and tests)


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """The public half of a signing key as a JWK (OKP, Ed25519)."""
    jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def issue_token(
    private_key: Ed25519PrivateKey,
    kid: str,
    *,
    person_id: str,
    name: str,
    roles: Iterable[str],
    centres: Iterable[UUID],
    session_id: str,
    issued_at: datetime,
    lifetime_seconds: int = MAX_TOKEN_SECONDS,
) -> str:
    """A person's access token, as the contract of crnt's tokens says."""
    iat = int(issued_at.timestamp())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": person_id,
        "name": name,
        "roles": sorted(roles),
        "centres": sorted(str(centre) for centre in centres),
        "sid": session_id,
        "iat": iat,
        "exp": iat + lifetime_seconds,
        "jti": str(uuid4()),
    }
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


# What every service keeps of identity's announcements, in its own database.


async def database_keys(pool: Pool) -> tuple[dict[str, dict[str, Any]], set[str]]:
    async with pool.acquire() as connection:
        rows = await connection.fetch("SELECT kid, jwk, retired_at FROM identity_keys")
    announced = {row["kid"]: row["jwk"] for row in rows if row["retired_at"] is None}
    retired = {row["kid"] for row in rows if row["retired_at"] is not None}
    return announced, retired


async def database_revocation(pool: Pool, person_id: str) -> datetime | None:
    async with pool.acquire() as connection:
        value = await connection.fetchval(
            "SELECT revoked_before FROM access_revocations WHERE person_id = $1", person_id
        )
    assert value is None or isinstance(value, datetime)
    return value


# What every service records of identity's keys and revocations (identity too, of its own).


async def record_key(
    connection: Connection, kid: str, jwk: Mapping[str, Any], signs_from: datetime
) -> None:
    await connection.execute(
        "INSERT INTO identity_keys (kid, jwk, signs_from) VALUES ($1, $2, $3)"
        " ON CONFLICT (kid) DO NOTHING",
        kid,
        jwk,
        signs_from,
    )


async def record_retired_key(connection: Connection, kid: str, retired_at: datetime) -> None:
    """Known or not (a service that started after its announcement), the key is refused."""
    await connection.execute(
        "INSERT INTO identity_keys (kid, jwk, signs_from, retired_at) VALUES ($1, '{}', $2, $2)"
        " ON CONFLICT (kid) DO UPDATE SET retired_at = excluded.retired_at",
        kid,
        retired_at,
    )


async def record_revocation(
    connection: Connection, person_id: str, revoked_before: datetime
) -> None:
    """The latest of the revocations wins, whatever the order they arrive in."""
    await connection.execute(
        "INSERT INTO access_revocations (person_id, revoked_before) VALUES ($1, $2)"
        " ON CONFLICT (person_id) DO UPDATE"
        " SET revoked_before ="
        " GREATEST(access_revocations.revoked_before, excluded.revoked_before)",
        person_id,
        revoked_before,
    )


async def on_key_announced(event: SigningKeyAnnounced, uow: UnitOfWork) -> None:
    await record_key(uow.connection, event.data.kid, event.data.jwk, event.data.signs_from)


async def on_key_retired(event: SigningKeyRetired, uow: UnitOfWork) -> None:
    await record_retired_key(uow.connection, event.data.kid, event.data.retired_at)


async def on_access_revoked(event: AccessRevoked, uow: UnitOfWork) -> None:
    await record_revocation(uow.connection, event.data.person_id, event.data.revoked_before)


AUTH_HANDLERS: Mapping[type[Event], EventHandler] = {
    SigningKeyAnnounced: on_key_announced,
    SigningKeyRetired: on_key_retired,
    AccessRevoked: on_access_revoked,
}


def database_authenticator(
    *,
    service_tokens: Mapping[Role, str],
    jwks: Iterable[Mapping[str, Any]],
    pool: Callable[[], Pool],
) -> Authenticator:
    """The authenticator of a service: configured keys, then announced ones from its database,
    and the revocations it recorded. ``pool`` is called at request time (the runtime's pool
    exists once the service has started)."""
    configured = {str(jwk["kid"]): dict(jwk) for jwk in jwks if "kid" in jwk}

    async def keys() -> tuple[dict[str, dict[str, Any]], set[str]]:
        return await database_keys(pool())

    async def revoked(person_id: str) -> datetime | None:
        return await database_revocation(pool(), person_id)

    return Authenticator(
        service_tokens=service_tokens,
        keys=KeyRing(configured, keys),
        revoked_before=revoked,
    )
