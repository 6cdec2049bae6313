"""The agency's back-office: applications, centres, CSV, EPCIs, people, budget, programme and
deliveries. Every call carries the signed-in agency person's token."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crnt_web.api.common import (
    PAGE_SIZE,
    all_pages,
    backend,
    integer,
    listed,
    optional,
    page_offset,
    pages,
    text,
    this_year,
    values_of,
)
from crnt_web.api.public import SERVICES, epcis
from crnt_web.backend import ApiError
from crnt_web.formatting import ACTION, MEMBERSHIP, cents
from crnt_web.pages import notify
from crnt_web.session import Person, require

router = APIRouter(prefix="/agence")
Agency = Annotated[Person, Depends(require("agency"))]
Page = Annotated[int | None, Query(ge=1, le=10_000)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]

MEMBERSHIP_ACTIONS = {
    "suspendre": ("suspend", "Le lieu est suspendu."),
    "reintegrer": ("reinstate", "Le lieu est de nouveau membre."),
    "retirer": ("withdraw", "Le lieu a quitté le réseau."),
}
#: The next states an action can take from the agency's page, in the order they come.
ACTION_MOVES = {
    "proposed": ("planned", "cancelled"),
    "planned": ("in_progress", "cancelled"),
    "in_progress": ("done", "cancelled"),
}


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


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


# Applications


@router.get("/demandes", response_class=HTMLResponse)
async def applications(
    request: Request,
    person: Agency,
    statut: Annotated[str, Query(pattern="^(pending|approved|rejected|)$")] = "pending",
    page: Page = None,
) -> Response:
    found = await backend(request).get(
        "registry",
        "/applications",
        token=person.token,
        params={"status": statut, "limit": PAGE_SIZE, "offset": page_offset(page)},
    )
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
    return _back(f"/agence/lieux/{decided['centre_id']}")


@router.post("/demandes/{application_id}/refuser", response_class=HTMLResponse)
async def reject(request: Request, person: Agency, application_id: str) -> Response:
    form = await request.form()
    try:
        await backend(request).post(
            "registry",
            f"/applications/{application_id}/reject",
            token=person.token,
            json={"reason": text(form, "reason")},
        )
    except ApiError as error:
        found = await backend(request).get(
            "registry", f"/applications/{application_id}", token=person.token
        )
        context = {"application": found, "errors": error.fields, "detail": error.detail}
        return pages(request).response(request, "agency/application.html", context, status_code=400)
    notify(request, "La demande est refusée ; la raison est envoyée au lieu.")
    return _back("/agence/demandes")


# Centres


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


async def _centre_context(request: Request, person: Person, centre_id: str) -> dict[str, Any]:
    centre = await backend(request).get("registry", f"/centres/{centre_id}", token=person.token)
    return {"centre": centre}


@router.get("/lieux/{centre_id}", response_class=HTMLResponse)
async def centre(request: Request, person: Agency, centre_id: str) -> Response:
    context = await _centre_context(request, person, centre_id)
    return pages(request).response(request, "agency/centre.html", context)


@router.post("/lieux/{centre_id}/{action}", response_class=HTMLResponse)
async def change_membership(
    request: Request, person: Agency, centre_id: str, action: str
) -> Response:
    if action not in MEMBERSHIP_ACTIONS:
        return pages(request).response(request, "errors/404.html", status_code=404)
    verb, done = MEMBERSHIP_ACTIONS[action]
    form = await request.form()
    try:
        await backend(request).post(
            "registry",
            f"/centres/{centre_id}/{verb}",
            token=person.token,
            json={"reason": text(form, "reason")},
        )
    except ApiError as error:
        context = await _centre_context(request, person, centre_id)
        context.update(
            errors={f"{action}.reason": error.fields.get("reason", "")}, detail=error.detail
        )
        return pages(request).response(request, "agency/centre.html", context, status_code=400)
    notify(request, done)
    return _back(f"/agence/lieux/{centre_id}")


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


@router.get("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit_centre_form(request: Request, person: Agency, centre_id: str) -> Response:
    context = await _centre_context(request, person, centre_id)
    context.update(
        values=context["centre"], services=SERVICES, fields=EDITABLE, action=request.url.path
    )
    return pages(request).response(request, "centre_edit.html", context)


@router.post("/lieux/{centre_id}/modifier", response_class=HTMLResponse)
async def edit_centre(request: Request, person: Agency, centre_id: str) -> Response:
    return await save_centre(request, person, centre_id, EDITABLE, f"/agence/lieux/{centre_id}")


async def save_centre(
    request: Request, person: Person, centre_id: str, fields: tuple[str, ...], done: str
) -> Response:
    """The edit form of a centre, for the agency and for its animators."""
    form = await request.form()
    context = await _centre_context(request, person, centre_id)
    changes = centre_changes(form, context["centre"], fields)
    if changes:
        try:
            await backend(request).patch(
                "registry", f"/centres/{centre_id}", token=person.token, json=changes
            )
        except ApiError as error:
            context.update(
                values={**values_of(form), "services": listed(form, "services")},
                services=SERVICES,
                fields=fields,
                action=request.url.path,
                errors=error.fields,
                detail=error.detail,
            )
            return pages(request).response(request, "centre_edit.html", context, status_code=400)
        notify(request, "Les informations du lieu sont enregistrées.")
    else:
        notify(request, "Rien n’a changé.", "info")
    return _back(done)


@router.post("/lieux/{centre_id}/animateurs", response_class=HTMLResponse)
async def add_animator(request: Request, person: Agency, centre_id: str) -> Response:
    return await save_animator(request, person, centre_id, f"/agence/lieux/{centre_id}")


async def save_animator(request: Request, person: Person, centre_id: str, done: str) -> Response:
    form = await request.form()
    body = {"name": text(form, "animator.name"), "email": text(form, "animator.email")}
    try:
        await backend(request).post(
            "registry", f"/centres/{centre_id}/animators", token=person.token, json=body
        )
    except ApiError as error:
        notify(request, _sentence(error, {"name": "Nom", "email": "Courriel"}), "error")
        return _back(done)
    notify(request, f"{body['name']} anime désormais ce lieu.")
    return _back(done)


def _sentence(error: ApiError, labels: dict[str, str]) -> str:
    if error.fields:
        return " ".join(f"{labels.get(k, k)} : {v}" for k, v in error.fields.items())
    return error.detail


@router.post("/lieux/{centre_id}/animateurs/{animator_id}/retirer")
async def remove_animator(
    request: Request, person: Agency, centre_id: str, animator_id: str
) -> Response:
    await backend(request).delete(
        "registry", f"/centres/{centre_id}/animators/{animator_id}", token=person.token
    )
    notify(request, "La personne n’anime plus ce lieu.")
    return _back(f"/agence/lieux/{centre_id}")


# CSV


@router.get("/import", response_class=HTMLResponse)
async def import_form(request: Request, person: Agency) -> Response:
    return pages(request).response(request, "agency/import.html")


@router.post("/import", response_class=HTMLResponse)
async def import_centres(request: Request, person: Agency) -> Response:
    form = await request.form()
    upload = form.get("fichier")
    content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    dry_run = form.get("essai") == "1"
    context: dict[str, Any] = {"dry_run": dry_run}
    try:
        context["report"] = await backend(request).post(
            "registry",
            "/centres/import",
            token=person.token,
            content=content,
            content_type="text/csv",
            params={"dry_run": "true" if dry_run else None},
        )
    except ApiError as error:
        context.update(detail=error.detail, rejected=error.body.get("errors") or [])
        return pages(request).response(request, "agency/import.html", context, status_code=400)
    return pages(request).response(request, "agency/import.html", context)


@router.get("/export.csv")
async def export_centres(request: Request, person: Agency) -> Response:
    exported = await backend(request).request(
        "GET", "registry", "/centres/export.csv", token=person.token
    )
    return Response(
        exported.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lieux-mediation-numerique.csv"'},
    )


# EPCIs and people


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
        return await _people_page(
            request,
            person,
            400,
            errors=error.fields,
            detail=error.detail,
            values=values_of(form),
        )
    notify(request, f"{body['display_name'] or body['email']} peut désormais se connecter.")
    return _back("/agence/personnes")


@router.post("/personnes/{person_id}/retirer")
async def remove_person(request: Request, person: Agency, person_id: str) -> Response:
    await backend(request).delete("identity", f"/people/{person_id}", token=person.token)
    notify(request, "La personne ne peut plus se connecter ; ses sessions sont closes.")
    return _back("/agence/personnes")


# Budget


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
    versions = (await api.get("budget", f"/budgets/{year}/versions"))["items"] if current else []
    diff = None
    if current and de and a:
        diff = _diff(
            await api.get("budget", f"/budgets/{year}/versions/{de}"),
            await api.get("budget", f"/budgets/{year}/versions/{a}"),
        )
    context = {"year": year, "budget": current, "versions": versions, "diff": diff}
    context["values"] = _budget_values(current)
    return pages(request).response(request, "agency/budget.html", context)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each centre's and EPCI's amount in two versions, and the change."""

    def rows(key: str, ident: str) -> list[dict[str, Any]]:
        old = {item[ident]: item for item in before[key]}
        new = {item[ident]: item for item in after[key]}
        out = []
        for item_id in sorted(
            old.keys() | new.keys(), key=lambda i: (new.get(i) or old[i])["name"]
        ):
            was, now = old.get(item_id), new.get(item_id)
            was_cents = cents(was["amount"]) if was else 0
            now_cents = cents(now["amount"]) if now else 0
            out.append(
                {
                    "name": (now or was or {})["name"],
                    "before": f"{was_cents / 100:.2f}",
                    "after": f"{now_cents / 100:.2f}",
                    "change": f"{(now_cents - was_cents) / 100:.2f}",
                }
            )
        return out

    return {
        "from": before["version"],
        "to": after["version"],
        "centres": rows("centres", "centre_id"),
        "epcis": rows("epcis", "siren"),
    }


def _budget_values(current: dict[str, Any] | None) -> dict[str, Any]:
    if not current:
        return {"fixed_ratio": "0.5", "weight": "workstations", "epci_key": "population"}
    configuration = current.get("configuration") or {}
    key = configuration.get("centre_key") or {}
    values = {
        "envelope": configuration.get("envelope", current.get("envelope", "")),
        "epci_contribution": configuration.get(
            "epci_contribution", current.get("epci_contribution", "")
        ),
        "fixed_ratio": key.get("fixed_ratio", "0.5"),
        "weight": key.get("weight", "workstations"),
        "epci_key": configuration.get("epci_key", "population"),
    }
    for index, funder in enumerate(configuration.get("funders") or []):
        for field in ("name", "amount", "rate", "ceiling"):
            values[f"funders.{index}.{field}"] = funder.get(field) or ""
    return values


FUNDER_ROWS = 4


@router.post("/budget", response_class=HTMLResponse)
async def configure_budget(request: Request, person: Agency) -> Response:
    form = await request.form()
    year = integer(form, "year") or this_year()
    funders = []
    for index in range(FUNDER_ROWS):
        name = text(form, f"funders.{index}.name")
        if not name:
            continue
        funder: dict[str, Any] = {"name": name}
        for field in ("amount", "rate", "ceiling"):
            value = text(form, f"funders.{index}.{field}").replace(",", ".").replace(" ", "")
            if value:
                funder[field] = value
        funders.append(funder)
    body = {
        "envelope": text(form, "envelope").replace(",", ".").replace(" ", ""),
        "centre_key": {
            "fixed_ratio": text(form, "fixed_ratio").replace(",", "."),
            "weight": text(form, "weight"),
        },
        "epci_contribution": text(form, "epci_contribution").replace(",", ".").replace(" ", ""),
        "epci_key": text(form, "epci_key"),
        "funders": funders,
    }
    try:
        await backend(request).put("budget", f"/budgets/{year}", token=person.token, json=body)
    except ApiError as error:
        context = {
            "year": year,
            "budget": await backend(request).optional("budget", f"/budgets/{year}"),
            "versions": [],
            "diff": None,
            "values": values_of(form),
            "errors": {k.replace("centre_key.", ""): v for k, v in error.fields.items()},
            "detail": error.detail,
        }
        return pages(request).response(request, "agency/budget.html", context, status_code=400)
    notify(
        request,
        f"Le budget {year} est enregistré : une nouvelle version des dotations est calculée.",
    )
    return _back(f"/agence/budget?annee={year}")


# Programme


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
        return _back(f"/agence/programme?annee={year}")
    try:
        await backend(request).post("programme", f"/programmes/{year}/{step}", token=person.token)
    except ApiError as error:
        notify(request, error.detail, "error")
        return _back(f"/agence/programme?annee={year}")
    notify(
        request,
        "Le programme est soumis au comité de pilotage."
        if step == "submit"
        else "Le programme est ouvert à la modification.",
    )
    return _back(f"/agence/programme?annee={year}")


@router.post("/actions/{action_id}/statut")
async def action_status(request: Request, person: Agency, action_id: str) -> Response:
    form = await request.form()
    status = text(form, "status")
    try:
        action = await backend(request).post(
            "programme",
            f"/actions/{action_id}/status",
            token=person.token,
            json={"status": status, "reason": optional(form, "reason")},
        )
    except ApiError as error:
        notify(request, error.detail, "error")
        return _back(f"/agence/programme?annee={text(form, 'year') or this_year()}")
    notify(request, f"« {action['title']} » : {ACTION.get(status, status).lower()}.")
    return _back(f"/agence/programme?annee={action['year']}#action-{action_id}")


# Deliveries


@router.get("/envois", response_class=HTMLResponse)
async def deliveries(
    request: Request,
    person: Agency,
    statut: Annotated[
        str, Query(pattern="^(failed|retrying|sent|pending|suppressed|coalescing|)$")
    ] = "failed",
    page: Page = None,
) -> Response:
    found = await backend(request).get(
        "notifications",
        "/deliveries",
        token=person.token,
        params={"status": statut, "limit": PAGE_SIZE, "offset": page_offset(page)},
    )
    context = {"deliveries": found, "statut": statut}
    return pages(request).response(request, "agency/deliveries.html", context)


@router.post("/envois/{delivery_id}/renvoyer")
async def retry(request: Request, person: Agency, delivery_id: str) -> Response:
    try:
        await backend(request).post(
            "notifications", f"/deliveries/{delivery_id}/retry", token=person.token
        )
    except ApiError as error:
        notify(request, error.detail, "error")
    else:
        notify(request, "Le courriel part de nouveau.")
    return _back("/agence/envois")
