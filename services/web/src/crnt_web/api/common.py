"""What every route module uses: the backend, the pages, forms read into API bodies."""

from datetime import date
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from crnt_web.backend import Backend
from crnt_web.pages import Pages

PAGE_SIZE = 50


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


def values_of(form: FormData) -> dict[str, Any]:
    """A form's values, to fill the fields again when the API refuses them."""
    return {key: form.get(key) for key in form if key != "csrf_token"}


def page_offset(page: int | None) -> int:
    return max((page or 1) - 1, 0) * PAGE_SIZE


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
