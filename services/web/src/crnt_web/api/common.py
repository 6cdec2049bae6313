"""What every route module uses: the backend, the pages, who may call, forms read into API
bodies, the answers to a form (a redirection, or the page again with the API's refusal)."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from crnt_web.backend import ApiError, Backend
from crnt_web.pages import Pages, notify
from crnt_web.session import Person, require

PAGE_SIZE = 50

#: The signed-in person, who must hold the role (else the page says who may see it).
Agency = Annotated[Person, Depends(require("agency"))]
Animator = Annotated[Person, Depends(require("animator"))]
Copil = Annotated[Person, Depends(require("copil"))]
#: A list's page (``?page=``) and a year (``?annee=``), as the links give them.
Page = Annotated[int | None, Query(ge=1, le=10_000)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def this_year() -> int:
    return date.today().year


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def listed(form: FormData, name: str) -> list[str]:
    return [value.strip() for value in form.getlist(name) if isinstance(value, str) and value]


def integer(form: FormData, name: str) -> int | str | None:
    """An integer field: the number, or the text as typed (the API says why it is wrong)."""
    value = text(form, name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def decimal(form: FormData, name: str) -> str:
    """An amount as typed in French (``1 250,50``), as the API reads it (``1250.50``)."""
    return text(form, name).replace(",", ".").replace(" ", "").replace("\u202f", "")


def values_of(form: FormData) -> dict[str, Any]:
    """A form's values, to fill the fields again when the API refuses them."""
    return {key: form.get(key) for key in form if key != "csrf_token"}


def refused(error: ApiError, form: FormData) -> dict[str, Any]:
    """What a page shows again when the API refused its form: the fields' messages, the
    sentence and the values as typed."""
    return {"errors": error.fields, "detail": error.detail, "values": values_of(form)}


def refusal(error: ApiError) -> str:
    """The API's refusal in one sentence: its fields' messages, or its detail."""
    return " ".join(error.fields.values()) or error.detail


def back(path: str) -> RedirectResponse:
    """After a form: to the page that shows what it did (303: the browser GETs it)."""
    return RedirectResponse(path, status_code=303)


def page_offset(page: int | None) -> int:
    return max((page or 1) - 1, 0) * PAGE_SIZE


async def post_reason(request: Request, person: Person, path: str) -> ApiError | None:
    """The form's reason posted to the registry's ``path`` (a decision that says why): the
    registry's refusal, if it refused."""
    form = await request.form()
    try:
        await backend(request).post(
            "registry", path, token=person.token, json={"reason": text(form, "reason")}
        )
    except ApiError as error:
        return error
    return None


async def act(request: Request, call: Awaitable[Any], *, done: str, then: str) -> Response:
    """A form's call to a service (``call``): the next page, ``then``, tells ``done`` or the
    service's refusal."""
    try:
        await call
    except ApiError as error:
        notify(request, error.detail, "error")
    else:
        notify(request, done)
    return back(then)


async def change_action(
    request: Request,
    person: Person,
    method: str,
    action_id: str,
    sub_path: str,
    body: dict[str, Any],
    *,
    space: str,
    done: Callable[[dict[str, Any]], str],
    refused: Callable[[ApiError], str] = lambda error: error.detail,
    failed_to: str,
) -> Response:
    """An action of the programme changed from a page (``method`` on the programme's
    ``/actions/{action_id}<sub_path>`` with ``body``, as ``person``): the notice of what it did
    and back to the action in ``space``'s programme; or the API's refusal and back to
    ``failed_to``."""
    path = f"/actions/{action_id}{sub_path}"
    try:
        response = await backend(request).request(
            method, "programme", path, token=person.token, json=body
        )
    except ApiError as error:
        notify(request, refused(error), "error")
        return back(failed_to)
    action: dict[str, Any] = response.json()
    notify(request, done(action))
    return back(f"{space}/programme?annee={action['year']}#action-{action_id}")


async def listed_page(
    request: Request, person: Person, service: Any, path: str, statut: str, page: int | None
) -> dict[str, Any]:
    """One page of a list that the agency filters by state (applications, deliveries)."""
    params = {"status": statut, "limit": PAGE_SIZE, "offset": page_offset(page)}
    found: dict[str, Any] = await backend(request).get(
        service, path, token=person.token, params=params
    )
    return found


async def all_pages(
    request: Request, service: Any, path: str, *, token: str | None = None, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a paged list (``items``, ``total``), 500 at a time."""
    items: list[dict[str, Any]] = []
    while True:
        page = await backend(request).get(
            service, path, token=token, params={**params, "limit": 500, "offset": len(items)}
        )
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items
