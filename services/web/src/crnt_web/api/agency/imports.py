"""The centres in CSV: imported (tried first, or for real) and exported."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import Agency, backend, pages
from crnt_web.backend import ApiError

router = APIRouter(prefix="/agence")


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
