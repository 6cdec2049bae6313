"""The steering committee's page: the submitted programme, its totals by axis and its actions,
and its validation with the decision's date and reference."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import Copil, Year, back, backend, optional, pages, refused, this_year
from crnt_web.api.public import axis_bars
from crnt_web.backend import ApiError
from crnt_web.pages import notify
from crnt_web.session import Person

router = APIRouter(prefix="/copil")


async def _page(
    request: Request, person: Person, year: int, status_code: int = 200, **extra: object
) -> Response:
    whole = await backend(request).optional("programme", f"/programmes/{year}", token=person.token)
    context = {
        "year": year,
        "programme": whole,
        "axis_totals": axis_bars(whole["totals_by_axis"]) if whole else [],
        **extra,
    }
    return pages(request).response(
        request, "copil/programme.html", context, status_code=status_code
    )


@router.get("", response_class=HTMLResponse)
async def programme(request: Request, person: Copil, annee: Year = None) -> Response:
    return await _page(request, person, annee or this_year())


@router.post("/{year}/valider", response_class=HTMLResponse)
async def validate(request: Request, person: Copil, year: int) -> Response:
    form = await request.form()
    body = {
        "deciding_body": optional(form, "deciding_body") or "Comité de pilotage",
        "decided_on": optional(form, "decided_on"),
        "decision_reference": optional(form, "decision_reference"),
    }
    try:
        await backend(request).post(
            "programme", f"/programmes/{year}/validate", token=person.token, json=body
        )
    except ApiError as error:
        return await _page(request, person, year, 400, **refused(error, form))
    notify(
        request, f"Le programme {year} est validé ; les animateurs et animatrices en sont informés."
    )
    return back(f"/copil?annee={year}")
