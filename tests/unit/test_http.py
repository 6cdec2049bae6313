"""The HTTP conventions every service shares, on an app with one route (no I/O)."""

import json
from collections.abc import AsyncIterator, Mapping

import asyncpg
import httpx
import pytest
from crnt_shared.auth import Authenticator, KeyRing, Role
from crnt_shared.http import (
    PROBLEM_JSON,
    Conflict,
    Problem,
    ReadinessCheck,
    client_address,
    problem_response,
)
from crnt_shared.problems import problems
from crnt_shared.ratelimit import TooManyRequests, client_bucket
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

from tests.unit.apps import app_with, client_of

auth = Authenticator(
    service_tokens={Role.AGENCY: "agency-token", Role.COPIL: "copil-token"}, keys=KeyRing({})
)
router = APIRouter()


class Body(BaseModel):
    name: str = Field(min_length=1)
    workstations: int = Field(ge=0)


@router.post("/things", dependencies=[auth.require(Role.AGENCY)])
async def create_thing(body: Body) -> dict[str, str]:
    if body.name == "taken":
        raise Conflict("A thing named 'taken' exists already.")
    return {"name": body.name}


@router.post("/things/{name}/archive", dependencies=[auth.require(Role.AGENCY)])
async def archive_thing(name: str) -> dict[str, str]:
    # Extension members named like the standard ones: they must not replace them.
    raise Conflict(
        f"The thing {name} is a member: it cannot be archived.",
        status="member",
        detail="not this one",
        current_status="member",
    )


@router.post("/knock")
@problems(429)
async def knock() -> None:
    raise TooManyRequests(42)


@router.get("/outage")
async def outage() -> None:
    raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")


@router.get("/outage/midway")
async def outage_midway() -> None:
    # What asyncpg raises when PostgreSQL goes away in the middle of a statement.
    raise asyncpg.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    )


def checks(_: FastAPI) -> Mapping[str, ReadinessCheck]:
    async def ok() -> None:
        return None

    async def down() -> None:
        raise RuntimeError("connection refused")

    return {"database": ok, "kafka": down}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(router, checks)
    async with client_of(app) as client:
        yield client


AGENCY = {"Authorization": "Bearer agency-token"}


async def test_a_valid_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", json={"name": "a", "workstations": 2}, headers=AGENCY
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"]


async def test_the_request_id_and_correlation_id_are_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "r1", "X-Correlation-ID": "c1"})
    assert response.headers["x-request-id"] == "r1"
    assert response.headers["x-correlation-id"] == "c1"


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "needs a token of the agency role"),
        ({"Authorization": "Bearer nope"}, 401, "not valid"),
        ({"Authorization": "Bearer copil-token"}, 403, "reserved to the agency role"),
    ],
)
async def test_tokens_and_roles(
    client: httpx.AsyncClient, headers: dict[str, str], status: int, detail: str
) -> None:
    response = await client.post(
        "/api/v1/things", json={"name": "a", "workstations": 1}, headers=headers
    )
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert detail in response.json()["detail"]
    # A refusal does not echo the path (it can name a person).
    assert "instance" not in response.json()


async def test_invalid_input_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", json={"name": "a", "workstations": -1}, headers=AGENCY
    )
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "workstations" in body["detail"]
    assert body["errors"][0]["field"] == "workstations"


async def test_malformed_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things",
        content=b"{not json",
        headers={**AGENCY, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_domain_conflicts_are_problems(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", json={"name": "taken", "workstations": 1}, headers=AGENCY
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "A thing named 'taken' exists already."


def test_extension_members_may_be_named_like_the_problems_own_arguments() -> None:
    problem = Conflict("x", status="member", title="t", current_status="member")
    assert (problem.status, problem.title, problem.detail) == (409, "Conflict", "x")
    assert problem.extra == {"status": "member", "title": "t", "current_status": "member"}
    assert Problem(418, "Teapot", "short and stout", status="kettle").status == 418


def test_extension_members_never_replace_the_standard_members() -> None:
    response = problem_response(
        409, "Conflict", "x", None, status="member", type="t", current_status="member"
    )
    assert response.status_code == 409
    assert json.loads(bytes(response.body)) == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "x",
        "current_status": "member",
    }


async def test_a_conflict_with_a_status_extension_keeps_the_http_status(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/things/t1/archive", headers=AGENCY)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == 409
    assert body["title"] == "Conflict"
    assert body["detail"] == "The thing t1 is a member: it cannot be archived."
    assert body["instance"] == "/api/v1/things/t1/archive"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["current_status"] == "member"


async def test_bodies_are_size_limited(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", json={"name": "a" * 2000, "workstations": 1}, headers=AGENCY
    )
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]


async def test_unknown_paths_are_problems(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_readiness_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "kafka": "unavailable: connection refused",
    }
    assert (await client.get("/health")).status_code == 200
    metrics = await client.get("/metrics")
    assert "crnt_http_request_duration_seconds" in metrics.text


async def test_a_rate_limit_is_a_429_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/knock")
    assert response.status_code == 429
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "42"
    body = response.json()
    assert body["retry_after"] == 42
    assert body["detail"] == "Too many requests of this kind from you: retry in 42 s."


@pytest.mark.parametrize("path", ["/api/v1/outage", "/api/v1/outage/midway"])
async def test_an_unreachable_database_is_a_503_to_retry(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "5"
    assert "retry in 5 s" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        # A role, a JSON body, a write that declares nothing.
        ("post", "/api/v1/things", [400, 401, 403, 409, 413, 422, 500, 503]),
        # A path parameter (a plain string: nothing to refuse), no body.
        ("post", "/api/v1/things/{name}/archive", [401, 403, 404, 409, 500, 503]),
        # What the endpoint declares instead of a conflict.
        ("post", "/api/v1/knock", [429, 500, 503]),
        ("get", "/api/v1/outage", [500, 503]),
        ("get", "/health", [500]),
        ("get", "/ready", [500, 503]),
    ],
)
async def test_each_operation_documents_the_problems_its_route_can_answer(
    client: httpx.AsyncClient, method: str, path: str, statuses: list[int]
) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"][path][method]["responses"]
    assert [int(status) for status in responses if int(status) >= 400] == statuses
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for status in statuses:
        content = responses[str(status)]["content"]
        if (path, status) == ("/ready", 503):
            assert PROBLEM_JSON not in content  # the readiness body, as documented
        else:
            assert content[PROBLEM_JSON] == problem


def test_a_rate_limit_asks_to_wait_at_least_a_second() -> None:
    assert TooManyRequests(0).retry_after == 1


def _request(peer: str, forwarded: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 4321), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.7", [], (), "203.0.113.7"),
        # An untrusted peer's header is not believed.
        ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),
        # The web front end names the client.
        ("10.0.0.2", ["198.51.100.1"], ("10.0.0.2",), "198.51.100.1"),
        # A client that writes the header itself only prepends to it.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], ("10.0.0.2",), "198.51.100.1"),
        # Through two trusted hops (a load balancer, then the web).
        ("10.0.0.2", ["198.51.100.1", "10.0.0.9"], ("10.0.0.2", "10.0.0.9"), "198.51.100.1"),
        ("10.0.0.2", [], ("10.0.0.2",), "10.0.0.2"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(
    peer: str, forwarded: list[str], trusted: tuple[str, ...], client: str
) -> None:
    assert client_address(_request(peer, forwarded), trusted) == client


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
    ],
)
def test_ipv6_clients_are_counted_per_64(address: str, bucket: str) -> None:
    assert client_bucket(address) == bucket
