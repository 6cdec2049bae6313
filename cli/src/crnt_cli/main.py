"""``crnt``: the agency's command line. It talks to the services' HTTP APIs only.

URLs come from CRNT_REGISTRY_URL, CRNT_PROGRAMME_URL, CRNT_BUDGET_URL and
CRNT_NOTIFICATIONS_URL (defaults: 127.0.0.1:8001-8004), the token from CRNT_AGENCY_TOKEN.
"""

import functools
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from crnt_cli.client import CliError, Service
from crnt_cli.demo import seed

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
centres = typer.Typer(help="Member centres and their membership.", no_args_is_help=True)
applications = typer.Typer(help="Applications to join the network.", no_args_is_help=True)
budget = typer.Typer(help="The yearly budget and its shares.", no_args_is_help=True)
programme = typer.Typer(help="The yearly work programme.", no_args_is_help=True)
deliveries = typer.Typer(help="Emails sent to the animators and the agency.", no_args_is_help=True)
demo = typer.Typer(help="The demo territory (Pays de Saint-Omer).", no_args_is_help=True)
app.add_typer(centres, name="centres")
app.add_typer(applications, name="applications")
app.add_typer(budget, name="budget")
app.add_typer(programme, name="programme")
app.add_typer(deliveries, name="deliveries")
app.add_typer(demo, name="demo")

NARROW_NBSP = "\u202f"
console = Console()

Command = TypeVar("Command", bound=Callable[..., None])


def command(group: typer.Typer, name: str) -> Callable[[Command], Command]:
    """Register a command whose CliError is one sentence on stderr and exit status 1."""

    def register(function: Command) -> Command:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                function(*args, **kwargs)
            except CliError as error:
                errors.print(f"[red]Error:[/red] {error}", highlight=False)
                raise typer.Exit(1) from None

        group.command(name)(run)
        return function

    return register


errors = Console(stderr=True)


def registry() -> Service:
    return Service.from_env("registry")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(view)


def euros(amount: str | None) -> str:
    """'1234.5' → '1 234,50 €' (French format)."""
    if amount is None:
        return ""
    value = Decimal(amount)
    whole, _, cents = f"{abs(value):,.2f}".partition(".")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole.replace(',', NARROW_NBSP)},{cents} €"


# Centres ----------------------------------------------------------------------------------


@command(centres, "list")
def centres_list(
    status: Annotated[str | None, typer.Option(help="pending, member, suspended, ...")] = None,
    epci: Annotated[str | None, typer.Option(help="SIREN of an EPCI")] = None,
    limit: int = 100,
) -> None:
    """List centres."""
    page = registry().json(
        "GET", "/centres", params={"status": status, "epci_siren": epci, "limit": limit}
    )
    rows = [
        [c["id"], c["nom"], c["commune"], c.get("epci_siren"), c.get("workstations"), c["status"]]
        for c in page["items"]
    ]
    table(
        f"Centres ({page['total']})",
        ["id", "name", "commune", "EPCI", "workstations", "status"],
        rows,
    )


@command(centres, "show")
def centres_show(centre_id: str) -> None:
    """A centre with its animators and its membership history."""
    centre = registry().json("GET", f"/centres/{centre_id}")
    facts = [
        [key, centre.get(key)]
        for key in (
            "id",
            "nom",
            "pivot",
            "adresse",
            "code_postal",
            "commune",
            "code_insee",
            "epci_siren",
            "typologie",
            "workstations",
            "status",
        )
    ]
    table(centre["nom"], ["field", "value"], facts)
    animators = centre.get("animators") or []
    table(
        "Animators", ["id", "name", "email"], [[a["id"], a["name"], a["email"]] for a in animators]
    )
    history = centre.get("history") or []
    table(
        "History",
        ["at", "action", "from", "to", "by", "reason"],
        [
            [
                h.get("at"),
                h.get("action"),
                h.get("previous_status"),
                h.get("status"),
                h.get("by"),
                h.get("reason"),
            ]
            for h in history
        ],
    )


def _transition(centre_id: str, action: str, reason: str) -> None:
    result = registry().json("POST", f"/centres/{centre_id}/{action}", json={"reason": reason})
    console.print(f"{result.get('nom', centre_id)}: now [bold]{result['status']}[/bold]")


@command(centres, "suspend")
def centres_suspend(centre_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Suspend a member centre."""
    _transition(centre_id, "suspend", reason)


@command(centres, "reinstate")
def centres_reinstate(centre_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Reinstate a suspended centre."""
    _transition(centre_id, "reinstate", reason)


@command(centres, "withdraw")
def centres_withdraw(centre_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Withdraw a member or suspended centre from the network."""
    _transition(centre_id, "withdraw", reason)


@command(centres, "import")
def centres_import(path: Path) -> None:
    """Import a CSV in the national standard: each valid row becomes a pending application."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=errors) as bar:
        bar.add_task(f"importing {path.name} ({len(content)} bytes)", total=None)
        result = registry().json(
            "POST",
            "/centres/import",
            content=content,
            headers={"Content-Type": "text/csv"},
            timeout=300.0,
        )
    console.print(result)


@command(centres, "export")
def centres_export(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export the member centres as a CSV in the national standard."""
    text = registry().request("GET", "/centres/export.csv").text
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        errors.print(f"written to {output}")


# Applications -----------------------------------------------------------------------------


@command(applications, "list")
def applications_list(status: str | None = "pending", limit: int = 100) -> None:
    """List applications (pending by default)."""
    page = registry().json("GET", "/applications", params={"status": status, "limit": limit})
    rows = [
        [
            a["id"],
            a.get("centre_id"),
            (a.get("centre") or {}).get("nom", a.get("nom")),
            a["status"],
            a.get("confirmation"),
            a.get("submitted_at"),
        ]
        for a in page["items"]
    ]
    columns = ["id", "centre", "name", "status", "addresses", "submitted"]
    table(f"Applications ({page['total']})", columns, rows)


@command(applications, "approve")
def applications_approve(application_id: str) -> None:
    """Approve an application: the centre becomes a member."""
    result = registry().json("POST", f"/applications/{application_id}/approve")
    console.print(f"centre {result['centre_id']}: now [bold]{result['status']}[/bold]")


@command(applications, "reject")
def applications_reject(application_id: str, reason: Annotated[str, typer.Option()]) -> None:
    """Reject an application, with the reason the applicant will read."""
    result = registry().json(
        "POST", f"/applications/{application_id}/reject", json={"reason": reason}
    )
    console.print(f"application {application_id}: now [bold]{result['status']}[/bold]")


# Budget -----------------------------------------------------------------------------------


def budget_service() -> Service:
    return Service.from_env("budget")


@command(budget, "configure")
def budget_configure(
    year: int,
    envelope: Annotated[str, typer.Option(help="Shared among member centres, e.g. 30000.00")],
    epci_contribution: Annotated[str, typer.Option(help="What the EPCIs pay together")],
    fixed_ratio: Annotated[str, typer.Option(help="Part split equally, 0 to 1")] = "0.5",
    weight: Annotated[str, typer.Option(help="workstations or none")] = "workstations",
    epci_key: Annotated[str, typer.Option(help="population or member_centres")] = "population",
    funder: Annotated[
        list[str] | None,
        typer.Option(help="NAME=AMOUNT, or NAME=RATE@CEILING for a rate of the expenses"),
    ] = None,
) -> None:
    """Configure (or revise) a year's budget: a new version of the shares."""
    funders = [_funder(spec) for spec in funder or []]
    body = {
        "envelope": envelope,
        "centre_key": {"fixed_ratio": fixed_ratio, "weight": weight},
        "epci_contribution": epci_contribution,
        "epci_key": epci_key,
        "funders": funders,
    }
    data = budget_service().json("PUT", f"/budgets/{year}", json=body)
    console.print(f"Budget {year}: version {data['version']}, {data['member_count']} members")
    _print_shares(data)


def _funder(spec: str) -> dict[str, str]:
    name, sep, value = spec.rpartition("=")
    if not sep or not name:
        raise CliError(f"--funder {spec!r}: write NAME=AMOUNT or NAME=RATE@CEILING")
    if "@" in value:
        rate, _, ceiling = value.partition("@")
        return {"name": name, "rate": rate, "ceiling": ceiling}
    return {"name": name, "amount": value}


def _print_shares(data: dict[str, Any]) -> None:
    table(
        f"Centres' shares (version {data['version']})",
        ["centre", "EPCI", "workstations", "amount", "previous", "change"],
        [
            [
                c["name"],
                c["epci_siren"],
                c["workstations"],
                euros(c["amount"]),
                euros(c["previous"]),
                euros(c["change"]),
            ]
            for c in data["centres"]
        ],
    )
    table(
        "EPCIs' contributions (quote-parts)",
        ["EPCI", "population", "member centres", "amount", "change"],
        [
            [
                e["name"] or e["siren"],
                e["population"],
                e["member_centres"],
                euros(e["amount"]),
                euros(e["change"]),
            ]
            for e in data["epcis"]
        ],
    )


@command(budget, "shares")
def budget_shares(year: int) -> None:
    """The latest shares of the centres and the EPCIs."""
    _print_shares(budget_service().json("GET", f"/budgets/{year}/shares"))


@command(budget, "versions")
def budget_versions(year: int) -> None:
    """Every version of a year's shares, with its cause."""
    data = budget_service().json("GET", f"/budgets/{year}/versions")
    table(
        f"Budget {year}: versions",
        ["version", "computed", "cause", "events", "members", "changed", "financing"],
        [
            [
                v["version"],
                v["computed_at"],
                v["cause"]["kind"],
                v["cause"]["event_count"],
                v["member_count"],
                v["changed_centres"],
                v["financing_status"],
            ]
            for v in data["items"]
        ],
    )


@command(budget, "diff")
def budget_diff(year: int, first: int, second: int) -> None:
    """The change of each share between two versions."""
    service = budget_service()
    before = service.json("GET", f"/budgets/{year}/versions/{first}")
    after = service.json("GET", f"/budgets/{year}/versions/{second}")
    old = {c["centre_id"]: c for c in before["centres"]}
    new = {c["centre_id"]: c for c in after["centres"]}
    rows = []
    for centre_id in sorted(old.keys() | new.keys(), key=lambda i: (new.get(i) or old[i])["name"]):
        was = Decimal(old[centre_id]["amount"]) if centre_id in old else Decimal(0)
        now = Decimal(new[centre_id]["amount"]) if centre_id in new else Decimal(0)
        if was != now:
            name = (new.get(centre_id) or old[centre_id])["name"]
            rows.append([name, euros(str(was)), euros(str(now)), euros(str(now - was))])
    table(
        f"Budget {year}: version {first} → {second}", ["centre", "before", "after", "change"], rows
    )
    if not rows:
        console.print("no share changed")


# Programme --------------------------------------------------------------------------------


def programme_service() -> Service:
    return Service.from_env("programme")


@command(programme, "show")
def programme_show(year: int) -> None:
    """The programme of a year: its status, totals by axis and actions."""
    data = programme_service().json("GET", f"/programmes/{year}")
    console.print(
        f"Programme {year}: [bold]{data['status']}[/bold]"
        + (f", version {data['version']}" if data.get("version") else "")
        + f", total {euros(data['total'])}"
    )
    table(
        "Totals by axis",
        ["axis", "amount"],
        [[axis, euros(amount)] for axis, amount in data["totals_by_axis"].items()],
    )
    table(
        "Actions",
        ["axis", "title", "status", "progress", "lead", "cost"],
        [
            [
                a["axis"],
                a["title"],
                a["status"],
                f"{a.get('progress', 0)} %",
                _lead_name(a),
                euros(a.get("estimated_cost")),
            ]
            for a in data["actions"]
        ],
    )


def _lead_name(action: dict[str, Any]) -> str:
    for participant in action.get("participants", []):
        if participant.get("lead"):
            return str(participant.get("centre_name") or participant["centre_id"])
    return "(needs a lead)"


@command(programme, "report")
def programme_report(year: int) -> None:
    """État d'avancement: by axis, actions by status, planned vs actual cost, progress."""
    data = programme_service().json("GET", f"/programmes/{year}/report")
    rows = [
        [
            axis["label"],
            axis["actions"],
            ", ".join(f"{k} {v}" for k, v in axis["by_status"].items() if v),
            euros(axis["planned_cost"]),
            euros(axis["actual_cost"]),
            f"{axis['progress']} %",
        ]
        for axis in data["axes"]
    ]
    overall = data["overall"]
    rows.append(
        [
            "[bold]total[/bold]",
            overall["actions"],
            ", ".join(f"{k} {v}" for k, v in overall["by_status"].items() if v),
            euros(overall["planned_cost"]),
            euros(overall["actual_cost"]),
            f"{overall['progress']} %",
        ]
    )
    table(
        f"Programme {year} ({data['status']}): report",
        ["axis", "actions", "by status", "planned", "actual", "progress"],
        rows,
    )
    if overall.get("needing_a_lead"):
        console.print(f"[yellow]{overall['needing_a_lead']} action(s) need a new lead[/yellow]")


# Deliveries -------------------------------------------------------------------------------


@command(deliveries, "list")
def deliveries_list(
    status: Annotated[str | None, typer.Option(help="pending, sent, retrying, failed, ...")] = None,
    recipient: Annotated[str | None, typer.Option(help="an email address")] = None,
    kind: Annotated[str | None, typer.Option(help="the kind of mail")] = None,
    limit: int = 50,
) -> None:
    """Emails and their delivery status."""
    page = Service.from_env("notifications").json(
        "GET",
        "/deliveries",
        params={"status": status, "recipient": recipient, "kind": kind, "limit": limit},
    )
    items = page["items"] if isinstance(page, dict) else page
    table(
        f"Deliveries ({page.get('total', len(items)) if isinstance(page, dict) else len(items)})",
        ["created", "recipient", "kind", "status", "subject"],
        [
            [
                d.get("created_at"),
                d.get("recipient"),
                d.get("kind"),
                d.get("status"),
                d.get("subject"),
            ]
            for d in items
        ],
    )


@command(demo, "seed")
def demo_seed() -> None:
    """Seed the Pays de Saint-Omer: EPCIs, real places, fictitious animators, a 2026 budget and
    programme. Running it twice duplicates nothing."""
    copil = os.environ.get("CRNT_COPIL_TOKEN")
    seed(console, registry(), budget_service(), programme_service(), copil)
    console.print("[green]demo territory ready[/green]")


def main() -> None:
    app()
