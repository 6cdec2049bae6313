"""The programme of the year as the agency runs it: submitted to the COPIL or opened again,
its actions moved on (planned, started, done, cancelled) and corrected (nature, cost)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import (
    Agency,
    Year,
    act,
    back,
    backend,
    change_action,
    decimal,
    optional,
    pages,
    refusal,
    text,
    this_year,
)
from crnt_web.formatting import ACTION, NATURES, euros

router = APIRouter(prefix="/agence")

#: The next states an action can take from the agency's page, in the order they come.
ACTION_MOVES = {
    "proposed": ("planned", "cancelled"),
    "planned": ("in_progress", "cancelled"),
    "in_progress": ("done", "cancelled"),
}


@router.get("/programme", response_class=HTMLResponse)
async def programme(request: Request, person: Agency, annee: Year = None) -> Response:
    year = annee or this_year()
    api = backend(request)
    report = await api.optional("programme", f"/programmes/{year}/report")
    members = await api.get("programme", "/centres", params={"status": "member"})
    context = {
        "year": year,
        "report": report,
        "moves": ACTION_MOVES,
        "action_labels": ACTION,
        "centres": sorted(members, key=lambda c: c["name"].casefold()),
    }
    return pages(request).response(request, "agency/programme.html", context)


@router.post("/programme/{year}/{step}")
async def programme_step(request: Request, person: Agency, year: int, step: str) -> Response:
    if step not in ("submit", "amend"):
        return back(f"/agence/programme?annee={year}")
    return await act(
        request,
        backend(request).post("programme", f"/programmes/{year}/{step}", token=person.token),
        done="Le programme est soumis au comité de pilotage."
        if step == "submit"
        else "Le programme est ouvert à la modification.",
        then=f"/agence/programme?annee={year}",
    )


@router.post("/actions/{action_id}/statut")
async def action_status(request: Request, person: Agency, action_id: str) -> Response:
    form = await request.form()
    status = text(form, "status")
    body = {"status": status, "reason": optional(form, "reason")}
    return await change_action(
        request,
        person,
        "POST",
        action_id,
        "/status",
        body,
        space="/agence",
        done=lambda action: f"« {action['title']} » : {ACTION.get(status, status).lower()}.",
        failed_to=f"/agence/programme?annee={text(form, 'year') or this_year()}",
    )


@router.post("/actions/{action_id}/modifier")
async def edit_action(request: Request, person: Agency, action_id: str) -> Response:
    """The agency corrects an action's nature (fonctionnement or investissement) and cost."""
    form = await request.form()
    changes: dict[str, Any] = {}
    if nature := optional(form, "nature"):
        changes["nature"] = nature
    if cost := decimal(form, "estimated_cost"):
        changes["estimated_cost"] = cost

    def done(action: dict[str, Any]) -> str:
        nature = NATURES.get(str(action.get("nature")), "nature à préciser").lower()
        return (
            f"« {action['title']} » est modifiée : {nature},"
            f" {euros(action['estimated_cost'])} prévus."
        )

    return await change_action(
        request,
        person,
        "PATCH",
        action_id,
        "",
        changes,
        space="/agence",
        done=done,
        refused=lambda error: f"L’action n’est pas modifiée : {refusal(error)}",
        failed_to=f"/agence/programme#action-{action_id}",
    )
