"""The documents every service serves about itself, read from the apps (no I/O: neither
route touches the database): the AsyncAPI document of its events and its page, and an
OpenAPI document whose every operation lists its problems as ``application/problem+json``."""

import json
from collections.abc import AsyncIterator, Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from crnt_budget.app import create_app as budget_app
from crnt_budget.settings import BudgetSettings
from crnt_identity.app import create_app as identity_app
from crnt_identity.settings import IdentitySettings
from crnt_notifications.app import create_app as notifications_app
from crnt_notifications.settings import NotificationsSettings
from crnt_programme.app import create_app as programme_app
from crnt_programme.settings import ProgrammeSettings
from crnt_registry.app import create_app as registry_app
from crnt_registry.settings import RegistrySettings
from crnt_shared.contracts.budget import BUDGET_EVENTS
from crnt_shared.contracts.identity import AUTH_EVENTS, IDENTITY_EVENTS
from crnt_shared.contracts.notifications import NOTIFICATIONS_EVENTS, AddressConfirmed
from crnt_shared.contracts.programme import PROGRAMME_EVENTS, ProgrammeValidated
from crnt_shared.contracts.registry import REGISTRY_EVENTS, MembershipApproved
from crnt_shared.events import Event
from crnt_shared.http import PROBLEM_JSON
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN
from fastapi import FastAPI

API = "/api/v1"
#: The AsyncAPI specification's own JSON schema of a 3.0.0 document (npm: @asyncapi/specs).
ASYNCAPI_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"
)
SETTINGS: dict[str, Any] = {
    "_env_file": None,
    "database_url": "postgresql://crnt@127.0.0.1:1/unused",
    "kafka_bootstrap_servers": "127.0.0.1:1",
    "agency_token": AGENCY_TOKEN,
    "copil_token": COPIL_TOKEN,
    "env": "test",
}
APPS: dict[str, Callable[[], FastAPI]] = {
    "registry": lambda: registry_app(RegistrySettings(**SETTINGS)),
    "programme": lambda: programme_app(ProgrammeSettings(**SETTINGS)),
    "budget": lambda: budget_app(BudgetSettings(**SETTINGS)),
    "notifications": lambda: notifications_app(NotificationsSettings(**SETTINGS)),
    "identity": lambda: identity_app(IdentitySettings(**SETTINGS)),
}
#: What each service publishes, and some of what it reads.
PUBLISHED: dict[str, tuple[type[Event], ...]] = {
    "registry": REGISTRY_EVENTS,
    "programme": PROGRAMME_EVENTS,
    "budget": BUDGET_EVENTS,
    "notifications": NOTIFICATIONS_EVENTS,
    "identity": IDENTITY_EVENTS,
}
READ: dict[str, tuple[type[Event], ...]] = {
    "registry": (AddressConfirmed, *AUTH_EVENTS),
    "programme": (MembershipApproved, *AUTH_EVENTS),
    "budget": (MembershipApproved, ProgrammeValidated, *AUTH_EVENTS),
    "notifications": (MembershipApproved, ProgrammeValidated, *AUTH_EVENTS),
    "identity": (MembershipApproved,),
}
OPERATIONS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(params=list(APPS))
async def service(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    name: str = request.param
    # No lifespan: the documents are built from the code, without the database or Kafka.
    transport = httpx.ASGITransport(app=APPS[name]())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield name, client


async def _served(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """The service's answer to ``GET path``, which it serves (200)."""
    response = await client.get(path)
    assert response.status_code == 200
    return response


def _operations(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [op for op in document["operations"].values() if op["action"] == action]


def _types(document: dict[str, Any], operations: list[dict[str, Any]]) -> set[str]:
    messages = document["components"]["messages"]
    return {
        messages[reference["$ref"].rsplit("/", 1)[1]]["name"]
        for operation in operations
        for reference in operation["messages"]
    }


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def _resolves(document: dict[str, Any], reference: str) -> bool:
    found: Any = document
    for part in reference.removeprefix("#/").split("/"):
        if not isinstance(found, dict) or part not in found:
            return False
        found = found[part]
    return True


async def test_every_service_serves_the_asyncapi_document_of_its_events(
    service: tuple[str, httpx.AsyncClient],
) -> None:
    name, client = service
    document = (await _served(client, f"{API}/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    if not ASYNCAPI_SCHEMA.exists():
        pytest.fail(f"the AsyncAPI schema is missing ({ASYNCAPI_SCHEMA}): run `make install`")
    specification = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    errors = [
        error.message for error in jsonschema.Draft7Validator(specification).iter_errors(document)
    ]
    assert not errors
    published = {contract.event_type() for contract in PUBLISHED[name]}
    assert _types(document, _operations(document, "send")) >= published
    assert _types(document, _operations(document, "receive")) >= {
        contract.event_type() for contract in READ[name]
    }
    for contract in PUBLISHED[name]:
        payload = document["components"]["schemas"][contract.__name__]
        assert payload["properties"]["type"]["const"] == contract.event_type()
        assert {"specversion", "id", "source", "subject", "time", "data"} <= set(
            payload["properties"]
        )
    dangling = [ref for ref in _references(document) if not _resolves(document, ref)]
    assert not dangling


class _Page(HTMLParser):
    """Tags that stay open or close what is not open, duplicate ids, outside resources."""

    VOID = frozenset({"meta", "link", "br", "wbr", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "link", "img", "iframe"):
            self.problems.append(f"<{tag}>: the page loads nothing")
        if (href := values.get("href")) and href.startswith("#"):
            self.anchors.add(href[1:])
        if (href or "").startswith(("http:", "https:", "//")):
            self.problems.append(f"an outside link: {href}")
        if (identifier := values.get("id")) is not None:
            if identifier in self.ids:
                self.problems.append(f"id {identifier} twice")
            self.ids.add(identifier)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes what is not open")


async def test_every_service_serves_a_page_of_its_events(
    service: tuple[str, httpx.AsyncClient],
) -> None:
    name, client = service
    response = await _served(client, f"{API}/asyncapi")
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page
    assert f"<h1>Les événements du service {name}</h1>" in page
    for contract in PUBLISHED[name]:
        assert f"<code>{contract.event_type()}</code>" in page
    parser = _Page()
    parser.feed(page)
    assert parser.open == []
    assert parser.problems == []
    assert parser.anchors <= parser.ids
    openapi = (await client.get("/openapi.json")).json()
    assert openapi["externalDocs"]["url"] == f"{API}/asyncapi"
    assert f"[{API}/asyncapi]" in openapi["info"]["description"]


async def test_every_operation_lists_its_problems(
    service: tuple[str, httpx.AsyncClient],
) -> None:
    _, client = service
    document = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            responses = operation["responses"]
            problems = {
                int(status)
                for status, response in responses.items()
                if int(status) >= 400
                and response.get("content", {}).get(PROBLEM_JSON, {}).get("schema")
                == {"$ref": "#/components/schemas/Problem"}
            }
            expected = {500}
            if path.startswith(API) and not path.startswith(f"{API}/asyncapi"):
                expected.add(503)  # it reaches the database
            if operation.get("security"):
                expected.add(401)
            if "{" in path:
                expected.add(404)
            if "requestBody" in operation:
                expected |= {413, 422}
            if not expected <= problems or not problems:
                missing.append(f"{method.upper()} {path}: {sorted(expected - problems)}")
    assert not missing
