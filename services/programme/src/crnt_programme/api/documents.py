"""The year's progress and activity report (état d'avancement, bilan), generated from the
programme's own figures: actions done, indicators and spending against the estimate, by axis
and by centre, with charts in the PDF."""

from typing import Any

from crnt_shared import labels
from crnt_shared.documents import Chart, Document, Money, Table
from crnt_shared.money import cents_from_amount

STATUS_LABELS = labels.PROGRAMME_STATUSES
ACTION_STATUS_LABELS = labels.ACTION_STATUSES


def _hours(text: str) -> str:
    return text.replace(".", ",")


def report_document(report: dict[str, Any]) -> Document:
    """``report`` is the body of ``GET /programmes/{year}/report``."""
    year, overall = report["year"], report["overall"]
    indicators = overall["indicators"]
    version = report["version"]
    facts = [
        f"Programme de travail {year} : {STATUS_LABELS.get(report['status'], report['status'])}"
        + (f", version validée n° {version}." if version else "."),
        f"{overall['actions']} actions, dont {overall['by_status']['done']} terminées et"
        f" {overall['by_status']['in_progress']} en cours ; avancement moyen"
        f" {overall['progress']}\u00a0%.",
        f"Indicateurs : {indicators['sessions']} séances, {indicators['people_reached']}"
        f" personnes touchées, {_hours(indicators['hours'])}\u00a0heures d'activité.",
    ]

    money = Money.parse
    axes = report["axes"]
    tables = [
        Table(
            "Par axe",
            [
                "Axe",
                "Actions",
                "Terminées",
                "Avancement",
                "Séances",
                "Personnes",
                "Heures",
                "Estimé",
                "Réalisé",
            ],
            [
                [
                    axis["label"],
                    axis["actions"],
                    axis["by_status"]["done"],
                    f"{axis['progress']}\u00a0%",
                    axis["indicators"]["sessions"],
                    axis["indicators"]["people_reached"],
                    _hours(axis["indicators"]["hours"]),
                    money(axis["planned_cost"]),
                    money(axis["actual_cost"]),
                ]
                for axis in axes
            ],
            total=[
                "Total",
                overall["actions"],
                overall["by_status"]["done"],
                f"{overall['progress']}\u00a0%",
                indicators["sessions"],
                indicators["people_reached"],
                _hours(indicators["hours"]),
                money(overall["planned_cost"]),
                money(overall["actual_cost"]),
            ],
        ),
        Table(
            "Par lieu pilote",
            ["Lieu", "Actions", "Terminées", "Séances", "Personnes", "Heures", "Estimé", "Réalisé"],
            [
                [
                    centre["name"],
                    centre["actions"],
                    centre["done"],
                    centre["indicators"]["sessions"],
                    centre["indicators"]["people_reached"],
                    _hours(centre["indicators"]["hours"]),
                    money(centre["planned_cost"]),
                    money(centre["actual_cost"]),
                ]
                for centre in report["centres"]
            ],
        ),
        Table(
            "Actions",
            ["Action", "Axe", "État", "Avancement", "Estimé", "Réalisé"],
            [
                [
                    action["title"],
                    action["axis_label"],
                    ACTION_STATUS_LABELS.get(action["status"], action["status"]),
                    f"{action['progress']}\u00a0%",
                    money(action["estimated_cost"]),
                    None if action["actual_cost"] is None else money(action["actual_cost"]),
                ]
                for action in report["actions"]
            ],
        ),
    ]
    charts = [
        Chart(
            "Dépenses par axe : estimé et réalisé",
            [axis["label"] for axis in axes],
            [
                ("Estimé", [cents_from_amount(axis["planned_cost"]) for axis in axes]),
                ("Réalisé", [cents_from_amount(axis["actual_cost"]) for axis in axes]),
            ],
        ),
        Chart(
            "Personnes touchées par axe",
            [axis["label"] for axis in axes],
            [("Personnes", [axis["indicators"]["people_reached"] for axis in axes])],
            unit="personnes",
        ),
    ]
    return Document(
        title=f"Programme de travail {year} du réseau des cybercentres — état d'avancement"
        " et bilan",
        facts=facts,
        tables=tables,
        charts=charts,
        notes=[
            "Les indicateurs et le réalisé sont ceux des comptes rendus d'avancement des"
            " actions ; chaque action est comptée pour le lieu qui la pilote."
        ],
    )
