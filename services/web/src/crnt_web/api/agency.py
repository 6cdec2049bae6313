"""The agency's back-office: applications, centres, CSV, EPCIs, people, budget, programme and
deliveries. Every call carries the signed-in agency person's token."""

import json
import re
import unicodedata
from typing import Annotated, Any

from crnt_shared.standard import SERVICES
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

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
from crnt_web.api.public import epcis
from crnt_web.backend import ApiError
from crnt_web.formatting import ACTION, AXES, MEMBERSHIP, NATURES, cents, euros
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
    diff = None
    if current and current.get("version") and de and a:
        diff = _diff(
            await api.get("budget", f"/budgets/{year}/versions/{de}"),
            await api.get("budget", f"/budgets/{year}/versions/{a}"),
        )
    context = await _budget_context(request, year, current)
    context.update(diff=diff, values=_budget_values(current))
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
        "base_options": _base_options(configuration.get("funders") or []),
        "funder_rows": FUNDER_ROWS,
        "line_rows": max(LINE_ROWS, len(configuration.get("network_lines") or []) + 1),
        "participation": {},
        "participation_errors": {},
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each centre's and EPCI's amount in two versions, the plan's totals, and the change."""

    def change(was: Any, now: Any) -> dict[str, str]:
        was_cents, now_cents = cents(was), cents(now)
        return {
            "before": f"{was_cents / 100:.2f}",
            "after": f"{now_cents / 100:.2f}",
            "change": f"{(now_cents - was_cents) / 100:.2f}",
        }

    def rows(key: str, ident: str) -> list[dict[str, Any]]:
        old = {item[ident]: item for item in before[key]}
        new = {item[ident]: item for item in after[key]}
        out = []
        for item_id in sorted(
            old.keys() | new.keys(), key=lambda i: (new.get(i) or old[i])["name"]
        ):
            was, now = old.get(item_id), new.get(item_id)
            amounts = change(was["amount"] if was else None, now["amount"] if now else None)
            out.append({"name": (now or was or {})["name"], **amounts})
        return out

    old_plan, new_plan = before.get("financing_plan") or {}, after.get("financing_plan") or {}
    plan = [
        {"name": label, **change(old_plan.get(key), new_plan.get(key))}
        for key, label in (
            ("expenses", "Dépenses prévues"),
            ("grants", "Subventions"),
            ("reste_a_charge", "Reste à charge des intercommunalités"),
        )
    ]
    return {
        "from": before["version"],
        "to": after["version"],
        "plan": plan,
        "centres": rows("centres", "centre_id"),
        "epcis": rows("epcis", "siren"),
    }


FUNDER_ROWS = 4
LINE_ROWS = 2
#: The eligible bases a rate can apply to, offered on the form (any other one already in the
#: configuration is offered too, as it is).
BASES: tuple[tuple[dict[str, list[str]] | None, str], ...] = (
    (None, "Toutes les dépenses"),
    ({"axes": list(AXES)}, "Les actions du programme"),
    ({"natures": ["fonctionnement"]}, "Les dépenses de fonctionnement"),
    ({"natures": ["investissement"]}, "Les dépenses d’investissement"),
    *(({"axes": [axis]}, f"Les actions de l’axe « {label} »") for axis, label in AXES.items()),
    ({"lines": ["dotations"]}, "Les dotations des lieux"),
)


def _base_key(base: dict[str, Any] | None) -> str:
    """A base as the form's option value: its JSON, criteria without values left out."""
    kept = {k: sorted(v) for k, v in (base or {}).items() if v}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False) if kept else ""


def _base_options(funders: list[dict[str, Any]]) -> list[tuple[str, str]]:
    options = [(_base_key(base), label) for base, label in BASES]
    known = {value for value, _ in options}
    for funder in funders:
        key = _base_key(funder.get("base"))
        if funder.get("rate") and key not in known:
            options.append((key, f"Assiette enregistrée : {key}"))
            known.add(key)
    return options


def _budget_values(current: dict[str, Any] | None) -> dict[str, Any]:
    if not current:
        return {"fixed_ratio": "0.5", "weight": "workstations", "epci_key": "population"}
    configuration = current.get("configuration") or {}
    key = configuration.get("centre_key") or {}
    values: dict[str, Any] = {
        "envelope": configuration.get("envelope", ""),
        "fixed_ratio": key.get("fixed_ratio", "0.5"),
        "weight": key.get("weight", "workstations"),
        "epci_key": configuration.get("epci_key", "population"),
    }
    for siren, share in (configuration.get("fixed_shares") or {}).items():
        values[f"fixed_shares.{siren}"] = share
    for index, funder in enumerate(configuration.get("funders") or []):
        for field in ("name", "amount", "rate", "ceiling"):
            values[f"funders.{index}.{field}"] = funder.get(field) or ""
        values[f"funders.{index}.base"] = _base_key(funder.get("base"))
    for index, line in enumerate(configuration.get("network_lines") or []):
        for field in ("id", "label", "nature", "estimated", "actual"):
            values[f"network_lines.{index}.{field}"] = line.get(field) or ""
    return values


def _decimal(form: FormData, name: str) -> str:
    return text(form, name).replace(",", ".").replace(" ", "").replace("\u202f", "")


def _line_id(label: str, taken: set[str]) -> str:
    """A network line's key from its label: ``Animation du réseau`` → ``animation-du-reseau``."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:50] or "ligne"
    found, counter = slug, 2
    while found in taken or found == "dotations":
        found, counter = f"{slug}-{counter}", counter + 1
    return found


def budget_body(form: FormData) -> dict[str, Any]:
    """The configuration the form describes, as ``PUT /budgets/{year}`` takes it."""
    funders = []
    for index in range(FUNDER_ROWS):
        name = text(form, f"funders.{index}.name")
        if not name:
            continue
        funder: dict[str, Any] = {"name": name}
        for field in ("amount", "rate", "ceiling"):
            if value := _decimal(form, f"funders.{index}.{field}"):
                funder[field] = value
        base = text(form, f"funders.{index}.base")
        if base and "rate" in funder:
            funder["base"] = json.loads(base)
        funders.append(funder)
    lines: list[dict[str, Any]] = []
    taken: set[str] = set()
    rows = integer(form, "line_rows")
    for index in range(min(rows, 100) if isinstance(rows, int) else LINE_ROWS):
        label = text(form, f"network_lines.{index}.label")
        if not label:
            continue
        line_id = text(form, f"network_lines.{index}.id") or _line_id(label, taken)
        taken.add(line_id)
        line: dict[str, Any] = {
            "id": line_id,
            "label": label,
            "nature": text(form, f"network_lines.{index}.nature") or "fonctionnement",
            "estimated": _decimal(form, f"network_lines.{index}.estimated"),
        }
        if actual := _decimal(form, f"network_lines.{index}.actual"):
            line["actual"] = actual
        lines.append(line)
    epci_key = text(form, "epci_key")
    body: dict[str, Any] = {
        "envelope": _decimal(form, "envelope"),
        "centre_key": {
            "fixed_ratio": _decimal(form, "fixed_ratio"),
            "weight": text(form, "weight"),
        },
        "epci_key": epci_key,
        "funders": funders,
        "network_lines": lines,
    }
    if epci_key == "fixed_shares":
        body["fixed_shares"] = {
            str(name).removeprefix("fixed_shares."): _decimal(form, str(name))
            for name in form
            if str(name).startswith("fixed_shares.") and _decimal(form, str(name))
        }
    return body


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
        return _back(f"/agence/budget?annee={year}")
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
    return _back(f"/agence/budget?annee={year}")


def _year(form: FormData) -> int:
    year = integer(form, "year")
    return year if isinstance(year, int) and 2000 <= year <= 2100 else this_year()


@router.post("/budget/{year}/participations", response_class=HTMLResponse)
async def record_participation(request: Request, person: Agency, year: int) -> Response:
    """An EPCI's council voted its participation: the amount, the deliberation's number and date."""
    form = await request.form()
    siren = text(form, "siren")
    body = {
        "amount": _decimal(form, "amount"),
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
            values=_budget_values(current),
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
    return _back(f"/agence/budget?annee={year}#participations")


@router.post("/budget/{year}/cloture")
async def close_year(request: Request, person: Agency, year: int) -> Response:
    form = await request.form()
    if text(form, "confirm") != "oui":
        notify(
            request,
            f"L’exercice {year} n’est pas clos : cochez la case de confirmation.",
            "error",
        )
        return _back(f"/agence/budget?annee={year}#cloture")
    try:
        await backend(request).post("budget", f"/budgets/{year}/close", token=person.token)
    except ApiError as error:
        notify(request, error.detail, "error")
        return _back(f"/agence/budget?annee={year}")
    notify(request, f"L’exercice {year} est clos : plus rien ne recalcule son budget.")
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


@router.post("/actions/{action_id}/modifier")
async def edit_action(request: Request, person: Agency, action_id: str) -> Response:
    """The agency corrects an action's nature (fonctionnement or investissement) and cost."""
    form = await request.form()
    changes: dict[str, Any] = {}
    if nature := optional(form, "nature"):
        changes["nature"] = nature
    if cost := _decimal(form, "estimated_cost"):
        changes["estimated_cost"] = cost
    try:
        action = await backend(request).patch(
            "programme", f"/actions/{action_id}", token=person.token, json=changes
        )
    except ApiError as error:
        message = " ".join(error.fields.values()) or error.detail
        notify(request, f"L’action n’est pas modifiée : {message}", "error")
        return _back(f"/agence/programme#action-{action_id}")
    nature = NATURES.get(str(action.get("nature")), "nature à préciser").lower()
    notify(
        request,
        f"« {action['title']} » est modifiée : {nature}, {euros(action['estimated_cost'])} prévus.",
    )
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
