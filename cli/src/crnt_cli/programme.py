"""``crnt programme``: a year's work programme and its report."""

from pathlib import Path
from typing import Annotated, Any

import typer

from crnt_cli.choices import ReportFormat, choice
from crnt_cli.client import CliError, Service
from crnt_cli.output import AsJson, as_json_if, command, console, euros, group, table, written

programme = group("The yearly work programme.")


def service() -> Service:
    return Service.from_env("programme")


@command(programme, "show")
def programme_show(year: int, as_json: AsJson = False) -> None:
    """The programme of a year: its status, totals by axis and actions."""
    data = service().json("GET", f"/programmes/{year}")
    if as_json_if(as_json, data):
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
        choice(ReportFormat, "Write the report document (with -o)"),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    as_json: AsJson = False,
) -> None:
    """État d'avancement and bilan: by axis and by lead centre, actions by status, planned vs
    actual cost, progress and indicators; ``--format pdf -o FILE`` writes the document."""
    if format is not None or output is not None:
        if format is None or output is None:
            raise CliError("write the report with --format pdf|ods -o FILE")
        response = service().request("GET", f"/programmes/{year}/report.{format}")
        written(f"programme {year} report ({format})", output, response.content)
        return
    data = service().json("GET", f"/programmes/{year}/report")
    if as_json_if(as_json, data):
        return

    overall = data["overall"]
    rows = [_report_row(axis["label"], axis) for axis in data["axes"]]
    rows.append(_report_row("[bold]total[/bold]", overall))
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
                _indicators(c["indicators"]),
            ]
            for c in data["centres"]
        ],
    )
    if overall.get("needing_a_lead"):
        console.print(f"[yellow]{overall['needing_a_lead']} action(s) need a new lead[/yellow]")


def _indicators(values: dict[str, Any]) -> str:
    return f"{values['sessions']} sessions, {values['people_reached']} people, {values['hours']} h"


def _report_row(label: str, values: dict[str, Any]) -> list[Any]:
    """An axis's line of the report, or the total's."""
    return [
        label,
        values["actions"],
        ", ".join(f"{k} {v}" for k, v in values["by_status"].items() if v),
        euros(values["planned_cost"]),
        euros(values["actual_cost"]),
        f"{values['progress']} %",
        _indicators(values["indicators"]),
    ]
