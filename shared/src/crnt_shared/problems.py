"""The problems (RFC 9457, ``application/problem+json``) each operation of a service's OpenAPI
document lists, derived once from its FastAPI route.

What a route is tells most of them; what its own code raises beyond that, the endpoint
declares with :func:`problems` (a dependency too: the token checks declare 401 and 403):

======  ====================================================================================
status  documented on
======  ====================================================================================
400     a JSON body (bytes that are not JSON in UTF-8)
401     a dependency that reads a bearer token (required, or optional but then checked)
403     a dependency that requires a role
404     a path parameter: what it names may not exist
409     a write (POST, PUT, PATCH, DELETE) whose endpoint declares nothing: a rule of the
        domain may refuse it in the current state
413     a request body
422     a JSON body, or a parameter that validation can refuse (typed, bounded or required)
503     every operation under ``/api/v1``: it reaches the database, whose outage is a 503
500     every operation
======  ====================================================================================

Anything else is declared: a signed link's 400, a 404 without a path parameter, a read's
409, 415, 429, or ``@problems()`` on a write that has nothing to conflict with.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/v1"

#: An RFC 9457 problem as :func:`crnt_shared.http.problem_response` writes it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem: `detail` is a sentence to act on.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "For invalid input: each field and what is wrong with it (`field`,"
            " `message`), or each row of a file (`line`, `reason`).",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "line": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Bad request: the body cannot be read, or a signed link or token is not valid",
    401: "No bearer token where one is needed, or one that is not valid",
    403: "The token's person or role may not do this",
    404: "Not found: what the path names does not exist",
    409: "Conflicts with the current state: a rule refuses it now",
    410: "Gone: it expired",
    413: "The body is too large",
    415: "Unsupported media type: send the body as documented",
    422: "Invalid input: `errors` says which field and why",
    429: "Too many requests: retry after `Retry-After` seconds",
    500: "Internal error: retry later, and quote the request id if it persists",
    503: "A dependency (the database) is unavailable: retry after `Retry-After` seconds",
}

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ATTRIBUTE = "__crnt_problems__"
_PLAIN = (str, str | None)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Declared:
    statuses: frozenset[int]
    uses_database: bool


def problems(*statuses: int, uses_database: bool = True) -> Callable[[F], F]:
    """Declare the problems an endpoint (or a dependency) answers itself, beyond those its
    route shows: ``@problems(429)`` on a rate-limited route, ``@problems()`` on a write that
    has no state to conflict with, ``uses_database=False`` on one that never reaches it."""
    declared = Declared(frozenset(statuses), uses_database)
    unknown = declared.statuses - DESCRIPTIONS.keys()
    if unknown:
        raise ValueError(f"no description for the statuses {sorted(unknown)}")

    def mark(function: F) -> F:
        setattr(function, _ATTRIBUTE, declared)
        return function

    return mark


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    """A route's dependant and those of its dependencies, all the way down."""
    yield dependant
    for dependency in dependant.dependencies:
        yield from _tree(dependency)


def _refusable(field: Any, *, path: bool = False) -> bool:
    """Whether validation can refuse a parameter: typed, bounded, or required (a path's
    parameter is always there)."""
    info = field.field_info
    required = info.is_required() and not path
    return info.annotation not in _PLAIN or bool(info.metadata) or required


def route_problems(path: str, route: APIRoute) -> set[int]:
    """The problem statuses of a route served at ``path``, as this module's table says."""
    statuses = {500}
    own: Declared | None = getattr(route.endpoint, _ATTRIBUTE, None)
    tree = list(_tree(route.dependant))
    for dependant in tree[1:]:
        marked: Declared | None = getattr(dependant.call, _ATTRIBUTE, None)
        if marked is not None:
            statuses |= marked.statuses
    if any(dependant.body_params for dependant in tree):
        statuses |= {400, 413, 422}
    paths = [field for dependant in tree for field in dependant.path_params]
    if paths:
        statuses.add(404)
    queried = [
        field
        for dependant in tree
        for field in (*dependant.query_params, *dependant.header_params, *dependant.cookie_params)
    ]
    if any(_refusable(field) for field in queried) or any(
        _refusable(field, path=True) for field in paths
    ):
        statuses.add(422)
    if own is not None:
        statuses |= own.statuses
    elif (route.methods or set()) & WRITES:
        statuses.add(409)
    if path.startswith(API_PREFIX) and (own is None or own.uses_database):
        statuses.add(503)
    return statuses


_OPERATIONS = frozenset({"get", "put", "post", "patch", "delete"})


def document_problems(
    document: dict[str, Any], routes: Iterable[tuple[str, APIRoute]]
) -> dict[str, Any]:
    """Every operation of ``document`` lists its problems (:func:`route_problems`, from the
    ``(path, route)`` of the app) with the problem schema; FastAPI's own 422 (another shape,
    plain JSON) goes. What a route documents itself stays beside (a page's HTML, the
    readiness body)."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    derived = {
        (path, method.lower()): route_problems(path, route)
        for path, route in routes
        for method in route.methods or ()
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _OPERATIONS:
                continue
            statuses = set(derived.get((path, method), {500}))
            if "requestBody" in operation:
                statuses.add(413)
            responses: dict[str, Any] = operation.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json")
            if "HTTPValidationError" in str(fastapi_422):
                del responses["422"]
            for status, response in responses.items():
                content = response.get("content")
                # Declared as a problem, or with no content at all: its schema is the problem's.
                problem_like = not content or PROBLEM_JSON in content
                if status.isdigit() and int(status) >= 400 and problem_like:
                    statuses.add(int(status))
            for code in sorted(statuses):
                documented = responses.setdefault(str(code), {})
                documented.setdefault("description", DESCRIPTIONS.get(code, "Error"))
                documented.setdefault("content", {})[PROBLEM_JSON] = problem
            operation["responses"] = dict(sorted(responses.items()))
    return document
