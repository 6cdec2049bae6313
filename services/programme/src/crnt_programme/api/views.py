"""How the programme's routes show what they read: actions, programmes, versions, history
lines, and the year's report (by axis, by centre, overall)."""

from typing import Any
from uuid import UUID

from crnt_shared.errors import NotFound
from crnt_shared.money import amount_from_cents

from crnt_programme import handlers
from crnt_programme.api.common import ProgrammeRuntime
from crnt_programme.domain import (
    AXIS_LABELS,
    Action,
    ActionStatus,
    Centre,
    Indicators,
    format_hours,
    mean_progress,
    report,
    report_by_centre,
)
from crnt_programme.repository import HistoryEntry, Programme, Version


def indicators_out(indicators: Indicators) -> dict[str, Any]:
    return {
        "sessions": indicators.sessions,
        "people_reached": indicators.people_reached,
        "hours": format_hours(indicators.hours_tenths),
    }


def report_out(
    programme: Programme, actions: list[Action], centres: dict[UUID, Centre]
) -> dict[str, Any]:
    rows = report(actions)
    overall = Indicators()
    for row in rows:
        overall += row.indicators
    return {
        **programme_out(programme),
        "axes": [
            {
                "axis": row.axis.value,
                "label": AXIS_LABELS[row.axis],
                "actions": row.actions,
                "by_status": {status.value: n for status, n in row.by_status.items()},
                "planned_cost": amount_from_cents(row.planned_cents),
                "actual_cost": amount_from_cents(row.actual_cents),
                "progress": row.progress,
                "indicators": indicators_out(row.indicators),
            }
            for row in rows
        ],
        "centres": [
            {
                "centre_id": None if row.centre_id is None else str(row.centre_id),
                "name": "Actions sans lieu pilote"
                if row.centre_id is None
                else centres[row.centre_id].name
                if row.centre_id in centres
                else str(row.centre_id),
                "actions": row.actions,
                "done": row.done,
                "planned_cost": amount_from_cents(row.planned_cents),
                "actual_cost": amount_from_cents(row.actual_cents),
                "indicators": indicators_out(row.indicators),
            }
            for row in report_by_centre(actions)
        ],
        "overall": {
            "actions": len(actions),
            "by_status": {
                status.value: sum(row.by_status[status] for row in rows) for status in ActionStatus
            },
            "planned_cost": amount_from_cents(sum(row.planned_cents for row in rows)),
            "actual_cost": amount_from_cents(sum(row.actual_cents for row in rows)),
            "progress": mean_progress(actions),
            "needing_a_lead": sum(1 for action in actions if action.needs_lead),
            "indicators": indicators_out(overall),
        },
        "actions": [action_view(action, centres) for action in actions],
    }


async def found_action(runtime: ProgrammeRuntime, action_id: UUID) -> Action:
    action = await runtime.read(lambda r: r.action(action_id))
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


async def whole_programme(
    runtime: ProgrammeRuntime, year: int
) -> tuple[Programme, list[Action], dict[UUID, Centre]]:
    """The year's programme, its actions and the centres they name."""
    programme = await runtime.read(lambda r: r.programme(year))
    if programme is None:
        raise NotFound(
            f"There is no {year} programme yet: propose its first action with"
            f" POST /api/v1/programmes/{year}/actions."
        )
    actions = await runtime.read(lambda r: r.actions(year))
    ids = {centre for action in actions for centre in action.centre_ids}
    centres = await runtime.read(lambda r: r.centres(ids))
    return programme, actions, centres


def action_view(action: Action, centres: dict[UUID, Centre]) -> dict[str, Any]:
    facts = handlers.action_facts(action, centres).model_dump(mode="json")
    return {**facts, "axis_label": AXIS_LABELS[action.axis]}


def programme_out(programme: Programme) -> dict[str, Any]:
    return {
        "year": programme.year,
        "status": programme.status.value,
        "version": programme.version or None,
        "updated_at": programme.updated_at.isoformat(),
    }


def version_summary(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "validated_at": version.validated_at.isoformat(),
        "decided_on": version.decided_on.isoformat(),
        "deciding_body": version.deciding_body,
        "decision_reference": version.decision_reference,
        "total": version.snapshot.get("total"),
    }


def history_out(entry: HistoryEntry) -> dict[str, Any]:
    return {"kind": entry.kind, "by": entry.by, "at": entry.at.isoformat(), **entry.details}


async def action_out(runtime: ProgrammeRuntime, action: Action) -> dict[str, Any]:
    """An action as the routes show it, with the names of its centres."""
    centres = await runtime.read(lambda repository: repository.centres(action.centre_ids))
    return action_view(action, centres)
