"""What the agency's pages and a centre's animators' pages share about a centre: its edit
form (each with the fields it may change) and the form that adds an animator to it."""

from typing import Any

from crnt_shared.standard import SERVICES
from fastapi import Request
from fastapi.responses import Response

from crnt_web.api.common import back, backend, integer, listed, optional, pages, text, values_of
from crnt_web.backend import ApiError
from crnt_web.pages import notify
from crnt_web.session import Person


def centre_changes(form: Any, current: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """What the form changes in the centre, as the PATCH body (untouched fields left out)."""
    changes: dict[str, Any] = {}
    for name in fields:
        value = optional(form, name)
        if value != (current.get(name) or None):
            changes[name] = value
    workstations = integer(form, "workstations")
    if workstations is not None and workstations != current.get("workstations"):
        changes["workstations"] = workstations
    if "services_shown" in form:
        services = listed(form, "services")
        if services != current.get("services"):
            changes["services"] = services
    return changes


async def edit_page(
    request: Request,
    person: Person,
    centre_id: str,
    fields: tuple[str, ...],
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The edit form of the centre, its ``fields`` editable (the centre's values by default)."""
    centre = await backend(request).get("registry", f"/centres/{centre_id}", token=person.token)
    context = {
        "centre": centre,
        "values": centre,
        "services": SERVICES,
        "fields": fields,
        "action": request.url.path,
        **extra,
    }
    return pages(request).response(request, "centre_edit.html", context, status_code=status_code)


async def save_centre(
    request: Request, person: Person, centre_id: str, fields: tuple[str, ...], done: str
) -> Response:
    """What the edit form changed, saved; or the form again with the API's refusal."""
    form = await request.form()
    centre = await backend(request).get("registry", f"/centres/{centre_id}", token=person.token)
    changes = centre_changes(form, centre, fields)
    if not changes:
        notify(request, "Rien n’a changé.", "info")
        return back(done)
    try:
        await backend(request).patch(
            "registry", f"/centres/{centre_id}", token=person.token, json=changes
        )
    except ApiError as error:
        return await edit_page(
            request,
            person,
            centre_id,
            fields,
            status_code=400,
            values={**values_of(form), "services": listed(form, "services")},
            errors=error.fields,
            detail=error.detail,
        )
    notify(request, "Les informations du lieu sont enregistrées.")
    return back(done)


async def save_animator(request: Request, person: Person, centre_id: str, done: str) -> Response:
    form = await request.form()
    body = {"name": text(form, "animator.name"), "email": text(form, "animator.email")}
    try:
        await backend(request).post(
            "registry", f"/centres/{centre_id}/animators", token=person.token, json=body
        )
    except ApiError as error:
        notify(request, _sentence(error, {"name": "Nom", "email": "Courriel"}), "error")
        return back(done)
    notify(request, f"{body['name']} anime désormais ce lieu.")
    return back(done)


def _sentence(error: ApiError, labels: dict[str, str]) -> str:
    if error.fields:
        return " ".join(f"{labels.get(k, k)} : {v}" for k, v in error.fields.items())
    return error.detail
