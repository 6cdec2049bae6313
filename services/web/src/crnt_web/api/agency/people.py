"""The EPCIs of the territory, and the people who may sign in (added with their roles, or
removed)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import Agency, back, backend, listed, pages, refused, text
from crnt_web.api.public import epcis
from crnt_web.backend import ApiError
from crnt_web.pages import notify
from crnt_web.session import Person

router = APIRouter(prefix="/agence")


@router.get("/epci", response_class=HTMLResponse)
async def epci_list(request: Request, person: Agency) -> Response:
    return pages(request).response(request, "agency/epcis.html", {"epcis": await epcis(request)})


@router.get("/personnes", response_class=HTMLResponse)
async def people(request: Request, person: Agency) -> Response:
    return await _people_page(request, person)


async def _people_page(
    request: Request, person: Person, status_code: int = 200, **extra: Any
) -> Response:
    found = await backend(request).get("identity", "/people", token=person.token)
    items = found.get("items", found) if isinstance(found, dict) else found
    context = {"people": items, **extra}
    return pages(request).response(request, "agency/people.html", context, status_code=status_code)


@router.post("/personnes", response_class=HTMLResponse)
async def add_person(request: Request, person: Agency) -> Response:
    form = await request.form()
    body = {
        "email": text(form, "email"),
        "display_name": text(form, "display_name"),
        "roles": listed(form, "roles"),
    }
    try:
        await backend(request).post("identity", "/people", token=person.token, json=body)
    except ApiError as error:
        return await _people_page(request, person, 400, **refused(error, form))
    notify(request, f"{body['display_name'] or body['email']} peut désormais se connecter.")
    return back("/agence/personnes")


@router.post("/personnes/{person_id}/retirer")
async def remove_person(request: Request, person: Agency, person_id: str) -> Response:
    await backend(request).delete("identity", f"/people/{person_id}", token=person.token)
    notify(request, "La personne ne peut plus se connecter ; ses sessions sont closes.")
    return back("/agence/personnes")
