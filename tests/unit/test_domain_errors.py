"""Domain errors become problems, mapped once for every service, and the module-level auth
dependencies use the runtime's authenticator (an app with a few routes, no I/O)."""

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated

import httpx
import pytest
from crnt_shared import errors
from crnt_shared.auth import OPTIONAL_ACTOR, Actor, Authenticator, KeyRing, Role, require
from crnt_shared.http import PROBLEM_JSON
from fastapi import APIRouter

from tests.unit.apps import app_with, client_of

router = APIRouter()
AGENCY = require(Role.AGENCY)

RAISED: dict[str, errors.DomainError] = {
    "missing": errors.NotFound("There is no centre 42: list them."),
    "refused": errors.Forbidden("Only the animators of a member centre act for it."),
    "invalid": errors.Invalid(
        "The request is not valid. nom: too short.",
        errors=[{"field": "nom", "message": "too short"}],
    ),
    "taken": errors.Conflict("Centre 7 holds that pivot already.", centre_id="7"),
    "rule": errors.RuleViolation("The centre is pending", current_status="pending"),
}


@router.post("/errors/{name}", dependencies=[AGENCY])
async def fail(name: str) -> None:
    raise RAISED[name]


@router.get("/who")
async def who(actor: Annotated[Actor | None, OPTIONAL_ACTOR]) -> dict[str, str | None]:
    return {"label": None if actor is None else actor.label}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(router)
    authenticator = Authenticator(service_tokens={Role.AGENCY: "agency-token"}, keys=KeyRing({}))
    app.state.runtime = SimpleNamespace(auth=authenticator)
    async with client_of(app) as client:
        yield client


AGENCY_HEADERS = {"Authorization": "Bearer agency-token"}


@pytest.mark.parametrize(
    ("name", "status", "title", "detail", "members"),
    [
        ("missing", 404, "Not found", "There is no centre 42: list them.", {}),
        ("refused", 403, "Forbidden", "Only the animators of a member centre act for it.", {}),
        (
            "invalid",
            422,
            "Invalid input",
            "The request is not valid. nom: too short.",
            {"errors": [{"field": "nom", "message": "too short"}]},
        ),
        ("taken", 409, "Conflict", "Centre 7 holds that pivot already.", {"centre_id": "7"}),
        ("rule", 409, "Conflict", "The centre is pending.", {"current_status": "pending"}),
    ],
)
async def test_each_domain_error_is_its_problem(
    client: httpx.AsyncClient,
    name: str,
    status: int,
    title: str,
    detail: str,
    members: dict[str, object],
) -> None:
    response = await client.post(f"/api/v1/errors/{name}", headers=AGENCY_HEADERS)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["title"], body["detail"]) == (title, detail)
    assert {key: body[key] for key in members} == members


async def test_module_level_dependencies_use_the_runtimes_authenticator(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/api/v1/errors/missing")).status_code == 401
    wrong = {"Authorization": "Bearer copil-token"}
    assert (await client.post("/api/v1/errors/missing", headers=wrong)).status_code == 401
    assert (await client.get("/api/v1/who")).json() == {"label": None}
    response = await client.get("/api/v1/who", headers=AGENCY_HEADERS)
    assert response.json()["label"]
