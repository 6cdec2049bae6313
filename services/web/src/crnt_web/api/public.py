"""The public pages: the network, its places, the application form, the programme, the
budget, and the accessibility statement and legal notice. Open reads only, no token."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from crnt_shared.dates import PARIS
from crnt_shared.standard import SERVICES
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crnt_web.api.common import (
    all_pages,
    backend,
    integer,
    listed,
    optional,
    pages,
    text,
    this_year,
    values_of,
)
from crnt_web.backend import ApiError
from crnt_web.formatting import AXES, TYPOLOGIES, cents

router = APIRouter()

ANIMATOR_ROWS = 3


#: Rows of the list of places per page (a national network has thousands).
PLACES_PER_PAGE = 100


def arrived_since(centre: dict[str, Any], day: date) -> bool:
    """Whether the centre joined the network on ``day`` or later (in France's time)."""
    joined = centre.get("member_since")
    if not isinstance(joined, str):
        return False
    return datetime.fromisoformat(joined).astimezone(PARIS).date() >= day


def _matches(
    centre: dict[str, Any], query: str, commune: str, epci: str, since: date | None = None
) -> bool:
    if since and not arrived_since(centre, since):
        return False
    if epci and centre.get("epci_siren") != epci:
        return False
    if commune and centre.get("commune", "").casefold() != commune.casefold():
        return False
    if query:
        haystack = " ".join(
            str(centre.get(key) or "") for key in ("nom", "commune", "adresse", "code_postal")
        ).casefold()
        return all(word in haystack for word in query.casefold().split())
    return True


async def members(request: Request) -> list[dict[str, Any]]:
    return await all_pages(request, "registry", "/centres", status="member")


async def epcis(request: Request) -> list[dict[str, Any]]:
    return await all_pages(request, "registry", "/epcis")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    centres = await members(request)
    territories = await epcis(request)
    return pages(request).response(
        request,
        "public/home.html",
        {
            "member_count": len(centres),
            "epci_count": len(territories),
            "workstations": sum(int(c.get("workstations") or 0) for c in centres),
            "communes": len({c.get("code_insee") for c in centres}),
        },
    )


@router.get("/lieux", response_class=HTMLResponse)
async def places(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    commune: Annotated[str, Query(max_length=200)] = "",
    epci: Annotated[str, Query(max_length=9)] = "",
    depuis: Annotated[
        date | None, Query(description="Only the places that joined on this day or later.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    centres = await members(request)
    territories = await epcis(request)
    found = sorted(
        (c for c in centres if _matches(c, q.strip(), commune.strip(), epci.strip(), depuis)),
        key=lambda c: (c.get("commune", ""), c.get("nom", "")),
    )
    offset = (page - 1) * PLACES_PER_PAGE
    values = {
        "q": q,
        "commune": commune,
        "epci": epci,
        "depuis": depuis.isoformat() if depuis else "",
    }
    context = {
        "centres": found[offset : offset + PLACES_PER_PAGE],
        "found": len(found),
        "offset": offset,
        "limit": PLACES_PER_PAGE,
        "base": "/lieux?" + urlencode({k: v for k, v in values.items() if v}),
        "since": depuis,
        "total": len(centres),
        "epcis": territories,
        "communes": sorted({c.get("commune", "") for c in centres}),
        "values": values,
    }
    template = "public/_places.html" if request.headers.get("hx-request") else "public/places.html"
    return pages(request).response(request, template, context)


@router.get("/lieux/{centre_id}", response_class=HTMLResponse)
async def place(request: Request, centre_id: str) -> Response:
    centre = await backend(request).get("registry", f"/centres/{centre_id}")
    if centre.get("status") != "member":
        return pages(request).response(request, "errors/404.html", status_code=404)
    return pages(request).response(request, "public/place.html", {"centre": centre})


def _application_context(
    territories: list[dict[str, Any]], values: dict[str, Any], chosen: list[str]
) -> dict[str, Any]:
    return {
        "epcis": territories,
        "services": SERVICES,
        "typologies": TYPOLOGIES,
        "values": values,
        "chosen_services": chosen,
        "animator_rows": ANIMATOR_ROWS,
    }


@router.get("/adherer", response_class=HTMLResponse)
async def application_form(request: Request) -> Response:
    context = _application_context(await epcis(request), {}, [])
    return pages(request).response(request, "public/apply.html", context)


def application_body(form: Any) -> dict[str, Any]:
    """The form's fields, named like the API's (``centre.nom``), as the registry's body."""
    centre: dict[str, Any] = {
        "nom": text(form, "centre.nom"),
        "pivot": text(form, "centre.pivot"),
        "adresse": text(form, "centre.adresse"),
        "code_postal": text(form, "centre.code_postal"),
        "commune": text(form, "centre.commune"),
        "code_insee": text(form, "centre.code_insee"),
        "epci_siren": optional(form, "centre.epci_siren"),
        "typologie": listed(form, "centre.typologie"),
        "workstations": integer(form, "centre.workstations") or 0,
        "horaires": optional(form, "centre.horaires"),
        "services": listed(form, "centre.services"),
        "telephone": optional(form, "centre.telephone"),
        "courriels": [email for email in [text(form, "centre.courriels")] if email],
        "site_web": [site for site in [text(form, "centre.site_web")] if site],
        "presentation_resume": optional(form, "centre.presentation_resume"),
    }
    animators = []
    for row in range(ANIMATOR_ROWS):
        name, email = text(form, f"animators.{row}.name"), text(form, f"animators.{row}.email")
        if name or email or row == 0:
            animators.append({"name": name, "email": email})
    return {"centre": {k: v for k, v in centre.items() if v is not None}, "animators": animators}


@router.post("/adherer", response_class=HTMLResponse)
async def apply(request: Request) -> Response:
    form = await request.form()
    try:
        created = await backend(request).post(
            "registry",
            "/applications",
            json=application_body(form),
            forwarded_for=request.client.host if request.client else None,
        )
    except ApiError as error:
        context = _application_context(
            await epcis(request), values_of(form), listed(form, "centre.services")
        )
        detail = error.detail
        if error.status == 429:
            detail = (
                "Trop de demandes envoyées depuis votre connexion : rien n’a été enregistré."
                " Réessayez dans une heure, ou écrivez à l’agence."
            )
        context.update(errors=error.fields, detail=detail)
        return pages(request).response(
            request, "public/apply.html", context, status_code=error.status
        )
    request.session["applied"] = {"nom": created["centre"]["nom"]}
    return RedirectResponse("/adherer/merci", status_code=303)


@router.get("/adherer/merci", response_class=HTMLResponse)
async def applied(request: Request) -> Response:
    submitted = request.session.pop("applied", None)
    return pages(request).response(request, "public/applied.html", {"submitted": submitted})


async def _years(request: Request) -> list[int]:
    programmes = await backend(request).get("programme", "/programmes")
    return sorted({int(p["year"]) for p in programmes}, reverse=True)


@router.get("/programme", response_class=HTMLResponse)
async def programme(
    request: Request, annee: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    years = await _years(request)
    year = annee or (years[0] if years else this_year())
    whole = await backend(request).optional("programme", f"/programmes/{year}")
    validated = None
    if whole and whole.get("versions"):
        latest = max(v["version"] for v in whole["versions"])
        validated = await backend(request).get("programme", f"/programmes/{year}/versions/{latest}")
    context = {"year": year, "years": years, "programme": whole, "validated": validated}
    context["axis_totals"] = axis_bars(validated["totals_by_axis"]) if validated else []
    return pages(request).response(request, "public/programme.html", context)


def axis_bars(totals: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "axis": axis,
            "label": label,
            "amount": totals.get(axis, "0"),
            "cents": cents(totals.get(axis)),
        }
        for axis, label in AXES.items()
    ]


@router.get("/budget", response_class=HTMLResponse)
async def budget(
    request: Request, annee: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    year = annee or this_year()
    shares = await backend(request).optional("budget", f"/budgets/{year}")
    return pages(request).response(request, "public/budget.html", {"year": year, "budget": shares})


YearPath = Annotated[int, Path(ge=2000, le=2100)]
#: What the browser keeps of a service's document: its type and its file name.
_PASSED_HEADERS = ("content-type", "content-disposition")


async def _document(request: Request, service: Any, path: str, **params: Any) -> Response:
    """A document the service generates, passed through as it comes (type and file name)."""
    found = await backend(request).request("GET", service, path, params=params)
    headers = {k: v for k, v in found.headers.items() if k.lower() in _PASSED_HEADERS}
    return Response(found.content, headers=headers)


@router.get("/budget/{year}/annexe.{fmt}")
async def budget_annex(
    request: Request,
    year: YearPath,
    fmt: Literal["ods", "xlsx", "pdf"],
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The budget annex a council votes, as the budget service generates it."""
    return await _document(request, "budget", f"/budgets/{year}/annex.{fmt}", version=version)


@router.get("/programme/{year}/bilan.{fmt}")
async def programme_report(
    request: Request, year: YearPath, fmt: Literal["ods", "pdf"]
) -> Response:
    """The programme's progress and activity report, as the programme service generates it."""
    return await _document(request, "programme", f"/programmes/{year}/report.{fmt}")


@router.get("/accessibilite", response_class=HTMLResponse)
async def accessibility(request: Request) -> Response:
    return pages(request).response(request, "public/accessibility.html")


@router.get("/mentions-legales", response_class=HTMLResponse)
async def legal_notice(request: Request) -> Response:
    return pages(request).response(request, "public/legal.html")
