"""The centres as the agency sees them: found by state, EPCI or words, read, edited, their
animators added or removed, their membership suspended, reinstated or withdrawn."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.centre_forms import edit_page, save_animator, save_centre
from crnt_web.api.common import Agency, all_pages, back, backend, pages, post_reason
from crnt_web.api.public import epcis
from crnt_web.formatting import MEMBERSHIP
from crnt_web.pages import notify
from crnt_web.session import Person

router = APIRouter(prefix="/agence")

#: What the agency may change in a centre's facts.
EDITABLE = (
    "nom",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "horaires",
    "telephone",
    "presentation_resume",
)
MEMBERSHIP_ACTIONS = {
    "suspendre": ("suspend", "Le lieu est suspendu."),
    "reintegrer": ("reinstate", "Le lieu est de nouveau membre."),
    "retirer": ("withdraw", "Le lieu a quitté le réseau."),
}


def _matches(centre: dict[str, Any], query: str) -> bool:
    haystack = " ".join(
        str(centre.get(key) or "") for key in ("nom", "commune", "code_postal", "pivot", "adresse")
    ).casefold()
    return all(word in haystack for word in query.casefold().split())


@router.get("/lieux", response_class=HTMLResponse)
async def centres(
    request: Request,
    person: Agency,
    statut: Annotated[str, Query(pattern="^(pending|member|rejected|suspended|withdrawn|)$")] = "",
    epci: Annotated[str, Query(max_length=9)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    found = await all_pages(
        request, "registry", "/centres", status=statut or None, epci_siren=epci or None
    )
    if q.strip():
        found = [centre for centre in found if _matches(centre, q)]
    context = {
        "centres": sorted(found, key=lambda c: c["nom"].casefold()),
        "epcis": await epcis(request),
        "statuses": MEMBERSHIP,
        "values": {"statut": statut, "epci": epci, "q": q},
    }
    template = (
        "agency/_centres.html" if request.headers.get("hx-request") else "agency/centres.html"
    )
    return pages(request).response(request, template, context)


async def _centre_page(
    request: Request, person: Person, centre_id: str, status_code: int = 200, **extra: Any
) -> Response:
    centre = await backend(request).get("registry", f"/centres/{centre_id}", token=person.token)
    context = {"centre": centre, **extra}
    return pages(request).response(request, "agency/centre.html", context, status_code=status_code)


@router.get("/lieux/{centre_id}", response_class=HTMLResponse)
async def centre(request: Request, person: Agency, centre_id: str) -> Response:
    return await _centre_page(request, person, centre_id)


@router.get("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit_centre_form(request: Request, person: Agency, centre_id: str) -> Response:
    return await edit_page(request, person, centre_id, EDITABLE)


@router.post("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit_centre(request: Request, person: Agency, centre_id: str) -> Response:
    return await save_centre(request, person, centre_id, EDITABLE, f"/agence/lieux/{centre_id}")


@router.post("/lieux/{centre_id}/animateurs", response_class=HTMLResponse)
async def add_animator(request: Request, person: Agency, centre_id: str) -> Response:
    return await save_animator(request, person, centre_id, f"/agence/lieux/{centre_id}")


@router.post("/lieux/{centre_id}/animateurs/{animator_id}/retirer")
async def remove_animator(
    request: Request, person: Agency, centre_id: str, animator_id: str
) -> Response:
    await backend(request).delete(
        "registry", f"/centres/{centre_id}/animators/{animator_id}", token=person.token
    )
    notify(request, "La personne n’anime plus ce lieu.")
    return back(f"/agence/lieux/{centre_id}")


# Last: its path would take the edit form's and the animators' (``/lieux/{id}/modifier``).
@router.post("/lieux/{centre_id}/{action}", response_class=HTMLResponse)
async def change_membership(
    request: Request, person: Agency, centre_id: str, action: str
) -> Response:
    if action not in MEMBERSHIP_ACTIONS:
        return pages(request).response(request, "errors/404.html", status_code=404)
    verb, done = MEMBERSHIP_ACTIONS[action]
    error = await post_reason(request, person, f"/centres/{centre_id}/{verb}")
    if error is not None:
        errors = {f"{action}.reason": error.fields.get("reason", "")}
        return await _centre_page(
            request, person, centre_id, 400, errors=errors, detail=error.detail
        )
    notify(request, done)
    return back(f"/agence/lieux/{centre_id}")
