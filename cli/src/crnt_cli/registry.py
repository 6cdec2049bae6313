"""``crnt centres`` and ``crnt applications``: the registry's members and applications."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from crnt_shared.vocabularies import CENTRE_MAIN_FIELDS, ApplicationStatus, MembershipStatus
from rich.progress import BarColumn, DownloadColumn, SpinnerColumn, TextColumn

from crnt_cli.choices import choice
from crnt_cli.client import CliError, Service
from crnt_cli.output import AsJson, as_json_if, command, console, errors, group, progress, table

centres = group("Member centres and their membership.")
applications = group("Applications to join the network.")
UPLOAD_CHUNK = 64 * 1024


def registry() -> Service:
    return Service.from_env("registry")


@command(centres, "list")
def centres_list(
    status: Annotated[str | None, choice(MembershipStatus, "A membership status.")] = None,
    epci: Annotated[str | None, typer.Option(help="SIREN of an EPCI")] = None,
    limit: int = 100,
    as_json: AsJson = False,
) -> None:
    """List centres."""
    page = registry().json(
        "GET", "/centres", params={"status": status, "epci_siren": epci, "limit": limit}
    )
    if as_json_if(as_json, page):
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
    if as_json_if(as_json, centre):
        return
    facts = [[key, centre.get(key)] for key in ("id", *CENTRE_MAIN_FIELDS, "status")]
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


def _transition(action: str, help: str) -> None:
    """``crnt centres ACTION ID --reason …``: one of the membership's transitions."""

    def run(centre_id: str, reason: Annotated[str, typer.Option()]) -> None:
        path = f"/centres/{centre_id}/{action}"
        result = registry().json("POST", path, json={"reason": reason})
        console.print(f"{result.get('nom', centre_id)}: now [bold]{result['status']}[/bold]")

    run.__doc__ = help
    command(centres, action)(run)


_transition("suspend", "Suspend a member centre.")
_transition("reinstate", "Reinstate a suspended centre.")
_transition("withdraw", "Withdraw a member or suspended centre from the network.")


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
    if as_json_if(as_json, result):
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


@command(applications, "list")
def applications_list(
    status: Annotated[
        str, choice(ApplicationStatus, "An application's status.")
    ] = ApplicationStatus.PENDING,
    limit: int = 100,
    as_json: AsJson = False,
) -> None:
    """List applications (pending by default)."""
    page = registry().json("GET", "/applications", params={"status": status, "limit": limit})
    if as_json_if(as_json, page):
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
