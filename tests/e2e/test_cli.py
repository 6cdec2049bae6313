"""The agency's CLI against the whole running system: the demo seed (twice), reads, errors."""

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from crnt_cli import output
from crnt_cli.client import Service
from crnt_cli.demo import DATA, EPCIS
from crnt_cli.main import app
from crnt_shared.testing import wait_until
from openpyxl import load_workbook
from pypdf import PdfReader
from rich.console import Console
from typer.testing import CliRunner

from tests.e2e.system import AGENCY_TOKEN, COPIL_TOKEN, System

pytestmark = pytest.mark.integration
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def cli(system: System, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, service in system.services.items():
        monkeypatch.setenv(f"CRNT_{name.upper()}_URL", service.url)
    monkeypatch.setenv("CRNT_AGENCY_TOKEN", AGENCY_TOKEN)
    monkeypatch.setenv("CRNT_COPIL_TOKEN", COPIL_TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.stdout + result.stderr


async def test_the_demo_seed_builds_the_territory_once(cli: CliRunner) -> None:
    first = run(cli, "demo", "seed")
    assert "places of the territory imported: 8 applications" in first
    assert "validated by the steering committee" in first
    second = run(cli, "demo", "seed")
    assert "imported" not in second
    assert "registered" not in second
    assert "member:" not in second
    members = run(cli, "centres", "list", "--status", "member")
    assert "Centres (8)" in members
    assert "France services de Saint-Omer" in members
    report = run(cli, "programme", "report", "2026")
    assert f"27{NNBSP}500,00{NBSP}€" in report
    versions = run(cli, "budget", "versions", "2026")
    assert "manual" in versions


async def test_the_demo_plan_balances_and_its_documents_say_so(
    cli: CliRunner, tmp_path: Path, system: System
) -> None:
    """The demo's 2026 plan: the actions 27,500.00 and the dotations 30,000.00; the Region's
    15,000.00, FEDER 50 % of the actions capped at 10,000.00 and the Region's 30,000.00 for
    the dotations; the reste à charge 2,500.00 by population: 250,000 × 104,937 / 129,124 =
    203,171.45… and 250,000 × 24,187 / 129,124 = 46,828.54…, the cent left to the larger
    remainder: CAPSO 2,031.71 €, CCPL 468.29 €."""
    run(cli, "demo", "seed")

    async def settled() -> str | None:
        plan = run(cli, "budget", "plan", "2026")
        return plan if f"468,29{NBSP}€" in plan else None

    plan = await wait_until(settled, timeout=90, message="the demo plan with the programme")
    assert "plan balanced" in plan
    assert f"2{NNBSP}031,71{NBSP}€" in plan
    assert f"57{NNBSP}500,00{NBSP}€" in plan
    assert "20 % rule (CGCT L1111-10) holds" in plan
    annex = tmp_path / "annexe.pdf"
    run(cli, "budget", "annex", "2026", "--format", "pdf", "-o", str(annex))
    text = "".join(page.extract_text() for page in PdfReader(annex).pages).replace(NBSP, " ")
    assert "2 031,71 €" in text
    assert "468,29 €" in text
    xlsx = tmp_path / "annexe.xlsx"
    run(cli, "budget", "annex", "2026", "--format", "xlsx", "-o", str(xlsx))
    assert load_workbook(xlsx)["Reste à charge par EPCI"].max_row == 4  # header, 2, total
    report = tmp_path / "bilan.pdf"
    run(cli, "programme", "report", "2026", "--format", "pdf", "-o", str(report))
    assert "27 500,00 €" in "".join(p.extract_text() for p in PdfReader(report).pages).replace(
        NBSP, " "
    )
    versions = run(cli, "budget", "versions", "2026").splitlines()
    cells = [line.split()[1] for line in versions if line.strip().startswith("│")]
    numbers = [cell for cell in cells if cell.isdigit()]
    first, last = numbers[0], numbers[-1]
    diff = run(cli, "budget", "diff", "2026", first, last)
    assert "reste à charge" in diff
    assert "CAPSO" in diff
    # CAPSO's council voted 2,000.00: the next version asks 2,031.71, one mail to the agency;
    # recording the same vote again asks the same: no second mail.
    subject = f"Budget 2026{NNBSP}: la participation demandée à Communauté d'agglomération du Pays"

    async def agency_mails() -> list[dict[str, Any]]:
        found = await system.mails_to("agence@example.org")
        return [m for m in found if m["Subject"].startswith(subject)]

    before = len(await agency_mails())
    vote = ["--amount", "2000.00", "--number", "2026-042", "--date", "2026-03-12"]
    voted = run(cli, "budget", "vote", "2026", "200069037", *vote)
    assert "needed" in voted
    run(cli, "budget", "vote", "2026", "200069037", *vote)

    async def mailed() -> list[dict[str, Any]] | None:
        found = await agency_mails()
        return found if len(found) > before else None

    [*_, mail] = await wait_until(mailed, timeout=60, message="the agency's mail")
    assert "une nouvelle délibération est nécessaire" in mail["Text"]
    assert f"participation votée 2{NNBSP}000,00{NBSP}€" in mail["Text"]
    assert f"montant demandé 2{NNBSP}031,71{NBSP}€" in mail["Text"]
    await asyncio.sleep(3)  # two coalescing windows: a second mail would be there
    assert len(await agency_mails()) == before + 1


async def test_errors_are_one_sentence_not_a_traceback(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = run(cli, "applications", "approve", "00000000-0000-0000-0000-000000000000", code=1)
    assert "registry answered 404" in output
    assert "Traceback" not in output
    monkeypatch.setenv("CRNT_AGENCY_TOKEN", "wrong")
    output = run(cli, "applications", "list", code=1)
    assert "registry answered 401" in output
    assert "Set CRNT_AGENCY_TOKEN" in output
    monkeypatch.setenv("CRNT_BUDGET_URL", "http://127.0.0.1:9")
    output = run(cli, "budget", "shares", "2026", code=1)
    assert "The budget service does not answer at http://127.0.0.1:9" in output


def as_json(cli: CliRunner, *args: str) -> Any:
    """A ``--json`` command: valid JSON on stdout and nothing else, nothing on stderr."""
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stderr == ""
    return json.loads(result.stdout)


DEMO_PLACES = Path(str(DATA / "pays-de-saint-omer-lieux.csv"))


def register_the_demo_epcis(system: System) -> None:
    """The places' communes must belong to known EPCIs before the places can be imported."""
    registry = Service("registry", system.services["registry"].url, AGENCY_TOKEN)
    communes: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO((DATA / "communes-epci.csv").read_text("utf-8"))):
        communes.setdefault(row["epci_siren"], []).append(row["code_insee"])
    for siren, (name, population) in EPCIS.items():
        body = {"siren": siren, "name": name, "population": population}
        registry.json("POST", "/epcis", json={**body, "communes": communes[siren]})


async def test_every_list_and_show_answers_json(cli: CliRunner, system: System) -> None:
    register_the_demo_epcis(system)
    imported = as_json(cli, "centres", "import", str(DEMO_PLACES))  # no terminal: no bar
    assert imported["imported"] == 8
    seeded = cli.invoke(app, ["demo", "seed"])
    assert seeded.exit_code == 0, (seeded.output, seeded.exception)
    assert seeded.stderr == ""
    assert "member: France services de Saint-Omer" in seeded.stdout
    members = as_json(cli, "centres", "list", "--status", "member")
    assert members["total"] == 8
    assert {c["status"] for c in members["items"]} == {"member"}
    centre = as_json(cli, "centres", "show", members["items"][0]["id"])
    assert centre["id"] == members["items"][0]["id"]
    assert centre["animators"]
    approved = as_json(cli, "applications", "list", "--status", "approved")
    assert approved["total"] == 8
    assert as_json(cli, "applications", "list")["total"] == 0
    programme = as_json(cli, "programme", "show", "2026")
    assert programme["status"] == "validated"
    assert programme["total"] == "27500.00"
    report = as_json(cli, "programme", "report", "2026")
    assert report["overall"]["actions"] == 5

    async def planned() -> Any:
        plan = as_json(cli, "budget", "plan", "2026")
        return plan if plan["reste_a_charge"] == "2500.00" else None

    plan = await wait_until(planned, timeout=90, message="the demo plan with the programme")
    assert {e["amount"] for e in plan["epcis"]} == {"2031.71", "468.29"}
    shares = as_json(cli, "budget", "shares", "2026")
    assert len(shares["centres"]) == 8
    versions = as_json(cli, "budget", "versions", "2026")["items"]
    first, last = str(versions[0]["version"]), str(versions[-1]["version"])
    diff = as_json(cli, "budget", "diff", "2026", first, last)
    assert (diff["before"]["version"], diff["after"]["version"]) == (int(first), int(last))

    async def delivered() -> Any:
        page = as_json(cli, "deliveries", "list", "--kind", "membership_welcome")
        return page if page["items"] else None

    welcomes = await wait_until(delivered, timeout=60, message="the welcome mails")
    assert {d["kind"] for d in welcomes["items"]} == {"membership_welcome"}
    assert as_json(cli, "deliveries", "list", "--status", "failed")["items"] == []


async def test_progress_bars_are_drawn_on_a_terminal_stderr(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, system: System
) -> None:
    register_the_demo_epcis(system)
    terminal = io.StringIO()
    monkeypatch.setattr(output, "errors", Console(file=terminal, force_terminal=True, width=120))
    imported = cli.invoke(app, ["centres", "import", str(DEMO_PLACES), "--json"])
    assert imported.exit_code == 0, (imported.output, imported.exception)
    assert "sending pays-de-saint-omer-lieux.csv" in terminal.getvalue()
    assert json.loads(imported.stdout)["imported"] == 8  # stdout: the JSON, nothing else
    terminal.seek(0)
    terminal.truncate(0)
    seeded = cli.invoke(app, ["demo", "seed"])
    assert seeded.exit_code == 0, (seeded.output, seeded.exception)
    drawn = terminal.getvalue()
    assert "13/13" in drawn  # 2 EPCIs, the budget, the places, 8 approvals, the programme
    assert "programme 2026" in drawn
    assert "\x1b[" not in seeded.stdout  # what the seed says stays plain on stdout
    assert "member: France services de Saint-Omer" in seeded.stdout
