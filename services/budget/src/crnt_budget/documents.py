"""The budget annex (« budget annexé ») a council votes, generated from one version: expenses by
axis and nature, resources by funder, the reste à charge by EPCI with voted against asked, the
centres' dotations, the version and its cause. Nothing here is typed by hand: every figure is
the version's."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from crnt_shared import labels
from crnt_shared.dates import PARIS, french_date
from crnt_shared.documents import MEDIA, Chart, Document, Money, Table, euros, percent, render

from crnt_budget.domain import parse_cents
from crnt_budget.repository import CentreShareRow, EpciShareRow, VersionRow

__all__ = ["MEDIA", "annex", "annex_document"]

AXIS_LABELS = labels.AXES
NATURE_LABELS = labels.NATURES
STATUS_LABELS = labels.PLAN_STATUSES


def _cents(value: str | None) -> int | None:
    return None if value is None else parse_cents(value.lstrip("-"))


def _money(value: str | None) -> Money | None:
    cents = _cents(value)
    return None if cents is None else Money(cents)


def _rate(ratio: str) -> str:
    """``"0.5"`` → ``"50 %"`` (exact: the ratio is a decimal string)."""
    value = Fraction(Decimal(ratio)) * 100
    shown = f"{float(value):.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{shown}\u00a0%"


CAUSE_LABELS = {
    "fr.crnt.registry.membership.approved": "adhésion",
    "fr.crnt.registry.membership.reinstated": "rétablissement",
    "fr.crnt.registry.membership.suspended": "suspension",
    "fr.crnt.registry.membership.withdrawn": "retrait",
    "fr.crnt.registry.centre.updated": "mise à jour d'un lieu",
    "fr.crnt.registry.epci.registered": "population d'un EPCI",
    "fr.crnt.registry.epci.updated": "population d'un EPCI",
    "fr.crnt.programme.programme.validated": "validation du programme",
    "fr.crnt.programme.action.updated": "compte rendu d'avancement",
    "fr.crnt.programme.action.status_changed": "compte rendu d'avancement",
}


def _moment(value: datetime) -> str:
    local = value.astimezone(PARIS)
    return f"{french_date(local.date())} à {local.hour}\u00a0h\u00a0{local.minute:02d}"


def _cause(cause: dict[str, Any]) -> str:
    if cause.get("kind") == "manual":
        return "modification par l'agence"
    count = cause.get("event_count", 0)
    kinds = dict.fromkeys(
        CAUSE_LABELS.get(event["type"].rsplit(".", 1)[0], "autre évènement")
        for event in cause.get("events", [])
    )
    what = f" ({', '.join(kinds)})" if kinds else ""
    return f"{count} évènement{'s' if count > 1 else ''} du réseau{what}"


def annex_document(
    version: VersionRow, epcis: Sequence[EpciShareRow], centres: Sequence[CentreShareRow]
) -> Document:
    plan = version.financing
    lines = plan.get("expense_lines", [])
    # jsonb keeps no key order: the axes in the deliberation's order, then any added later.
    given = plan.get("by_axis", {})
    by_axis = {
        axis: given[axis]
        for axis in [*AXIS_LABELS, *sorted(set(given) - set(AXIS_LABELS))]
        if axis in given
    }
    by_nature = plan.get("by_nature", {})
    rule = plan.get("investment_rule", {})
    estimated, actual = _cents(plan["expenses"]) or 0, _cents(plan.get("actual_expenses")) or 0
    reste = _cents(plan.get("reste_a_charge")) or 0
    facts = [
        f"Version {version.version} du budget estimatif, calculée le"
        f" {_moment(version.computed_at)} ; cause : {_cause(version.cause)}.",
        f"Plan de financement : {STATUS_LABELS.get(plan['status'], plan['status'])}.",
    ]
    if plan.get("programme"):
        programme = plan["programme"]
        decided = date.fromisoformat(programme["decided_on"])
        facts.append(
            f"Programme de travail : version {programme['version']}, "
            f"validée le {french_date(decided)}"
            f" ({programme['deciding_body']})."
        )
    tables = [
        Table(
            "Dépenses",
            ["Dépense", "Axe", "Nature", "Estimé", "Réalisé"],
            [
                [
                    line["label"],
                    "—" if line["axis"] is None else AXIS_LABELS.get(line["axis"], line["axis"]),
                    NATURE_LABELS[line["nature"]],
                    _money(line["estimated"]),
                    _money(line["actual"]),
                ]
                for line in lines
            ],
            total=["Total des dépenses", None, None, Money(estimated), Money(actual)],
        ),
        Table(
            "Dépenses par axe",
            ["Axe du programme", "Estimé", "Réalisé"],
            [
                [AXIS_LABELS.get(axis, axis), _money(v["estimated"]), _money(v["actual"])]
                for axis, v in by_axis.items()
            ],
        ),
        Table(
            "Dépenses par nature",
            ["Nature", "Estimé", "Réalisé"],
            [
                [NATURE_LABELS[nature], _money(v["estimated"]), _money(v["actual"])]
                for nature, v in by_nature.items()
            ],
        ),
        Table(
            "Ressources",
            ["Financeur", "Taux", "Plafond", "Montant"],
            [
                [
                    funder["name"],
                    None if funder.get("rate") is None else _rate(funder["rate"]),
                    _money(funder.get("ceiling")),
                    _money(funder["amount"]),
                ]
                for funder in plan.get("funders", [])
            ]
            + [["Reste à charge des EPCI", None, None, Money(reste)]],
            total=["Total des ressources", None, None, _money(plan["resources"])],
        ),
        Table(
            "Reste à charge par EPCI",
            [
                "EPCI",
                "SIREN",
                "Population",
                "Lieux membres",
                "Participation votée",
                "Délibération",
                "Montant demandé",
                "Nouvelle délibération",
            ],
            [
                [
                    e.name,
                    e.siren,
                    e.population,
                    e.member_centres,
                    None if e.voted_cents is None else Money(e.voted_cents),
                    None
                    if e.deliberation_number is None
                    else f"n°\u00a0{e.deliberation_number} du {french_date(e.deliberation_date)}"
                    if e.deliberation_date is not None
                    else f"n°\u00a0{e.deliberation_number}",
                    Money(e.amount_cents),
                    "oui" if e.exceeds_voted else "non",
                ]
                for e in epcis
            ],
            total=[
                "Total",
                None,
                None,
                None,
                None,
                None,
                Money(sum(e.amount_cents for e in epcis)),
                None,
            ],
        ),
        Table(
            "Dotations des lieux",
            ["Lieu", "Postes publics", "Dotation"],
            [[c.name, c.workstations, Money(c.amount_cents)] for c in centres if c.is_member],
            total=["Total des dotations", None, Money(version.allocated_cents)],
        ),
    ]
    notes = []
    if rule.get("holds") is not None:
        owner = _cents(rule["owner_share"]) or 0
        invested = _cents(rule["investment"]) or 0
        verdict = "respectée" if rule["holds"] else "NON respectée"
        notes.append(
            f"Règle des 20 % (CGCT, art. L1111-10) : {verdict}. Sur {euros(invested)}"
            f" d'investissement, le maître d'ouvrage en finance {euros(owner)}"
            f" ({percent(owner, invested)})."
        )
    notes.append(
        "Budget estimatif : il peut encore évoluer, notamment quand des lieux rejoignent ou"
        " quittent le réseau. Un montant demandé supérieur à la participation votée appelle une"
        " nouvelle délibération."
    )
    charts = [
        Chart(
            "Dépenses par axe (estimé et réalisé)",
            [AXIS_LABELS.get(axis, axis) for axis in by_axis],
            [
                ("Estimé", [_cents(v["estimated"]) or 0 for v in by_axis.values()]),
                ("Réalisé", [_cents(v["actual"]) or 0 for v in by_axis.values()]),
            ],
        ),
        Chart(
            "Reste à charge par EPCI",
            [e.name for e in epcis],
            [
                ("Demandé", [e.amount_cents for e in epcis]),
                ("Voté", [e.voted_cents or 0 for e in epcis]),
            ],
        ),
    ]
    return Document(
        title=f"Budget {version.year} du réseau des cybercentres — annexe financière",
        facts=facts,
        tables=tables,
        charts=charts,
        notes=notes,
    )


def annex(
    version: VersionRow,
    epcis: Sequence[EpciShareRow],
    centres: Sequence[CentreShareRow],
    fmt: str,
) -> bytes:
    return render(annex_document(version, epcis, centres), fmt)
