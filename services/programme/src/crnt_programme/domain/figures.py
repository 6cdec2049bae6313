"""The programme's figures, computed from its actions: totals by axis, the mean progress, the
report by axis and by lead centre."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from crnt_programme.domain.actions import Action, ActionStatus
from crnt_programme.domain.vocabulary import Axis, Indicators


def totals_by_axis(actions: Iterable[Action]) -> dict[Axis, int]:
    """Estimated cost in cents of the actions that are not cancelled, for every axis."""
    totals = dict.fromkeys(Axis, 0)
    for action in actions:
        if action.status is not ActionStatus.CANCELLED:
            totals[action.axis] += action.estimated_cost_cents
    return totals


def mean_progress(actions: Sequence[Action]) -> int:
    """The mean progress of the actions that are not cancelled, rounded half up (0 if none)."""
    counted = [action.progress for action in actions if action.status is not ActionStatus.CANCELLED]
    if not counted:
        return 0
    return (2 * sum(counted) + len(counted)) // (2 * len(counted))


@dataclass(frozen=True)
class AxisReport:
    axis: Axis
    actions: int
    by_status: dict[ActionStatus, int]
    planned_cents: int
    actual_cents: int
    progress: int
    indicators: Indicators = field(default_factory=Indicators)


@dataclass(frozen=True)
class CentreReport:
    """An action's figures go to the centre that leads it (the one that reports on it)."""

    centre_id: UUID | None  # None: actions that need a new lead
    actions: int
    done: int
    planned_cents: int
    actual_cents: int
    indicators: Indicators


def report_by_centre(actions: Sequence[Action]) -> list[CentreReport]:
    groups: dict[UUID | None, list[Action]] = {}
    for action in actions:
        if action.status is not ActionStatus.CANCELLED:
            groups.setdefault(action.lead_centre_id, []).append(action)
    rows = []
    for centre_id, mine in groups.items():
        indicators = Indicators()
        for action in mine:
            indicators += action.indicators
        rows.append(
            CentreReport(
                centre_id=centre_id,
                actions=len(mine),
                done=sum(action.status is ActionStatus.DONE for action in mine),
                planned_cents=sum(action.estimated_cost_cents for action in mine),
                actual_cents=sum(action.actual_cost_cents or 0 for action in mine),
                indicators=indicators,
            )
        )
    return sorted(rows, key=lambda row: str(row.centre_id))


def report(actions: Sequence[Action]) -> list[AxisReport]:
    """By axis: actions by status, planned (estimated, not cancelled) vs actual cost,
    progress."""
    rows = []
    for axis in Axis:
        mine = [action for action in actions if action.axis is axis]
        by_status = dict.fromkeys(ActionStatus, 0)
        indicators = Indicators()
        for action in mine:
            by_status[action.status] += 1
            if action.status is not ActionStatus.CANCELLED:
                indicators += action.indicators
        rows.append(
            AxisReport(
                axis=axis,
                actions=len(mine),
                by_status=by_status,
                planned_cents=totals_by_axis(mine)[axis],
                actual_cents=sum(action.actual_cost_cents or 0 for action in mine),
                progress=mean_progress(mine),
                indicators=indicators,
            )
        )
    return rows
