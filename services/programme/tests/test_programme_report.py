"""Natures, indicators and the report documents on the real PostgreSQL: progress reports carry
indicators, the report sums them by axis and by lead centre, and its ODS and PDF carry them."""

import io
from typing import Any

import httpx
import pytest

from services.programme.tests.kit import API, Headers, Seed, new_action, propose

pytestmark = pytest.mark.integration

NBSP = "\u00a0"


async def progress(client: httpx.AsyncClient, agency: Headers, action: str, **body: Any) -> Any:
    response = await client.patch(f"{API}/actions/{action}/progress", json=body, headers=agency)
    assert response.status_code == 200, response.text
    return response.json()


async def test_indicators_are_summed_by_axis_and_by_lead_centre_and_documented(
    client: httpx.AsyncClient,
    agency: Headers,
    copil: Headers,
    seed_centre: Seed,
) -> None:
    """Lumbres leads two workshops (8 sessions, 64 people, 16 h; 4 sessions, 30 people,
    7.5 h) and Arques the shared tablets (an investment by default): by axis, the workshops
    total 12 sessions, 94 people, 23.5 h; by centre, Lumbres the same, Arques nothing yet."""
    lumbres = await seed_centre("Cyber-centre de Lumbres")
    arques = await seed_centre("Médiathèque d'Arques")
    first = await propose(client, agency, new_action(lumbres, title="Ateliers smartphone"))
    second = await propose(
        client, agency, new_action(lumbres, title="Ateliers démarches", estimated_cost="900")
    )
    tablets = await propose(
        client,
        agency,
        new_action(
            arques, axis="materiel_partage", title="Valise de tablettes", estimated_cost="8000"
        ),
    )
    assert (first["nature"], tablets["nature"]) == ("fonctionnement", "investissement")
    forced = await propose(
        client, agency, new_action(arques, title="Bornes", nature="investissement")
    )
    assert forced["nature"] == "investissement"
    cancelled = await client.post(
        f"{API}/actions/{forced['id']}/status", json={"status": "cancelled"}, headers=agency
    )
    assert cancelled.status_code == 200
    assert (await client.post(f"{API}/programmes/2025/submit", headers=agency)).status_code == 200
    validated = await client.post(f"{API}/programmes/2025/validate", headers=copil)
    assert validated.status_code == 201
    natures = {a["title"]: a["nature"] for a in validated.json()["actions"]}
    assert natures["Valise de tablettes"] == "investissement"

    for status in ("in_progress", "done"):
        moved = await client.post(
            f"{API}/actions/{first['id']}/status", json={"status": status}, headers=agency
        )
        assert moved.status_code == 200, moved.text
    done = await progress(
        client,
        agency,
        first["id"],
        actual_cost="1420.00",
        indicators={"sessions": 8, "people_reached": 64, "hours": "16"},
    )
    assert done["indicators"] == {"sessions": 8, "people_reached": 64, "hours": "16"}
    await progress(
        client,
        agency,
        second["id"],
        progress=40,
        indicators={"sessions": 4, "people_reached": 30, "hours": "7.5"},
    )

    report = (await client.get(f"{API}/programmes/2025/report")).json()
    axes = {row["axis"]: row for row in report["axes"]}
    assert axes["ateliers"]["indicators"] == {"sessions": 12, "people_reached": 94, "hours": "23.5"}
    assert axes["materiel_partage"]["indicators"] == {
        "sessions": 0,
        "people_reached": 0,
        "hours": "0",
    }
    assert report["overall"]["indicators"]["people_reached"] == 94
    centres = {row["name"]: row for row in report["centres"]}
    assert centres["Cyber-centre de Lumbres"]["indicators"]["sessions"] == 12
    assert (
        centres["Cyber-centre de Lumbres"]["actions"],
        centres["Cyber-centre de Lumbres"]["done"],
    ) == (2, 1)
    assert centres["Médiathèque d'Arques"]["planned_cost"] == "8000.00"  # the cancelled one left

    ods = await client.get(f"{API}/programmes/2025/report.ods")
    assert ods.status_code == 200, ods.text
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.teletype import extractText

    sheets = {
        sheet.getAttribute("name"): [
            [
                cell.getAttribute("value") or extractText(cell)
                for cell in row.getElementsByType(TableCell)
            ]
            for row in sheet.getElementsByType(TableRow)
        ]
        for sheet in load(io.BytesIO(ods.content)).spreadsheet.getElementsByType(Table)
    }
    by_axis = {row[0]: row for row in sheets["Par axe"]}
    assert by_axis["Ateliers communs"][4:7] == ["12", "94", "23,5"]
    assert by_axis["Ateliers communs"][8] == "1420"
    by_centre = {row[0]: row for row in sheets["Par lieu pilote"]}
    assert by_centre["Cyber-centre de Lumbres"][3:6] == ["12", "94", "23,5"]

    pdf = await client.get(f"{API}/programmes/2025/report.pdf")
    assert pdf.status_code == 200
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = text.replace(NBSP, " ")
    assert "Programme de travail 2025 : validé, version validée n° 1." in text
    assert "12 séances, 94 personnes touchées, 23,5 heures d'activité." in text
    assert "1 420,00 €" in text
    assert "Dépenses par axe : estimé et réalisé" in text


@pytest.mark.parametrize(
    "indicators", [{"sessions": -1}, {"hours": 3}, {"hours": "1.25"}, {"people": 3}]
)
async def test_bad_indicators_are_a_422(
    client: httpx.AsyncClient,
    agency: Headers,
    seed_centre: Seed,
    indicators: dict[str, Any],
) -> None:
    action = await propose(client, agency, new_action(await seed_centre("EPN")))
    response = await client.patch(
        f"{API}/actions/{action['id']}/progress", json={"indicators": indicators}, headers=agency
    )
    assert response.status_code == 422, response.text
