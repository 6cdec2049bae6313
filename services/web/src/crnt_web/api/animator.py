"""The animators' space: my centre (facts, edit, colleagues), my allocation and its history,
the programme and my centre's actions (propose, take part, progress), my mail preferences.
Every call carries the signed-in animator's token; the services check that the centre is
theirs, and so does this page."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from crnt_web.api.centre_forms import edit_page, save_animator, save_centre
from crnt_web.api.common import (
    Animator,
    Year,
    act,
    back,
    backend,
    change_action,
    decimal,
    integer,
    listed,
    optional,
    pages,
    refusal,
    refused,
    text,
    this_year,
)
from crnt_web.backend import ApiError
from crnt_web.formatting import AXES
from crnt_web.pages import notify
from crnt_web.session import Person, RoleRequired

router = APIRouter(prefix="/mon-espace")

#: What an animator may change in their centre's facts (the rest is the agency's).
ANIMATOR_EDITABLE = ("horaires", "telephone", "presentation_resume")
MAX_HISTORY = 24


def _own(person: Person, centre_id: str) -> None:
    if centre_id not in person.centres:
        raise RoleRequired("animator")


async def _allocation(request: Request, centre_id: str, year: int) -> dict[str, Any]:
    """The centre's share in the latest version, and its amount in each version."""
    api = backend(request)
    shares = await api.optional("budget", f"/budgets/{year}/shares")
    if shares is None:
        return {"current": None, "history": []}
    current = next((c for c in shares["centres"] if c["centre_id"] == centre_id), None)
    versions = (await api.get("budget", f"/budgets/{year}/versions"))["items"][-MAX_HISTORY:]
    history = []
    for summary in versions:
        version = await api.get("budget", f"/budgets/{year}/versions/{summary['version']}")
        mine = next((c for c in version["centres"] if c["centre_id"] == centre_id), None)
        history.append(
            {
                "version": summary["version"],
                "computed_at": summary["computed_at"],
                "cause": summary["cause"]["kind"],
                "amount": mine["amount"] if mine else "0.00",
                "member": bool(mine and mine["member"]),
            }
        )
    return {"current": current, "history": history, "version": shares["version"]}


@router.get("", response_class=HTMLResponse)
async def home(request: Request, person: Animator, annee: Year = None) -> Response:
    if len(person.centres) == 1:
        return back(f"/mon-espace/lieux/{person.centres[0]}")
    centres = [
        await backend(request).get("registry", f"/centres/{c}", token=person.token)
        for c in person.centres
    ]
    return pages(request).response(request, "animator/home.html", {"centres": centres})


@router.get("/lieux/{centre_id}", response_class=HTMLResponse)
async def my_centre(
    request: Request, person: Animator, centre_id: str, annee: Year = None
) -> Response:
    _own(person, centre_id)
    year = annee or this_year()
    centre = await backend(request).get("registry", f"/centres/{centre_id}", token=person.token)
    context = {
        "centre": centre,
        "year": year,
        "allocation": await _allocation(request, centre_id, year),
    }
    return pages(request).response(request, "animator/centre.html", context)


@router.get("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit_form(request: Request, person: Animator, centre_id: str) -> Response:
    _own(person, centre_id)
    return await edit_page(request, person, centre_id, ANIMATOR_EDITABLE)


@router.post("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit(request: Request, person: Animator, centre_id: str) -> Response:
    _own(person, centre_id)
    return await save_centre(
        request, person, centre_id, ANIMATOR_EDITABLE, f"/mon-espace/lieux/{centre_id}"
    )


@router.post("/lieux/{centre_id}/animateurs", response_class=HTMLResponse)
async def add_colleague(request: Request, person: Animator, centre_id: str) -> Response:
    _own(person, centre_id)
    return await save_animator(request, person, centre_id, f"/mon-espace/lieux/{centre_id}")


@router.post("/lieux/{centre_id}/animateurs/{animator_id}/retirer")
async def remove_colleague(
    request: Request, person: Animator, centre_id: str, animator_id: str
) -> Response:
    _own(person, centre_id)
    return await act(
        request,
        backend(request).delete(
            "registry", f"/centres/{centre_id}/animators/{animator_id}", token=person.token
        ),
        done="La personne n’anime plus ce lieu ; l’agence en est informée.",
        then=f"/mon-espace/lieux/{centre_id}",
    )


# The programme


@router.get("/programme", response_class=HTMLResponse)
async def programme(request: Request, person: Animator, annee: Year = None) -> Response:
    return await _programme_page(request, person, annee or this_year())


async def _programme_page(
    request: Request, person: Person, year: int, status_code: int = 200, **extra: Any
) -> Response:
    whole = await backend(request).optional("programme", f"/programmes/{year}")
    actions = whole["actions"] if whole else []
    mine = [a for a in actions if set(person.centres) & {p["centre_id"] for p in a["participants"]}]
    context = {
        "year": year,
        "programme": whole,
        "actions": actions,
        "my_actions": mine,
        "mine": list(person.centres),
        "axes_options": list(AXES.items()),
        **extra,
    }
    return pages(request).response(
        request, "animator/programme.html", context, status_code=status_code
    )


@router.post("/programme/{year}/actions", response_class=HTMLResponse)
async def propose(request: Request, person: Animator, year: int) -> Response:
    form = await request.form()
    lead = text(form, "lead_centre_id") or person.centres[0]
    _own(person, lead)
    body = {
        "axis": text(form, "axis"),
        "title": text(form, "title"),
        "description": text(form, "description"),
        "lead_centre_id": lead,
        "starts_on": optional(form, "starts_on"),
        "ends_on": optional(form, "ends_on"),
        "estimated_cost": decimal(form, "estimated_cost"),
    }
    if nature := optional(form, "nature"):
        body["nature"] = nature
    try:
        await backend(request).post(
            "programme", f"/programmes/{year}/actions", token=person.token, json=body
        )
    except ApiError as error:
        return await _programme_page(request, person, year, 400, **refused(error, form))
    notify(request, f"L’action « {body['title']} » est proposée ; l’agence la programmera.")
    return back(f"/mon-espace/programme?annee={year}")


@router.post("/actions/{action_id}/participer")
async def join(request: Request, person: Animator, action_id: str) -> Response:
    form = await request.form()
    centre_id = text(form, "centre_id")
    _own(person, centre_id)
    return await change_action(
        request,
        person,
        "POST",
        action_id,
        "/participants",
        {"centre_id": centre_id},
        space="/mon-espace",
        done=lambda action: f"Votre lieu participe à « {action['title']} ».",
        failed_to="/mon-espace/programme",
    )


@router.post("/actions/{action_id}/avancement")
async def progress(request: Request, person: Animator, action_id: str) -> Response:
    form = await request.form()
    body: dict[str, Any] = {}
    value = integer(form, "progress")
    if value is not None:
        body["progress"] = value
    if note := optional(form, "note"):
        body["note"] = note
    if cost := decimal(form, "actual_cost"):
        body["actual_cost"] = cost
    if indicators := _indicators(form):
        body["indicators"] = indicators
    return await change_action(
        request,
        person,
        "PATCH",
        action_id,
        "/progress",
        body,
        space="/mon-espace",
        done=lambda action: (
            f"L’avancement de « {action['title']} » est enregistré : {action['progress']} %."
        ),
        refused=lambda error: f"L’avancement n’est pas enregistré : {refusal(error)}",
        failed_to="/mon-espace/programme",
    )


def _indicators(form: FormData) -> dict[str, Any] | None:
    """Sessions, people reached and hours as typed; none of them given: no indicators."""
    sessions, people = integer(form, "sessions"), integer(form, "people_reached")
    hours = decimal(form, "hours")
    if not sessions and not people and hours in ("", "0"):
        return None  # nothing achieved yet, or not said
    return {"sessions": sessions or 0, "people_reached": people or 0, "hours": hours or "0"}


# Mail preferences


@router.get("/preferences", response_class=HTMLResponse)
async def preferences(request: Request, person: Animator) -> Response:
    found = await backend(request).get(
        "notifications", f"/preferences/{person.email}", token=person.token
    )
    return pages(request).response(request, "animator/preferences.html", {"preferences": found})


@router.post("/preferences")
async def save_preferences(request: Request, person: Animator) -> Response:
    form = await request.form()
    found = await backend(request).get(
        "notifications", f"/preferences/{person.email}", token=person.token
    )
    wanted = set(listed(form, "categories"))
    opted_out = [
        c["category"]
        for c in found["categories"]
        if not c["essential"] and c["category"] not in wanted
    ]
    await backend(request).put(
        "notifications",
        f"/preferences/{person.email}",
        token=person.token,
        json={"opted_out": opted_out},
    )
    notify(request, "Vos préférences sont enregistrées.")
    return back("/mon-espace/preferences")
