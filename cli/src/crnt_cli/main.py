"""``crnt``: the agency's command line. It talks to the services' HTTP APIs only.

URLs come from CRNT_REGISTRY_URL, CRNT_PROGRAMME_URL, CRNT_BUDGET_URL and
CRNT_NOTIFICATIONS_URL (defaults: 127.0.0.1:8001-8004), the token from CRNT_AGENCY_TOKEN.
Every list and show takes ``--json``: what the service answered, and nothing else on stdout.
"""

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from crnt_shared import money
from crnt_shared.money import cents_from_amount
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
)
from rich.table import Table

from crnt_cli.choices import (
    AnnexFormat,
    ApplicationStatus,
    CentreWeight,
    DeliveryStatus,
    EpciKey,
    MailKind,
    MembershipStatus,
    ReportFormat,
    choice,
)
from crnt_cli.client import CliError, Service
from crnt_cli.demo import Steps, seed

# rich_markup_mode=None: a usage error is click's plain "Error: …" sentence, not a framed panel.
app = typer.Typer(
    help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None
)
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

#: ``--json``: print the service's answer as JSON instead of tables.
AsJson = Annotated[
    bool, typer.Option("--json", help="Print what the service answered, as JSON, and only that.")
]
UPLOAD_CHUNK = 64 * 1024


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crnt {metadata.version('crnt-cli')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    pass


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def progress(*columns: str | ProgressColumn) -> Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal (scripts see nothing).
    What the command prints meanwhile goes above the bar when stdout is that terminal too, and
    to stdout untouched when it is a file or a pipe."""
    return Progress(
        *columns,
        console=errors,
        disable=not errors.is_terminal,
        transient=True,
        redirect_stdout=console.is_terminal,
        redirect_stderr=False,
    )


def registry() -> Service:
    return Service.from_env("registry")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(view)


def euros(amount: str | Decimal | None) -> str:
    """``"1234.5"`` → ``1 234,50 €`` as the mails write it: the shared amount, with the shared
    French typography (narrow no-break spaces between thousands, a no-break space before €)."""
    if amount is None:
        return ""
    return money.euros(cents_from_amount(str(amount)))


# Centres ----------------------------------------------------------------------------------


@command(centres, "list")
def centres_list(
    status: Annotated[
        str | None, typer.Option(**choice(MembershipStatus, "A membership status."))
    ] = None,
    epci: Annotated[str | None, typer.Option(help="SIREN of an EPCI")] = None,
    limit: int = 100,
    as_json: AsJson = False,
) -> None:
    """List centres."""
    page = registry().json(
        "GET", "/centres", params={"status": status, "epci_siren": epci, "limit": limit}
    )
    if as_json:
        print_json(page)
        return
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
def centres_show(centre_id: str, as_json: AsJson = False) -> None:
    """A centre with its animators and its membership history."""
    centre = registry().json("GET", f"/centres/{centre_id}")
    if as_json:
        print_json(centre)
        return
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
def centres_import(path: Path, as_json: AsJson = False) -> None:
    """Import a CSV in the national standard: each valid row becomes a pending application."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with progress(*columns) as bar:
        task = bar.add_task(f"sending {path.name}", total=len(content))

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(content), UPLOAD_CHUNK):
                chunk = content[start : start + UPLOAD_CHUNK]
                yield chunk
                bar.advance(task, len(chunk))
            bar.update(task, description=f"the registry checks the rows of {path.name}")

        result = registry().json(
            "POST",
            "/centres/import",
            content=chunks(),
            headers={"Content-Type": "text/csv", "Content-Length": str(len(content))},
            timeout=300.0,
        )
    if as_json:
        print_json(result)
        return
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
def applications_list(
    status: Annotated[
        str, typer.Option(**choice(ApplicationStatus, "An application's status."))
    ] = ApplicationStatus.PENDING,
    limit: int = 100,
    as_json: AsJson = False,
) -> None:
    """List applications (pending by default)."""
    page = registry().json("GET", "/applications", params={"status": status, "limit": limit})
    if as_json:
        print_json(page)
        return
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
    envelope: Annotated[str, typer.Option(help="Centres' dotations, e.g. 30000.00")],
    fixed_ratio: Annotated[str, typer.Option(help="Part split equally, 0 to 1")] = "0.5",
    weight: Annotated[
        str, typer.Option(**choice(CentreWeight, "The centres' weight."))
    ] = CentreWeight.WORKSTATIONS,
    epci_key: Annotated[
        str, typer.Option(**choice(EpciKey, "How the EPCIs share what is left."))
    ] = EpciKey.POPULATION,
    funder: Annotated[
        list[str] | None,
        typer.Option(help="NAME=AMOUNT, or NAME=RATE@CEILING (NAME=RATE@ without a ceiling)"),
    ] = None,
    base: Annotated[
        list[str] | None,
        typer.Option(
            help="A rate's eligible base: NAME=axes:ateliers,formation;natures:investissement;"
            "lines:dotations"
        ),
    ] = None,
    line: Annotated[
        list[str] | None,
        typer.Option(help="A network expense: ID=LABEL=AMOUNT[=investissement]"),
    ] = None,
    share: Annotated[
        list[str] | None, typer.Option(help="With fixed_shares: SIREN=RATIO, e.g. 200069037=0.8")
    ] = None,
) -> None:
    """Configure (or revise) a year's budget: a new version of its plan, dotations and the
    EPCIs' parts of the reste à charge (computed: expenses − grants)."""
    funders = [_funder(spec) for spec in funder or []]
    by_name = {f["name"]: f for f in funders}
    for spec in base or []:
        name, _, criteria = spec.partition("=")
        if name not in by_name:
            raise CliError(f"--base {spec!r}: no --funder named {name!r}")
        by_name[name]["base"] = _base(criteria)
    body: dict[str, Any] = {
        "envelope": envelope,
        "centre_key": {"fixed_ratio": fixed_ratio, "weight": weight},
        "epci_key": epci_key,
        "funders": funders,
        "network_lines": [_line(spec) for spec in line or []],
    }
    if share:
        body["fixed_shares"] = dict(_pair(spec, "--share", "SIREN=RATIO") for spec in share)
    data = budget_service().json("PUT", f"/budgets/{year}", json=body)
    _print_waiting(data)
    if data.get("version"):
        console.print(f"Budget {year}: version {data['version']}, {data['member_count']} members")
        _print_shares(data)


def _pair(spec: str, option: str, shape: str) -> tuple[str, str]:
    key, sep, value = spec.partition("=")
    if not sep or not key or not value:
        raise CliError(f"{option} {spec!r}: write {shape}")
    return key.strip(), value.strip()


def _funder(spec: str) -> dict[str, Any]:
    name, sep, value = spec.rpartition("=")
    if not sep or not name:
        raise CliError(f"--funder {spec!r}: write NAME=AMOUNT or NAME=RATE@CEILING")
    if "@" in value:
        rate, _, ceiling = value.partition("@")
        return {"name": name, "rate": rate, "ceiling": ceiling or None}
    return {"name": name, "amount": value}


def _base(criteria: str) -> dict[str, list[str]]:
    base: dict[str, list[str]] = {"natures": [], "axes": [], "lines": []}
    for part in filter(None, criteria.split(";")):
        kind, _, values = part.partition(":")
        if kind not in base:
            raise CliError(f"--base: {kind!r} is not natures, axes or lines")
        base[kind] = [value.strip() for value in values.split(",") if value.strip()]
    return base


def _line(spec: str) -> dict[str, Any]:
    parts = spec.split("=")
    if len(parts) not in (3, 4):
        raise CliError(f"--line {spec!r}: write ID=LABEL=AMOUNT[=investissement]")
    nature = parts[3] if len(parts) == 4 else "fonctionnement"
    return {"id": parts[0], "label": parts[1], "estimated": parts[2], "nature": nature}


def _print_waiting(data: dict[str, Any]) -> None:
    waiting = data.get("waiting")
    if waiting:
        console.print(
            "[yellow]No new version is published: it waits for[/yellow] "
            + "; ".join(waiting["missing"])
        )


def _voted(epci: dict[str, Any]) -> str:
    voted = epci.get("voted")
    if not voted:
        return "not voted"
    number, day = voted["deliberation_number"], voted["deliberation_date"]
    return f"{euros(voted['amount'])} (n° {number}, {day})"


def _print_shares(data: dict[str, Any]) -> None:
    table(
        f"Centres' dotations (version {data['version']})",
        ["centre", "EPCI", "workstations", "dotation", "previous", "change"],
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
    _print_epcis(data["epcis"])


def _print_epcis(epcis: list[dict[str, Any]]) -> None:
    table(
        "Reste à charge by EPCI (quote-parts)",
        ["EPCI", "population", "member centres", "asked", "change", "voted", "new deliberation"],
        [
            [
                e["name"] or e["siren"],
                e["population"],
                e["member_centres"],
                euros(e["amount"]),
                euros(e["change"]),
                _voted(e),
                "[red]needed[/red]" if e.get("exceeds_voted") else "",
            ]
            for e in epcis
        ],
    )


@command(budget, "shares")
def budget_shares(year: int, as_json: AsJson = False) -> None:
    """The latest dotations of the centres and parts of the EPCIs."""
    data = budget_service().json("GET", f"/budgets/{year}/shares")
    if as_json:
        print_json(data)
        return
    _print_shares(data)


@command(budget, "plan")
def budget_plan(
    year: int,
    version: Annotated[int | None, typer.Option(help="A version; the latest if none")] = None,
    as_json: AsJson = False,
) -> None:
    """The financing plan: expenses (estimated and actual), grants, the reste à charge and what
    each EPCI owes, voted against asked, and the 20 % rule."""
    plan = budget_service().json("GET", f"/budgets/{year}/plan", params={"version": version})
    if as_json:
        print_json(plan)
        return
    console.print(f"Budget {year}, version {plan['version']}: plan [bold]{plan['status']}[/bold]")
    table(
        "Expenses",
        ["expense", "axis", "nature", "estimated", "actual"],
        [
            [
                line["label"],
                line["axis"] or "",
                line["nature"],
                euros(line["estimated"]),
                euros(line["actual"]),
            ]
            for line in plan["expense_lines"]
        ]
        + [["[bold]total[/bold]", "", "", euros(plan["expenses"]), euros(plan["actual_expenses"])]],
    )
    table(
        "Resources",
        ["funder", "rate", "ceiling", "amount"],
        [
            [f["name"], f["rate"] or "", euros(f["ceiling"]), euros(f["amount"])]
            for f in plan["funders"]
        ]
        + [
            ["reste à charge (EPCIs)", "", "", euros(plan["reste_a_charge"])],
            ["[bold]total[/bold]", "", "", euros(plan["resources"])],
        ],
    )
    _print_epcis(plan["epcis"])
    rule = plan["investment_rule"]
    if rule["holds"] is None:
        console.print("20 % rule (CGCT L1111-10): no investment")
    else:
        verdict = "holds" if rule["holds"] else "[red]does not hold[/red]"
        console.print(
            f"20 % rule (CGCT L1111-10) {verdict}: the owner funds {euros(rule['owner_share'])}"
            f" of {euros(rule['investment'])} of investment"
        )


@command(budget, "annex")
def budget_annex(
    year: int,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file")],
    format: Annotated[
        str, typer.Option(**choice(AnnexFormat, "The document's format."))
    ] = AnnexFormat.PDF,
    version: Annotated[int | None, typer.Option(help="A version; the latest if none")] = None,
) -> None:
    """The budget annex a council votes, generated by the budget service for a version."""
    response = budget_service().request(
        "GET", f"/budgets/{year}/annex.{format}", params={"version": version}
    )
    output.write_bytes(response.content)
    console.print(f"{output}: budget {year} annex ({format}, {len(response.content)} bytes)")


@command(budget, "vote")
def budget_vote(
    year: int,
    siren: str,
    amount: Annotated[str, typer.Option(help="The participation voted, e.g. 2000.00")],
    number: Annotated[str, typer.Option(help="The deliberation's number")],
    date: Annotated[str, typer.Option(help="The deliberation's date, YYYY-MM-DD")],
) -> None:
    """Record the participation an EPCI's council voted for the year."""
    body = {"amount": amount, "deliberation_number": number, "deliberation_date": date}
    data = budget_service().json("PUT", f"/budgets/{year}/participations/{siren}", json=body)
    _print_waiting(data)
    _print_epcis(data.get("epcis", []))


@command(budget, "close")
def budget_close(year: int) -> None:
    """Close a year: its last version is its account, nothing recalculates it."""
    data = budget_service().json("POST", f"/budgets/{year}/close")
    console.print(f"Budget {year} closed at version {data['version']}")


@command(budget, "versions")
def budget_versions(year: int, as_json: AsJson = False) -> None:
    """Every version of a year's budget, with its cause."""
    data = budget_service().json("GET", f"/budgets/{year}/versions")
    if as_json:
        print_json(data)
        return
    table(
        f"Budget {year}: versions",
        ["version", "computed", "cause", "events", "members", "changed", "plan", "reste à charge"],
        [
            [
                v["version"],
                v["computed_at"],
                v["cause"]["kind"],
                v["cause"]["event_count"],
                v["member_count"],
                v["changed_centres"],
                v["financing_status"],
                euros(v.get("reste_a_charge")),
            ]
            for v in data["items"]
        ],
    )


def _changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]], key: str
) -> list[list[str]]:
    old = {item[key]: item for item in before}
    new = {item[key]: item for item in after}
    rows = []
    for ident in sorted(old.keys() | new.keys(), key=lambda i: (new.get(i) or old[i])["name"]):
        was = Decimal(old[ident]["amount"]) if ident in old else Decimal(0)
        now = Decimal(new[ident]["amount"]) if ident in new else Decimal(0)
        if was != now:
            name = (new.get(ident) or old[ident])["name"]
            rows.append([name, euros(str(was)), euros(str(now)), euros(str(now - was))])
    return rows


@command(budget, "diff")
def budget_diff(year: int, first: int, second: int, as_json: AsJson = False) -> None:
    """What changed between two versions: the plan, each EPCI's part, each dotation
    (``--json``: both versions as the service gave them, ``{"before": …, "after": …}``)."""
    service = budget_service()
    before = service.json("GET", f"/budgets/{year}/versions/{first}")
    after = service.json("GET", f"/budgets/{year}/versions/{second}")
    if as_json:
        print_json({"before": before, "after": after})
        return
    title = f"Budget {year}: version {first} → {second}"
    plan_rows = []
    for label, name in (
        ("expenses", "expenses"),
        ("actual expenses", "actual_expenses"),
        ("grants", "grants"),
        ("reste à charge", "reste_a_charge"),
    ):
        was = Decimal(before["financing_plan"].get(name) or 0)
        now = Decimal(after["financing_plan"].get(name) or 0)
        plan_rows.append([label, euros(str(was)), euros(str(now)), euros(str(now - was))])
    plan_rows.append(
        [
            "status",
            before["financing_plan"]["status"],
            after["financing_plan"]["status"],
            "",
        ]
    )
    table(f"{title}: plan", ["", "before", "after", "change"], plan_rows)
    epcis = _changes(before["epcis"], after["epcis"], "siren")
    table(f"{title}: EPCIs", ["EPCI", "before", "after", "change"], epcis)
    centres = _changes(before["centres"], after["centres"], "centre_id")
    table(f"{title}: dotations", ["centre", "before", "after", "change"], centres)
    if not (epcis or centres):
        console.print("no EPCI part nor dotation changed")


# Programme --------------------------------------------------------------------------------


def programme_service() -> Service:
    return Service.from_env("programme")


@command(programme, "show")
def programme_show(year: int, as_json: AsJson = False) -> None:
    """The programme of a year: its status, totals by axis and actions."""
    data = programme_service().json("GET", f"/programmes/{year}")
    if as_json:
        print_json(data)
        return
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
def programme_report(
    year: int,
    format: Annotated[
        str | None,
        typer.Option(**choice(ReportFormat, "Write the report document (with -o)")),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    as_json: AsJson = False,
) -> None:
    """État d'avancement and bilan: by axis and by lead centre, actions by status, planned vs
    actual cost, progress and indicators; ``--format pdf -o FILE`` writes the document."""
    if format is not None or output is not None:
        if format is None or output is None:
            raise CliError("write the report with --format pdf|ods -o FILE")
        response = programme_service().request("GET", f"/programmes/{year}/report.{format}")
        output.write_bytes(response.content)
        console.print(
            f"{output}: programme {year} report ({format}, {len(response.content)} bytes)"
        )
        return
    data = programme_service().json("GET", f"/programmes/{year}/report")
    if as_json:
        print_json(data)
        return

    def indicators(values: dict[str, Any]) -> str:
        return (
            f"{values['sessions']} sessions, {values['people_reached']} people, {values['hours']} h"
        )

    rows = [
        [
            axis["label"],
            axis["actions"],
            ", ".join(f"{k} {v}" for k, v in axis["by_status"].items() if v),
            euros(axis["planned_cost"]),
            euros(axis["actual_cost"]),
            f"{axis['progress']} %",
            indicators(axis["indicators"]),
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
            indicators(overall["indicators"]),
        ]
    )
    table(
        f"Programme {year} ({data['status']}): report",
        ["axis", "actions", "by status", "planned", "actual", "progress", "indicators"],
        rows,
    )
    table(
        "By lead centre",
        ["centre", "actions", "done", "planned", "actual", "indicators"],
        [
            [
                c["name"],
                c["actions"],
                c["done"],
                euros(c["planned_cost"]),
                euros(c["actual_cost"]),
                indicators(c["indicators"]),
            ]
            for c in data["centres"]
        ],
    )
    if overall.get("needing_a_lead"):
        console.print(f"[yellow]{overall['needing_a_lead']} action(s) need a new lead[/yellow]")


# Deliveries -------------------------------------------------------------------------------


@command(deliveries, "list")
def deliveries_list(
    status: Annotated[
        str | None, typer.Option(**choice(DeliveryStatus, "A delivery status."))
    ] = None,
    recipient: Annotated[str | None, typer.Option(help="an email address")] = None,
    kind: Annotated[
        str | None, typer.Option(**choice(MailKind, "The kind of mail", metavar="KIND"))
    ] = None,
    limit: int = 50,
    as_json: AsJson = False,
) -> None:
    """Emails and their delivery status."""
    page = Service.from_env("notifications").json(
        "GET",
        "/deliveries",
        params={"status": status, "recipient": recipient, "kind": kind, "limit": limit},
    )
    if as_json:
        print_json(page)
        return
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
    with progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()
    ) as bar:
        steps = Steps(bar, bar.add_task("seeding the demo territory", total=None))
        seed(console, registry(), budget_service(), programme_service(), copil, steps)
    console.print("[green]demo territory ready[/green]")


def main() -> None:
    app()
