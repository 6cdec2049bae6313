"""``crnt budget``: a year's budget, its versions, dotations, plan and annex."""

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from crnt_shared.vocabularies import CentreWeight, EpciKey

from crnt_cli.choices import AnnexFormat, choice
from crnt_cli.client import CliError, Service
from crnt_cli.output import AsJson, as_json_if, command, console, euros, group, table, written

budget = group("The yearly budget and its shares.")


def service() -> Service:
    return Service.from_env("budget")


@command(budget, "configure")
def budget_configure(
    year: int,
    envelope: Annotated[str, typer.Option(help="Centres' dotations, e.g. 30000.00")],
    fixed_ratio: Annotated[str, typer.Option(help="Part split equally, 0 to 1")] = "0.5",
    weight: Annotated[
        str, choice(CentreWeight, "The centres' weight.")
    ] = CentreWeight.WORKSTATIONS,
    epci_key: Annotated[
        str, choice(EpciKey, "How the EPCIs share what is left.")
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
    data = service().json("PUT", f"/budgets/{year}", json=body)
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
    data = service().json("GET", f"/budgets/{year}/shares")
    if as_json_if(as_json, data):
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
    plan = service().json("GET", f"/budgets/{year}/plan", params={"version": version})
    if as_json_if(as_json, plan):
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
    format: Annotated[str, choice(AnnexFormat, "The document's format.")] = AnnexFormat.PDF,
    version: Annotated[int | None, typer.Option(help="A version; the latest if none")] = None,
) -> None:
    """The budget annex a council votes, generated by the budget service for a version."""
    response = service().request(
        "GET", f"/budgets/{year}/annex.{format}", params={"version": version}
    )
    written(f"budget {year} annex ({format})", output, response.content)


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
    data = service().json("PUT", f"/budgets/{year}/participations/{siren}", json=body)
    _print_waiting(data)
    _print_epcis(data.get("epcis", []))


@command(budget, "close")
def budget_close(year: int) -> None:
    """Close a year: its last version is its account, nothing recalculates it."""
    data = service().json("POST", f"/budgets/{year}/close")
    console.print(f"Budget {year} closed at version {data['version']}")


@command(budget, "versions")
def budget_versions(year: int, as_json: AsJson = False) -> None:
    """Every version of a year's budget, with its cause."""
    data = service().json("GET", f"/budgets/{year}/versions")
    if as_json_if(as_json, data):
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
    budget_service = service()
    before = budget_service.json("GET", f"/budgets/{year}/versions/{first}")
    after = budget_service.json("GET", f"/budgets/{year}/versions/{second}")
    if as_json_if(as_json, {"before": before, "after": after}):
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
