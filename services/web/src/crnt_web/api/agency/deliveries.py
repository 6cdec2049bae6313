"""The emails sent, by state, and a failed one sent again."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from crnt_web.api.common import Agency, Page, act, backend, listed_page, pages

router = APIRouter(prefix="/agence")


@router.get("/envois", response_class=HTMLResponse)
async def deliveries(
    request: Request,
    person: Agency,
    statut: Annotated[
        str, Query(pattern="^(failed|retrying|sent|pending|suppressed|coalescing|)$")
    ] = "failed",
    page: Page = None,
) -> Response:
    found = await listed_page(request, person, "notifications", "/deliveries", statut, page)
    context = {"deliveries": found, "statut": statut}
    return pages(request).response(request, "agency/deliveries.html", context)


@router.post("/envois/{delivery_id}/renvoyer")
async def retry(request: Request, person: Agency, delivery_id: str) -> Response:
    return await act(
        request,
        backend(request).post(
            "notifications", f"/deliveries/{delivery_id}/retry", token=person.token
        ),
        done="Le courriel part de nouveau.",
        then="/agence/envois",
    )
