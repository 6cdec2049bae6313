"""The budget of the year as the agency sets it: its configuration (envelope, keys, funders,
network lines), the versions it gives and their differences, the EPCIs' votes, the closing of
the year."""

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from crnt_web.api.agency.budget_form import (
    FUNDER_ROWS,
    LINE_ROWS,
    base_options,
    budget_body,
    budget_values,
    diff,
)
from crnt_web.api.common import (
    Agency,
    Year,
    act,
    back,
    backend,
    decimal,
    integer,
    optional,
    pages,
    text,
    this_year,
    values_of,
)
from crnt_web.api.public import epcis
from crnt_web.backend import ApiError
from crnt_web.pages import notify

router = APIRouter(prefix="/agence")


@router.get("/budget", response_class=HTMLResponse)
async def budget(
    request: Request,
    person: Agency,
    annee: Year = None,
    de: Annotated[int | None, Query(ge=1)] = None,
    a: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    year = annee or this_year()
    api = backend(request)
    current = await api.optional("budget", f"/budgets/{year}")
    compared = None
    if current and current.get("version") and de and a:
        compared = diff(
            await api.get("budget", f"/budgets/{year}/versions/{de}"),
            await api.get("budget", f"/budgets/{year}/versions/{a}"),
        )
    context = await _budget_context(request, year, current)
    context.update(diff=compared, values=budget_values(current))
    return pages(request).response(request, "agency/budget.html", context)


async def _budget_context(
    request: Request, year: int, current: dict[str, Any] | None
) -> dict[str, Any]:
    api = backend(request)
    versions = (await api.get("budget", f"/budgets/{year}/versions"))["items"] if current else []
    territories = sorted(await epcis(request), key=lambda e: str(e["name"]).casefold())
    configuration = (current or {}).get("configuration") or {}
    return {
        "year": year,
        "budget": current,
        "versions": versions,
        "diff": None,
        "epci_options": [(e["siren"], e["name"]) for e in territories],
        "base_options": base_options(configuration.get("funders") or []),
        "funder_rows": FUNDER_ROWS,
        "line_rows": max(LINE_ROWS, len(configuration.get("network_lines") or []) + 1),
        "participation": {},
        "participation_errors": {},
    }


@router.post("/budget", response_class=HTMLResponse)
async def configure_budget(request: Request, person: Agency) -> Response:
    form = await request.form()
    year = _year(form)
    try:
        body = budget_body(form)
    except (ValueError, json.JSONDecodeError):
        body = None
    if body is None:
        notify(request, "Le formulaire n’est pas lisible : rechargez la page.", "error")
        return back(f"/agence/budget?annee={year}")
    try:
        await backend(request).put("budget", f"/budgets/{year}", token=person.token, json=body)
    except ApiError as error:
        current = await backend(request).optional("budget", f"/budgets/{year}")
        context = await _budget_context(request, year, current)
        context.update(
            values=values_of(form),
            errors={k.replace("centre_key.", ""): v for k, v in error.fields.items()},
            detail=error.detail,
        )
        return pages(request).response(request, "agency/budget.html", context, status_code=400)
    notify(
        request,
        f"Le budget {year} est enregistré : une nouvelle version du plan de financement,"
        " des quote-parts et des dotations est calculée.",
    )
    return back(f"/agence/budget?annee={year}")


def _year(form: FormData) -> int:
    year = integer(form, "year")
    return year if isinstance(year, int) and 2000 <= year <= 2100 else this_year()


@router.post("/budget/{year}/participations", response_class=HTMLResponse)
async def record_participation(request: Request, person: Agency, year: int) -> Response:
    """An EPCI's council voted its participation: the amount, the deliberation's number and date."""
    form = await request.form()
    siren = text(form, "siren")
    body = {
        "amount": decimal(form, "amount"),
        "deliberation_number": text(form, "deliberation_number"),
        "deliberation_date": optional(form, "deliberation_date"),
    }
    api = backend(request)
    try:
        if not re.fullmatch(r"\d{9}", siren):
            raise ApiError(422, "Choisissez l’intercommunalité.", {"siren": "Choisissez-la."})
        await api.put(
            "budget", f"/budgets/{year}/participations/{siren}", token=person.token, json=body
        )
    except ApiError as error:
        current = await api.optional("budget", f"/budgets/{year}")
        context = await _budget_context(request, year, current)
        context.update(
            values=budget_values(current),
            participation=values_of(form),
            participation_errors=error.fields,
            participation_detail=error.detail,
        )
        return pages(request).response(request, "agency/budget.html", context, status_code=400)
    names = {e["siren"]: e["name"] for e in await epcis(request)}
    notify(
        request,
        f"La participation votée par {names.get(siren, siren)} est enregistrée :"
        " la prochaine version la compare au montant demandé.",
    )
    return back(f"/agence/budget?annee={year}#participations")


@router.post("/budget/{year}/cloture")
async def close_year(request: Request, person: Agency, year: int) -> Response:
    form = await request.form()
    if text(form, "confirm") != "oui":
        notify(
            request,
            f"L’exercice {year} n’est pas clos : cochez la case de confirmation.",
            "error",
        )
        return back(f"/agence/budget?annee={year}#cloture")
    return await act(
        request,
        backend(request).post("budget", f"/budgets/{year}/close", token=person.token),
        done=f"L’exercice {year} est clos : plus rien ne recalcule son budget.",
        then=f"/agence/budget?annee={year}",
    )
