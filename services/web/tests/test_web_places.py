"""The public list of places against a registry that answers (httpx's mock transport): the
places that arrived since a day, which the new-members mail links to, a page at a time."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from crnt_shared.testing import app_client
from crnt_web.api.public import PLACES_PER_PAGE
from crnt_web.app import create_app
from crnt_web.backend import Backend

from services.web.tests.test_web_app import settings

NN = "\u202f"
#: Five centres that were members before, then 250 that arrived on 4 May 2026 (Paris time:
#: the first at 00:30 there, 22:30 UTC the day before).
ARRIVAL = datetime(2026, 5, 3, 22, 30, tzinfo=UTC)


def _centre(n: int, joined: datetime | None) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "status": "member",
        "nom": f"Lieu {n:03d}",
        "adresse": f"{n} rue de la Gare",
        "code_postal": "62380",
        "commune": "Lumbres" if n % 2 else "Arques",
        "code_insee": "62534",
        "epci_siren": "246201016" if n % 2 else "200069037",
        "epci_name": "CCPL" if n % 2 else "CAPSO",
        "workstations": 4,
        "member_since": joined.isoformat() if joined else None,
    }


CENTRES = [_centre(n, datetime(2025, 1, 6, 9, tzinfo=UTC)) for n in range(5)] + [
    _centre(n, ARRIVAL + timedelta(seconds=n)) for n in range(5, 255)
]
EPCIS = [{"siren": "200069037", "name": "CAPSO"}, {"siren": "246201016", "name": "CCPL"}]


def _registry(request: httpx.Request) -> httpx.Response:
    items = {"/api/v1/centres": CENTRES, "/api/v1/epcis": EPCIS}[request.url.path]
    offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
    return httpx.Response(200, json={"items": items[offset : offset + limit], "total": len(items)})


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings())
    async with app.router.lifespan_context(app), app_client(app, "web") as client:
        stub = httpx.AsyncClient(transport=httpx.MockTransport(_registry))
        app.state.backend = Backend({"registry": "http://registry.test"}, stub)
        yield client
        await stub.aclose()


async def test_the_places_that_arrived_since_a_day_a_page_at_a_time(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/lieux", params={"depuis": "2026-05-04"})
    assert page.status_code == 200
    assert "Les lieux arrivés dans le réseau depuis le 4 mai 2026, parmi ses 255 lieux" in page.text
    assert f"250 lieux trouvés, 1 à {PLACES_PER_PAGE} ci-dessous" in page.text
    assert page.text.count("<tr>") - 1 == PLACES_PER_PAGE  # one row is the header's
    assert "Lieu 004" not in page.text  # a member since 2025
    assert 'name="depuis" value="2026-05-04"' in page.text  # searching keeps the filter
    assert 'href="/lieux?depuis=2026-05-04&amp;page=3"' in page.text
    last = await web.get("/lieux", params={"depuis": "2026-05-04", "page": 3})
    assert "250 lieux trouvés, 201 à 250 ci-dessous" in last.text
    assert last.text.count("<tr>") - 1 == 50
    assert 'aria-current="page" title="Page 3"' in last.text


async def test_the_filter_takes_the_day_in_france_and_combines_with_the_others(
    web: httpx.AsyncClient,
) -> None:
    later = await web.get("/lieux", params={"depuis": "2026-05-05"})
    assert "Aucun lieu ne correspond à cette recherche." in later.text
    lumbres = await web.get("/lieux", params={"depuis": "2026-05-04", "epci": "246201016"})
    assert "125 lieux trouvés" in lumbres.text
    everyone = await web.get("/lieux")
    assert "255 lieux membres. Cherchez par nom" in everyone.text
    assert "255 lieux trouvés, 1 à 100 ci-dessous" in everyone.text
    assert (await web.get("/lieux", params={"depuis": "le 4 mai"})).status_code == 400
