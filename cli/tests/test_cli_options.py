"""The CLI's own behaviour, without a service: its version, its choices and their completion,
and its amounts, which must read exactly as the mails write them."""

from enum import StrEnum
from importlib import metadata

import pytest
from crnt_budget.domain import CentreWeight as BudgetCentreWeight
from crnt_budget.domain import EpciKey as BudgetEpciKey
from crnt_cli.main import app
from crnt_cli.output import euros
from crnt_notifications import formatting
from crnt_notifications.domain import Kind, Status
from crnt_registry.api import ApplicationStatus as RegistryApplicationStatus
from crnt_registry.domain import MembershipStatus
from crnt_shared import vocabularies
from crnt_shared.money import amount_from_cents
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

runner = CliRunner()


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"crnt {metadata.version('crnt-cli')}\n"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (vocabularies.MembershipStatus, MembershipStatus),
        (vocabularies.ApplicationStatus, RegistryApplicationStatus),
        (vocabularies.DeliveryStatus, Status),
        (vocabularies.MailKind, Kind),
        (vocabularies.CentreWeight, BudgetCentreWeight),
        (vocabularies.EpciKey, BudgetEpciKey),
    ],
)
def test_each_choice_is_what_the_service_accepts(
    ours: type[StrEnum], theirs: type[StrEnum]
) -> None:
    assert [value.value for value in ours] == [value.value for value in theirs]


@pytest.mark.parametrize(
    ("args", "option", "values"),
    [
        (["centres", "list", "--status", "membre"], "--status", "pending, member, rejected"),
        (["applications", "list", "--status", "open"], "--status", "pending, approved"),
        (["deliveries", "list", "--status", "lost"], "--status", "pending, sent, retrying"),
        (["deliveries", "list", "--kind", "welcome"], "--kind", "address_confirmation"),
        (
            ["budget", "configure", "2026", "--envelope", "1.00", "--weight", "x"],
            "--weight",
            "workstations, none",
        ),
        (
            ["budget", "configure", "2026", "--envelope", "1.00", "--epci-key", "x"],
            "--epci-key",
            "",
        ),
        (["budget", "annex", "2026", "-o", "a.doc", "--format", "doc"], "--format", "pdf, ods"),
        (["programme", "report", "2026", "--format", "doc"], "--format", "pdf, ods"),
    ],
)
def test_an_invalid_choice_is_refused_in_one_sentence_that_lists_the_values(
    args: list[str], option: str, values: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    *_, last = result.stderr.strip().splitlines()
    assert last.startswith(f"Error: Invalid value for '{option}': '{args[-1]}' is not one of ")
    assert values in last
    assert last.endswith(".")
    assert last.count(". ") == 0
    assert "Traceback" not in result.stderr


def test_the_shell_completes_a_choice() -> None:
    result = runner.invoke(
        app,
        [],
        prog_name="crnt",
        env={
            "_CRNT_COMPLETE": "complete_bash",
            "COMP_WORDS": "crnt deliveries list --status re",
            "COMP_CWORD": "4",
        },
    )
    assert result.stdout.split() == ["retrying"]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_amounts_read_as_the_mails_write_them(cents: int) -> None:
    assert euros(amount_from_cents(cents)) == formatting.euros(cents)


def test_an_amount_has_french_spaces() -> None:
    assert euros("1234567.5") == "1\u202f234\u202f567,50\u00a0€"
    assert euros("-12.00") == "\u221212,00\u00a0€"
    assert euros(None) == ""
