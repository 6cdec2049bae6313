"""The plan's rules that cross the boundary, on the real Kafka and PostgreSQL: a split with a
missing input waits, a year shares among the centres that were members in it, a closed year
never changes, a version asking more than an EPCI voted says so and publishes it once, and the
annex documents carry the version's figures."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from crnt_budget.testing import (
    API,
    CAPSO,
    CCPL,
    YEAR,
    Programme,
    Published,
    Registry,
    budget_body,
    budget_of,
    centre,
    epci_registered,
    membership,
    programme_validated,
)
from crnt_shared.contracts.budget import ParticipationExceeded, SharesRecalculated
from crnt_shared.contracts.registry import (
    EpciRegistered,
    MembershipApproved,
    MembershipWithdrawn,
)
from crnt_shared.testing import wait_until

pytestmark = pytest.mark.integration
NBSP = "\u00a0"


async def test_an_unknown_population_holds_the_version_until_it_is_known(
    client: httpx.AsyncClient, agency: dict[str, str], registry: Registry
) -> None:
    """A CAPSO centre joins before the registry told the budget CAPSO's population: by
    population, no split is published (no 100/0 nor 50/50 fallback): the latest version stays
    the one before, the budget says what it waits for, and CAPSO's registration publishes the
    next version."""
    await registry.publish([membership(MembershipApproved, centre(), "pending", "member")])

    async def centre_known() -> bool:
        body = budget_body(epci_key="population")
        response = await client.put(f"{API}/budgets/{YEAR}", json=body, headers=agency)
        assert response.status_code == 200, response.text
        return response.json()["waiting"] is not None

    await wait_until(centre_known, message="the member in the budget's read model")
    waiting = await budget_of(client, YEAR)
    assert waiting["waiting"]["missing"] == [
        f"the population of {CAPSO[1]} (SIREN {CAPSO[0]}) is unknown"
    ]
    held = waiting["version"]  # the versions before the member came, without any split
    assert waiting["epcis"] == []
    shares = (await client.get(f"{API}/budgets/{YEAR}/shares")).json()
    assert (shares["version"], shares["epcis"]) == (held, [])

    await registry.publish([epci_registered(CAPSO)])

    async def published_version() -> dict[str, Any] | None:
        budget = await budget_of(client, YEAR)
        return budget if budget["version"] == held + 1 else None

    budget = await wait_until(published_version, message="the version once CAPSO is known")
    assert budget["waiting"] is None
    assert [(e["siren"], e["amount"]) for e in budget["epcis"]] == [(CAPSO[0], "15000.00")]
    assert budget["cause"]["kind"] == "events"
    assert EpciRegistered.event_type() in [e["type"] for e in budget["cause"]["events"]]


async def test_a_past_year_shares_among_the_centres_that_were_members_in_it(
    client: httpx.AsyncClient, agency: dict[str, str], registry: Registry
) -> None:
    """Two centres join today: last year's budget, configured now, has no member (no dotation,
    nothing to pay), this year's has both."""
    await registry.publish(
        [membership(MembershipApproved, centre(), "pending", "member") for _ in range(2)]
    )

    async def both_in() -> bool:
        response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
        return bool(response.json()["member_count"] == 2)

    await wait_until(both_in, message="the two members in this year's budget")
    past = await client.put(f"{API}/budgets/{YEAR - 1}", json=budget_body(), headers=agency)
    assert past.status_code == 200, past.text
    assert (past.json()["member_count"], past.json()["allocated"]) == (0, "0.00")
    assert past.json()["epcis"] == []


async def test_a_centre_that_left_this_year_still_counts_in_the_year_it_was_a_member(
    client: httpx.AsyncClient, agency: dict[str, str], registry: Registry
) -> None:
    """Approved on 1 June of last year, withdrawn today: last year's budget shares among it
    (its whole envelope, 30,000.00), this year's no longer."""
    facts = centre()
    approved = membership(MembershipApproved, facts, "pending", "member")
    dated = approved.data.model_copy(update={"at": datetime(YEAR - 1, 6, 1, tzinfo=UTC)})
    withdrawn = membership(MembershipWithdrawn, facts, "member", "withdrawn")
    await registry.publish([approved.model_copy(update={"data": dated}), withdrawn])

    async def both_handled() -> dict[str, Any] | None:
        past = await client.put(f"{API}/budgets/{YEAR - 1}", json=budget_body(), headers=agency)
        body: dict[str, Any] = past.json()
        return body if body["member_count"] == 1 else None

    past = await wait_until(both_handled, message="the dated membership in last year's budget")
    assert [(c["centre_id"], c["amount"]) for c in past["centres"]] == [(str(facts.id), "30000.00")]
    now = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert (now.json()["member_count"], now.json()["centres"]) == (0, [])


async def test_a_closed_year_never_changes(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    programme: Programme,
) -> None:
    response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert response.status_code == 200, response.text
    closed = await client.post(f"{API}/budgets/{YEAR}/close", headers=agency)
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] is not None
    await registry.publish([membership(MembershipApproved, centre(), "pending", "member")])
    await programme.publish([programme_validated(YEAR, 1, {"ateliers": "1000.00"})])
    marker = centre()
    await registry.publish([membership(MembershipApproved, marker, "pending", "member")])
    next_year = await client.put(f"{API}/budgets/{YEAR + 1}", json=budget_body(), headers=agency)
    assert next_year.status_code == 200

    async def marker_in_next_year() -> bool:
        return bool((await budget_of(client, YEAR + 1))["member_count"] == 2)

    await wait_until(marker_in_next_year, message="the events handled (next year moved)")
    versions = (await client.get(f"{API}/budgets/{YEAR}/versions")).json()["items"]
    assert [v["version"] for v in versions] == [1]
    again = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert again.status_code == 409
    assert "closed" in again.json()["detail"]
    vote = {"amount": "1.00", "deliberation_number": "1", "deliberation_date": f"{YEAR}-03-01"}
    refused = await client.put(
        f"{API}/budgets/{YEAR}/participations/{CAPSO[0]}", json=vote, headers=agency
    )
    assert refused.status_code == 409


async def test_asking_more_than_voted_is_flagged_and_published_once(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    published: Published,
) -> None:
    """CAPSO owes the whole reste à charge, 15,000.00 (one member centre), and voted 12,000.00
    (deliberation 2026-042 of 12 March): the version flags it and one event says it. A second
    version asking the same changes nothing to publish; a lower demand is not flagged."""
    await registry.publish([epci_registered(CAPSO), epci_registered(CCPL)])
    await registry.publish([membership(MembershipApproved, centre(), "pending", "member")])

    async def member_in() -> bool:
        response = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
        return bool(response.json()["member_count"] == 1)

    await wait_until(member_in, message="the member in the budget")
    vote = {
        "amount": "12000.00",
        "deliberation_number": "2026-042",
        "deliberation_date": f"{YEAR}-03-12",
    }
    response = await client.put(
        f"{API}/budgets/{YEAR}/participations/{CAPSO[0]}", json=vote, headers=agency
    )
    assert response.status_code == 200, response.text
    [capso] = response.json()["epcis"]
    assert (capso["amount"], capso["exceeds_voted"]) == ("15000.00", True)
    assert capso["voted"] == {
        "amount": "12000.00",
        "deliberation_number": "2026-042",
        "deliberation_date": f"{YEAR}-03-12",
    }
    again = await client.put(f"{API}/budgets/{YEAR}", json=budget_body(), headers=agency)
    assert again.json()["epcis"][0]["exceeds_voted"] is True

    async def summaries() -> bool:
        versions = {e.data.version for e in published.of(SharesRecalculated)}
        return again.json()["version"] in versions

    await wait_until(summaries, message="every version's summary")
    exceeded = published.of(ParticipationExceeded)
    assert len(exceeded) == 1, "the same demand is published once"
    [epci] = exceeded[0].data.epcis
    assert (epci.siren, epci.voted, epci.asked, epci.deliberation_number) == (
        CAPSO[0],
        "12000.00",
        "15000.00",
        "2026-042",
    )
    assert exceeded[0].subject == str(YEAR)

    richer = budget_body(funders=[{"name": "Région", "amount": "20000.00"}])
    lower = await client.put(f"{API}/budgets/{YEAR}", json=richer, headers=agency)
    assert lower.json()["epcis"][0]["amount"] == "10000.00"
    assert lower.json()["epcis"][0]["exceeds_voted"] is False


def _ods_cells(content: bytes) -> list[list[str]]:
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.teletype import extractText

    document = load(io.BytesIO(content))
    rows = []
    for sheet in document.spreadsheet.getElementsByType(Table):
        for row in sheet.getElementsByType(TableRow):
            cells = []
            for cell in row.getElementsByType(TableCell):
                value = cell.getAttribute("value")
                cells.append(value if value is not None else extractText(cell))
            rows.append(cells)
    return rows


async def test_the_annex_documents_carry_the_versions_figures(
    client: httpx.AsyncClient,
    agency: dict[str, str],
    registry: Registry,
    programme: Programme,
) -> None:
    """The demo's figures: actions 27,500.00 + dotations 30,000.00; the Region 15,000.00, FEDER
    50 % of the actions capped at 10,000.00, the Region's dotations 100 % of them: 55,000.00;
    the reste à charge 2,500.00: CAPSO 2,031.71, CCPL 468.29 by population."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    await registry.publish([epci_registered(CAPSO), epci_registered(CCPL)])
    await registry.publish(
        [
            membership(MembershipApproved, centre(), "pending", "member"),
            membership(MembershipApproved, centre(epci=CCPL), "pending", "member"),
        ]
    )
    totals = {
        "communication": "4500.00",
        "ateliers": "6000.00",
        "evenements": "5500.00",
        "formation": "3500.00",
        "materiel_partage": "8000.00",
    }
    await programme.publish([programme_validated(YEAR, 1, totals)])
    body = budget_body(
        epci_key="population",
        funders=[
            {"name": "Région Hauts-de-France (CRNT)", "amount": "15000.00"},
            {
                "name": "FEDER",
                "rate": "0.5",
                "ceiling": "10000.00",
                "base": {"axes": list(totals)},
            },
            {
                "name": "Région Hauts-de-France (dotations des lieux)",
                "rate": "1",
                "base": {"lines": ["dotations"]},
            },
        ],
    )

    async def ready() -> dict[str, Any] | None:
        response = await client.put(f"{API}/budgets/{YEAR}", json=body, headers=agency)
        budget: dict[str, Any] = response.json()
        full = budget["member_count"] == 2 and budget["financing_plan"]["programme"] is not None
        return budget if full else None

    budget = await wait_until(ready, message="the members and the programme in the plan")
    number = budget["version"]
    assert budget["financing_plan"]["reste_a_charge"] == "2500.00"
    assert {e["siren"]: e["amount"] for e in budget["epcis"]} == {
        CAPSO[0]: "2031.71",
        CCPL[0]: "468.29",
    }

    ods = await client.get(f"{API}/budgets/{YEAR}/annex.ods")
    assert ods.status_code == 200, ods.text
    assert ods.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
    cells = _ods_cells(ods.content)
    flat = [value for row in cells for value in row]
    assert any(f"Version {number} du budget estimatif" in value for value in flat)
    capso_row = next(row for row in cells if CAPSO[0] in row)
    assert Decimal(capso_row[6]) == Decimal("2031.71")
    ccpl_row = next(row for row in cells if CCPL[0] in row)
    assert Decimal(ccpl_row[6]) == Decimal("468.29")

    xlsx = await client.get(f"{API}/budgets/{YEAR}/annex.xlsx", params={"version": number})
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content))
    sheet = workbook["Reste à charge par EPCI"]
    by_siren = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(by_siren[CAPSO[0]][6])) == Decimal("2031.71")
    assert by_siren[CCPL[0]][7] == "non"
    resources = workbook["Ressources"]
    values = [row[3] for row in resources.iter_rows(min_row=2, values_only=True)]
    assert [Decimal(str(v)) for v in values] == [
        Decimal("15000"),
        Decimal("10000"),
        Decimal("30000"),
        Decimal("2500"),
        Decimal("57500"),
    ]
    assert "Version" in str(workbook["Résumé"]["A2"].value)

    pdf = await client.get(f"{API}/budgets/{YEAR}/annex.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"Version {number} du budget estimatif" in text
    for amount in ("2 031,71 €", "468,29 €", "2 500,00 €", "57 500,00 €"):
        assert amount in text.replace(NBSP, " "), amount
    assert "Règle des 20 % (CGCT, art. L1111-10) : respectée" in text.replace(NBSP, " ")

    missing = await client.get(f"{API}/budgets/{YEAR}/annex.pdf", params={"version": 99})
    assert missing.status_code == 404
    unknown = await client.get(f"{API}/budgets/{YEAR}/annex.docx")
    assert unknown.status_code == 422
