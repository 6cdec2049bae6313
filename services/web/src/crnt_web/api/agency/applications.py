"""The agency's dashboard and the applications to join: listed by state, read, approved or
refused with a reason."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import (
    Agency,
    Page,
    back,
    backend,
    listed_page,
    pages,
    post_reason,
    this_year,
)
from crnt_web.pages import notify

router = APIRouter(prefix="/agence")


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, person: Agency) -> Response:
    api, year = backend(request), this_year()
    pending = await api.get(
        "registry", "/applications", token=person.token, params={"status": "pending", "limit": 5}
    )
    failed = await api.get(
        "notifications",
        "/deliveries",
        token=person.token,
        params={"status": "failed", "limit": 5},
    )
    budget = await api.optional("budget", f"/budgets/{year}")
    programme = await api.optional("programme", f"/programmes/{year}")
    context = {
        "year": year,
        "pending": pending,
        "failed": failed,
        "budget": budget,
        "programme": programme,
    }
    return pages(request).response(request, "agency/dashboard.html", context)


@router.get("/demandes", response_class=HTMLResponse)
async def applications(
    request: Request,
    person: Agency,
    statut: Annotated[str, Query(pattern="^(pending|approved|rejected|)$")] = "pending",
    page: Page = None,
) -> Response:
    found = await listed_page(request, person, "registry", "/applications", statut, page)
    context = {"applications": found, "statut": statut}
    return pages(request).response(request, "agency/applications.html", context)


@router.get("/demandes/{application_id}", response_class=HTMLResponse)
async def application(request: Request, person: Agency, application_id: str) -> Response:
    found = await backend(request).get(
        "registry", f"/applications/{application_id}", token=person.token
    )
    return pages(request).response(request, "agency/application.html", {"application": found})


@router.post("/demandes/{application_id}/approuver")
async def approve(request: Request, person: Agency, application_id: str) -> Response:
    decided = await backend(request).post(
        "registry", f"/applications/{application_id}/approve", token=person.token, json={}
    )
    notify(
        request,
        f"« {decided['centre']['nom']} » est membre du réseau : la bienvenue lui est envoyée.",
    )
    return back(f"/agence/lieux/{decided['centre_id']}")


@router.post("/demandes/{application_id}/refuser", response_class=HTMLResponse)
async def reject(request: Request, person: Agency, application_id: str) -> Response:
    error = await post_reason(request, person, f"/applications/{application_id}/reject")
    if error is not None:
        found = await backend(request).get(
            "registry", f"/applications/{application_id}", token=person.token
        )
        context = {"application": found, "errors": error.fields, "detail": error.detail}
        return pages(request).response(request, "agency/application.html", context, status_code=400)
    notify(request, "La demande est refusée ; la raison est envoyée au lieu.")
    return back("/agence/demandes")
