"""The authorization matrix: every route of every service × every kind of caller → the
expected status, on the real PostgreSQL and Kafka, with no personal data in any refusal.

The five services run in this process, each on a database of its own. The registry makes two
member centres, C and D, through its API; its events are replayed to a topic of the matrix's
own that the other services read, so that each knows C and D from its read model as it does
in production. People's tokens are signed by a key that the services know from
``CRNT_IDENTITY_JWKS``; the removed animator's revocation reaches each service on Kafka.
"""

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from crnt_budget.app import create_app as budget_app
from crnt_budget.settings import BudgetSettings
from crnt_devstack.mailcatcher import MailCatcher
from crnt_identity.app import create_app as identity_app
from crnt_identity.settings import IdentitySettings
from crnt_notifications.app import create_app as notifications_app
from crnt_notifications.settings import NotificationsSettings
from crnt_programme.app import create_app as programme_app
from crnt_programme.settings import ProgrammeSettings
from crnt_registry.app import create_app as registry_app
from crnt_registry.settings import RegistrySettings
from crnt_shared import samples
from crnt_shared.auth import issue_token, new_signing_key, person_id_for, public_jwk
from crnt_shared.contracts.identity import AccessRevoked, AccessRevokedData
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN, app_client, create_topics, wait_until
from fastapi import FastAPI

from tests.databases import fresh_databases

pytestmark = pytest.mark.integration

API = "/api/v1"
YEAR = 2026
KEY = new_signing_key()
KID = "matrix-key"
UNKNOWN_KEY = new_signing_key()

#: The people of the matrix: (email, display name).
CLAIRE = ("claire.dupont@arques.example.org", "Claire Dupont")  # animator of C
DENIS = ("denis.leroy@blendecques.example.org", "Denis Leroy")  # animator of D
MARC = ("marc.petit@arques.example.org", "Marc Petit")  # animator of C, removed
PAUL = ("paul.roux@copil.example.org", "Paul Roux")  # COPIL member
LEA = ("lea.martin@agence.example.org", "Léa Martin")  # agency staff
PEOPLE = (CLAIRE, DENIS, MARC, PAUL, LEA)

IDENTITIES = (
    "no token",
    "animator of C",
    "animator of another centre",
    "COPIL member",
    "agency person",
    "service account",
    "expired token",
    "removed animator",
    "unknown key",
)
BAD = {"expired token", "removed animator", "unknown key"}
AGENCY_SIDE = {"agency person", "service account"}


# Policies: who may call a route. Each gives the expected status of an identity, given the
# status of a call that is let in.


def open_to_all(identity: str, ok: int) -> int:
    return ok


def optional_token(identity: str, ok: int) -> int:
    """Open, but a token that is sent must be valid."""
    return 401 if identity in BAD else ok


def _signed(allowed: set[str]) -> Callable[[str, int], int]:
    def policy(identity: str, ok: int) -> int:
        if identity == "no token" or identity in BAD:
            return 401
        return ok if identity in allowed else 403

    return policy


agency_only = _signed(AGENCY_SIDE)
copil_only = _signed({"COPIL member"})
agency_or_centre = _signed({*AGENCY_SIDE, "animator of C"})


def person_only(identity: str, ok: int) -> int:
    """``/me``: any signed-in person; a service account is not one."""
    if identity == "no token" or identity in BAD:
        return 401
    return 404 if identity == "service account" else ok


POLICIES = {
    "open": open_to_all,
    "optional": optional_token,
    "agency": agency_only,
    "copil": copil_only,
    "centre": agency_or_centre,
    "person": person_only,
}


@dataclass
class World:
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    apps: dict[str, FastAPI] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    path: str  # the route's template, as in its OpenAPI document
    policy: str
    ok: int
    url: Callable[[dict[str, str]], str] | None = None
    body: Callable[[str, dict[str, str]], Any] | None = None
    content: bytes | None = None


NOBODY = str(uuid.UUID(int=1))
#: The value of a route's parameter where its row gives no URL of its own; an id that is not
#: there is :data:`NOBODY`'s.
PARAMETERS = {"year": str(YEAR), "siren": "200069037", "fmt": "ods", "version": "1"}


def _r(
    service: str, route: str, policy: str, ok: int, ids: dict[str, str] | None = None, **more: Any
) -> Row:
    """A row for ``route`` (``"METHOD /path"``); without ``url``, the route is called with the
    values of :data:`PARAMETERS`, and a parameter named in ``ids`` with that id of the world's
    (``{"centre_id": "C"}``: C's); ``json``, a body the same for every caller."""
    method, path = route.split(" ", 1)
    if "json" in more:
        json_body = more.pop("json")
        more["body"] = lambda identity, ids: json_body
    if "url" not in more:
        names = re.findall(r"\{(\w+)\}", path)
        values = {name: PARAMETERS.get(name, NOBODY) for name in names if name.endswith("_id")}
        values |= {name: f"{{{key}}}" for name, key in (ids or {}).items()}
        if set(names) <= PARAMETERS.keys() | values.keys():
            more["url"] = _fill(path.format(**(PARAMETERS | values)))
    return Row(service, method, path, policy, ok, **more)


def _fill(path: str) -> Callable[[dict[str, str]], str]:
    return lambda ids: path.format(**ids)


_registry = partial(_r, "registry")
_programme = partial(_r, "programme")
_budget = partial(_r, "budget")
_notifications = partial(_r, "notifications")
_identity = partial(_r, "identity")


BUDGET = {
    "envelope": "30000.00",
    "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
    "epci_key": "member_centres",
    "funders": [{"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"}],
}
VOTE = {"amount": "2000.00", "deliberation_number": "2026-042", "deliberation_date": "2026-03-12"}


def _action(lead: str) -> dict[str, Any]:
    return {
        "axis": "ateliers",
        "title": "Ateliers numériques seniors",
        "lead_centre_id": lead,
        "starts_on": f"{YEAR}-03-01",
        "ends_on": f"{YEAR}-06-30",
        "estimated_cost": "800.00",
    }


#: The path parameters that take C's id, A's (an action C leads).
C = {"centre_id": "C"}
A = {"action_id": "A"}
CENTRE_CHANGE = {"workstations": 7, "horaires": "Mo-Fr 09:00-17:00"}
ACTION_CHANGE = {"title": "Ateliers numériques pour les seniors"}
PROGRESS = {"progress": 20, "actual_cost": "150.00"}


def _colleague(identity: str, ids: dict[str, str]) -> dict[str, str]:
    """An animator that ``identity`` adds to C (one address each)."""
    return {
        "name": "Nouvelle Collègue",
        "email": f"{identity.replace(' ', '-')}@arques.example.org",
    }


CAPSO_EPCI = {
    "siren": "200069037",
    "name": "CA du Pays de Saint-Omer",
    "population": 104937,
    "communes": ["62040", "62765"],
}


ROWS: list[Row] = [
    _registry("POST /epcis", "agency", 409, json=CAPSO_EPCI),
    _registry("GET /epcis", "open", 200),
    _registry("GET /epcis/{siren}", "open", 200),
    _registry("PATCH /epcis/{siren}", "agency", 200, json={"population": 104937}),
    _registry("POST /applications", "optional", 422, json={}),
    _registry("GET /applications", "agency", 200),
    _registry("GET /applications/{application_id}", "agency", 404),
    _registry("POST /applications/{application_id}/approve", "agency", 404),
    _registry("POST /applications/approve", "agency", 404, json={"application_ids": [NOBODY]}),
    _registry(
        "POST /applications/{application_id}/reject",
        "agency",
        404,
        json={"reason": "Hors du territoire"},
    ),
    _registry("GET /centres", "open", 200),
    _registry("GET /centres/export.csv", "open", 200),
    _registry("POST /centres/import", "agency", 422, content=b""),
    _registry("GET /centres/{centre_id}", "optional", 200, C),
    _registry("PATCH /centres/{centre_id}", "centre", 200, C, json=CENTRE_CHANGE),
    *[
        _registry(
            f"POST /centres/{{centre_id}}/{action}", "agency", 404, json={"reason": "Travaux"}
        )
        for action in ("suspend", "reinstate", "withdraw")
    ],
    _registry("GET /centres/{centre_id}/animators", "centre", 200, C),
    _registry("POST /centres/{centre_id}/animators", "centre", 201, C, body=_colleague),
    _registry(
        "POST /animators",
        "agency",
        404,
        json={"animators": [{"centre_id": NOBODY, "name": "Nouvelle Collègue", "email": "n@c.fr"}]},
    ),
    _registry(
        "PATCH /centres/{centre_id}/animators/{animator_id}",
        "centre",
        200,
        C | {"animator_id": "colleague"},
        json={"name": "Sophie Lefebvre"},
    ),
    _registry("DELETE /centres/{centre_id}/animators/{animator_id}", "centre", 404, C),
    _registry("POST /centres/{centre_id}/animators/{animator_id}/erasure", "agency", 404),
    _programme(
        "POST /programmes/{year}/actions", "centre", 201, body=lambda i, ids: _action(ids["C"])
    ),
    _programme("GET /actions/{action_id}", "open", 200, A),
    _programme("PATCH /actions/{action_id}", "agency", 200, A, json=ACTION_CHANGE),
    _programme("GET /actions/{action_id}/history", "open", 200, A),
    _programme(
        "POST /actions/{action_id}/participants",
        "centre",
        200,
        {"action_id": "B"},
        body=lambda i, ids: {"centre_id": ids["C"]},
    ),
    _programme("POST /actions/{action_id}/status", "agency", 409, A, json={"status": "done"}),
    _programme("PATCH /actions/{action_id}/progress", "centre", 200, A, json=PROGRESS),
    _programme("GET /programmes", "open", 200),
    _programme("GET /programmes/{year}", "open", 200),
    _programme("GET /programmes/{year}/report", "open", 200),
    _programme("GET /programmes/{year}/report.{fmt}", "open", 200),
    _programme(
        "POST /programmes/{year}/submit", "agency", 404, url=_fill(f"/programmes/{YEAR + 1}/submit")
    ),
    _programme("POST /programmes/{year}/amend", "agency", 409),
    _programme("POST /programmes/{year}/validate", "copil", 409),
    _programme("GET /programmes/{year}/versions", "open", 200),
    _programme("GET /programmes/{year}/versions/{version}", "open", 404),
    _programme("GET /centres", "open", 200),
    _budget("PUT /budgets/{year}", "agency", 200, json=BUDGET),
    _budget("GET /budgets/{year}", "open", 200),
    _budget("PUT /budgets/{year}/participations/{siren}", "agency", 200, json=VOTE),
    _budget("POST /budgets/{year}/close", "agency", 404, url=_fill(f"/budgets/{YEAR + 1}/close")),
    _budget("GET /budgets/{year}/plan", "open", 200),
    _budget("GET /budgets/{year}/annex.{fmt}", "open", 200),
    _budget("GET /budgets/{year}/shares", "open", 200),
    _budget("GET /budgets/{year}/versions", "open", 200),
    _budget("GET /budgets/{year}/versions/{version}", "open", 200),
    _notifications("GET /deliveries", "agency", 200),
    _notifications("GET /deliveries/{delivery_id}", "agency", 404),
    _notifications("POST /deliveries/{delivery_id}/retry", "agency", 404),
    _notifications(
        "GET /preferences/{email}", "centre", 200, url=_fill(f"/preferences/{CLAIRE[0]}")
    ),
    _notifications(
        "PUT /preferences/{email}",
        "centre",
        200,
        url=_fill(f"/preferences/{CLAIRE[0]}"),
        json={"opted_out": []},
    ),
    _notifications(
        "GET /unsubscribe", "open", 400, url=_fill("/unsubscribe?token=not-a-signed-link")
    ),
    _notifications(
        "POST /unsubscribe", "open", 400, url=_fill("/unsubscribe?token=not-a-signed-link")
    ),
    *[
        _notifications(
            f"{method} /confirmations/{{token}}",
            "open",
            400,
            url=_fill("/confirmations/not-a.signed-link"),
        )
        for method in ("GET", "POST")
    ],
    _identity(
        "POST /sign-in",
        "open",
        202,
        body=lambda i, ids: {"email": f"{i.replace(' ', '-')}@example.org"},
    ),
    _identity("POST /sign-in/redeem", "open", 400, json={"token": "x" * 40}),
    _identity("POST /sessions/refresh", "open", 401, json={"refresh_token": "x" * 40}),
    _identity("POST /sessions/end", "open", 204, json={"refresh_token": "x" * 40}),
    _identity("GET /me", "person", 200),
    _identity("GET /people", "agency", 200),
    _identity(
        "POST /people",
        "agency",
        201,
        json={
            "email": "nina.bernard@copil.example.org",
            "display_name": "Nina Bernard",
            "roles": ["copil"],
        },
    ),
    _identity("DELETE /people/{person_id}", "agency", 404),
    _identity("GET /keys", "open", 200),
]
SERVICES = ("registry", "programme", "budget", "notifications", "identity")
#: The AsyncAPI document of its events and its page, in every service.
ROWS += [
    _r(service, f"GET {path}", "open", 200)
    for service in SERVICES
    for path in ("/asyncapi.json", "/asyncapi")
]
#: Operations outside /api/v1, in every service.
ROWS += [
    Row(service, "GET", path, "open", 200, url=(lambda p: lambda ids: p)(path))
    for service in SERVICES
    for path in ("/health", "/ready", "/metrics")
]


def _centre(nom: str, commune: str, insee: str, people: list[tuple[str, str]]) -> dict[str, Any]:
    return samples.application(
        nom,
        [(name, email) for email, name in people],
        commune=(commune, "62510", insee),
        adresse="2 rue des Tanneurs",
        workstations=6,
    )


def _token(person: tuple[str, str], roles: list[str], centres: list[str], **how: Any) -> str:
    return issue_token(
        how.get("key", KEY),
        how.get("kid", KID),
        person_id=str(person_id_for(person[0])),
        name=person[1],
        roles=roles,
        centres=[uuid.UUID(c) for c in centres],
        session_id=str(uuid.uuid4()),
        issued_at=how.get("at", datetime.now(UTC)),
    )


@pytest.fixture(scope="module")
async def world(kafka_bootstrap: str, postgres_admin_url: str) -> AsyncIterator[World]:
    tag = uuid.uuid4().hex[:10]
    topics = {
        name: f"matrix.{tag}.{name}" for name in ("registry", "identity", "programme", "budget")
    }
    await create_topics(
        kafka_bootstrap,
        {
            name: partitions
            for topic in topics.values()
            for name, partitions in ((topic, 3), (f"{topic}.dlq", 1))
        },
    )
    names = {service: f"matrix_{tag}_{service}" for service in SERVICES}
    async with fresh_databases(postgres_admin_url, names.values()) as urls:
        databases = {service: urls[name] for service, name in names.items()}
        async with _world(kafka_bootstrap, tag, topics, databases) as world:
            yield world


@asynccontextmanager
async def _world(
    kafka_bootstrap: str, tag: str, topics: dict[str, str], databases: dict[str, str]
) -> AsyncIterator[World]:
    """Every service's app on its database, started, with the matrix's people and places."""
    jwks = json.dumps({"keys": [public_jwk(KEY, KID)]})
    mail = MailCatcher("127.0.0.1", smtp_port=0, http_port=0)
    await mail.start()

    def settings(service: str) -> dict[str, Any]:
        return {
            "_env_file": None,
            "database_url": databases[service],
            "kafka_bootstrap_servers": kafka_bootstrap,
            "agency_token": AGENCY_TOKEN,
            "copil_token": COPIL_TOKEN,
            "identity_jwks": jwks,
            "identity_topic": topics["identity"],
            # A group of each service's own: every service records every revocation.
            "identity_consumer_group": f"matrix-{tag}-{service}-identity",
            "env": "test",
            "log_json": False,
            "log_level": "WARNING",
            "outbox_poll_seconds": 0.2,
            "consumer_backoff_seconds": 0.05,
            "consumer_max_attempts": 2,
        }

    def reading(service: str) -> dict[str, Any]:
        return {
            **settings(service),
            "consumer_group": f"matrix-{tag}-{service}",
            "registry_topic": topics["registry"],
        }

    apps = {
        "registry": registry_app(RegistrySettings(**settings("registry"))),
        "programme": programme_app(ProgrammeSettings(**reading("programme"))),
        "budget": budget_app(
            BudgetSettings(
                **reading("budget"),
                programme_topic=topics["programme"],
                budget_topic=topics["budget"],
                programme_consumer_group=f"matrix-{tag}-budget-programme",
            )
        ),
        "notifications": notifications_app(
            NotificationsSettings(
                **reading("notifications"),
                programme_topic=topics["programme"],
                budget_topic=topics["budget"],
                smtp_port=mail.smtp_port,
            )
        ),
        "identity": identity_app(IdentitySettings(**reading("identity"), smtp_port=mail.smtp_port)),
    }
    world = World(apps=apps)
    async with AsyncExitStack() as stack:
        for service, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            world.clients[service] = await stack.enter_async_context(app_client(app, service))
        await _populate(world, topics["registry"], topics["identity"], kafka_bootstrap)
        yield world
    await mail.stop()


async def _populate(world: World, registry_topic: str, identity_topic: str, bootstrap: str) -> None:
    service = {"Authorization": f"Bearer {AGENCY_TOKEN}"}
    registry = world.clients["registry"]
    assert (
        await registry.post(f"{API}/epcis", json=CAPSO_EPCI, headers=service)
    ).status_code == 201
    ids: dict[str, str] = {}
    for key, body in (
        (
            "C",
            _centre(
                "Cybercentre d'Arques",
                "Arques",
                "62040",
                [CLAIRE, MARC, ("sophie.lefebvre@arques.example.org", "Sophie")],
            ),
        ),
        ("D", _centre("EPN de Saint-Omer", "Saint-Omer", "62765", [DENIS])),
    ):
        submitted = await registry.post(f"{API}/applications", json=body, headers=service)
        assert submitted.status_code == 201, submitted.text
        application = submitted.json()
        ids[key] = application["centre_id"]
        approved = await registry.post(
            f"{API}/applications/{application['id']}/approve", headers=service
        )
        assert approved.status_code == 200, approved.text
        for animator in application["animators"]:
            if animator["email"].startswith("sophie"):
                ids["colleague"] = animator["id"]
    # The registry's events, to the matrix's own topic that the other services read.
    async with world.apps["registry"].state.runtime.pool.acquire() as connection:
        events = await connection.fetch(
            "SELECT event_id, event_type, key, payload FROM outbox ORDER BY id"
        )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for row in events:
            await producer.send(registry_topic, bytes(row["payload"]), key=row["key"].encode())
        # Marc was removed: identity says so to every service.
        revoked = AccessRevoked.create(
            source="/crnt/identity",
            subject=str(person_id_for(MARC[0])),
            data=AccessRevokedData(
                person_id=str(person_id_for(MARC[0])),
                revoked_before=datetime.now(UTC),
                reason="animator_removed",
            ),
        )
        await producer.send(identity_topic, revoked.to_json(), key=revoked.subject.encode())
        await producer.flush()
    finally:
        await producer.stop()

    approvals = [row["event_id"] for row in events if row["event_type"].endswith("approved.v1")]
    assert len(approvals) == 2

    async def known_everywhere() -> bool:
        for name in ("programme", "budget", "notifications", "identity"):
            async with world.apps[name].state.runtime.pool.acquire() as connection:
                handled = await connection.fetchval(
                    "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", approvals
                )
                revoked = await connection.fetchval("SELECT count(*) FROM access_revocations")
            if handled != 2 or (name != "identity" and revoked != 1):
                return False
        async with world.apps["registry"].state.runtime.pool.acquire() as connection:
            return bool(await connection.fetchval("SELECT count(*) FROM access_revocations") == 1)

    await wait_until(known_everywhere, timeout=90, message="C and D known, Marc revoked")
    # Identity records its own revocations itself (it does not read its own topic).
    async with world.apps["identity"].state.runtime.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO access_revocations (person_id, revoked_before) VALUES ($1, now())",
            str(person_id_for(MARC[0])),
        )
        # The people as identity knows them once they signed in.
        for (email, name), roles in (
            (PAUL, ["copil"]),
            (LEA, ["agency"]),
            (CLAIRE, []),
            (DENIS, []),
        ):
            await connection.execute(
                "INSERT INTO people (id, email, display_name, roles) VALUES ($1, $2, $3, $4)",
                person_id_for(email),
                email,
                name,
                roles,
            )
    created = await world.clients["programme"].post(
        f"{API}/programmes/{YEAR}/actions", json=_action(ids["C"]), headers=service
    )
    assert created.status_code == 201, created.text
    ids["A"] = created.json()["id"]
    created = await world.clients["programme"].post(
        f"{API}/programmes/{YEAR}/actions", json=_action(ids["D"]), headers=service
    )
    assert created.status_code == 201, created.text
    ids["B"] = created.json()["id"]
    configured = await world.clients["budget"].put(
        f"{API}/budgets/{YEAR}", json=BUDGET, headers=service
    )
    assert configured.status_code == 200, configured.text

    async def ready() -> bool:
        for client in world.clients.values():
            if (await client.get("/ready")).status_code != 200:
                return False
        return True

    await wait_until(ready, timeout=60, message="every service ready")
    world.ids = ids
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    world.headers = {
        "no token": {},
        "animator of C": _bearer(_token(CLAIRE, ["animator"], [ids["C"]])),
        "animator of another centre": _bearer(_token(DENIS, ["animator"], [ids["D"]])),
        "COPIL member": _bearer(_token(PAUL, ["copil"], [])),
        "agency person": _bearer(_token(LEA, ["agency"], [])),
        "service account": service,
        "expired token": _bearer(_token(LEA, ["agency"], [], at=long_ago)),
        "removed animator": _bearer(
            _token(MARC, ["animator"], [ids["C"]], at=datetime.now(UTC) - timedelta(minutes=5))
        ),
        "unknown key": _bearer(_token(LEA, ["agency"], [], key=UNKNOWN_KEY, kid="other-key")),
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cases() -> Iterator[Any]:
    for row in ROWS:
        for identity in IDENTITIES:
            yield pytest.param(
                row, identity, id=f"{row.service} {row.method} {row.path} · {identity}"
            )


PERSONAL = [value for person in PEOPLE for value in person] + [
    str(person_id_for(email)) for email, _ in PEOPLE
]


@pytest.mark.parametrize(("row", "identity"), list(_cases()))
async def test_the_matrix(world: World, row: Row, identity: str) -> None:
    expected = POLICIES[row.policy](identity, row.ok)
    path = row.url(world.ids) if row.url else row.path
    url = (
        path
        if path.startswith("/") and path.split("/")[1] in ("health", "ready", "metrics")
        else f"{API}{path}"
    )
    headers = dict(world.headers[identity])
    kwargs: dict[str, Any] = {"headers": headers}
    if row.body is not None:
        kwargs["json"] = row.body(identity, world.ids)
    if row.content is not None:
        kwargs["content"] = row.content
        headers["Content-Type"] = "text/csv"
    response = await world.clients[row.service].request(row.method, url, **kwargs)
    assert response.status_code == expected, response.text
    if expected in (401, 403):
        for value in PERSONAL:
            assert value.lower() not in response.text.lower(), f"{value} in a refusal"


async def test_the_matrix_covers_every_route_of_every_service(world: World) -> None:
    covered = {(row.service, row.method, row.path) for row in ROWS}
    for service, app in world.apps.items():
        for path, operations in app.openapi()["paths"].items():
            for method in operations:
                route = path.removeprefix(API)
                assert (service, method.upper(), route) in covered, f"{service} {method} {path}"
    print(f"authorization matrix: {len(ROWS)} routes × {len(IDENTITIES)} identities")
