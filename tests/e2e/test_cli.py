"""The agency's CLI against the whole running system: the demo seed (twice), reads, errors."""

import pytest
from crnt_cli.main import app
from typer.testing import CliRunner

from tests.e2e.system import AGENCY_TOKEN, COPIL_TOKEN, System

pytestmark = pytest.mark.integration


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
    assert "27\u202f500,00 €" in report
    versions = run(cli, "budget", "versions", "2026")
    assert "manual" in versions


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
