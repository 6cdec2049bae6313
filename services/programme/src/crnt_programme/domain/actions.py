"""An action of the programme: its statuses, its content's rules, its progress (see the
package)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from crnt_shared.errors import RuleViolation

from crnt_programme.domain.vocabulary import Axis, Indicators, InvalidAction, Nature


class ActionStatus(StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


#: For each status, the statuses an action may be in to move to it.
ACTION_TRANSITIONS: Mapping[ActionStatus, tuple[ActionStatus, ...]] = {
    ActionStatus.PLANNED: (ActionStatus.PROPOSED,),
    ActionStatus.IN_PROGRESS: (ActionStatus.PLANNED,),
    ActionStatus.DONE: (ActionStatus.IN_PROGRESS,),
    ActionStatus.CANCELLED: (ActionStatus.PROPOSED, ActionStatus.PLANNED, ActionStatus.IN_PROGRESS),
}

FINAL_STATUSES = (ActionStatus.DONE, ActionStatus.CANCELLED)
MAX_COST_CENTS = 100_000_000_00  # a hundred million euros: beyond that, a typing error


@dataclass(frozen=True)
class Action:
    id: UUID
    year: int
    axis: Axis
    title: str
    description: str
    lead_centre_id: UUID | None
    #: The other centres taking part (never the lead).
    participant_ids: tuple[UUID, ...]
    starts_on: date
    ends_on: date
    estimated_cost_cents: int
    status: ActionStatus = ActionStatus.PROPOSED
    needs_lead: bool = False
    actual_cost_cents: int | None = None
    progress: int = 0
    progress_note: str | None = None
    nature: Nature = Nature.FONCTIONNEMENT
    indicators: Indicators = field(default_factory=Indicators)

    @property
    def centre_ids(self) -> tuple[UUID, ...]:
        """Every centre taking part, the lead first."""
        lead = () if self.lead_centre_id is None else (self.lead_centre_id,)
        return lead + self.participant_ids

    @property
    def open(self) -> bool:
        return self.status not in FINAL_STATUSES


def next_action_status(action: Action, target: ActionStatus) -> ActionStatus:
    allowed = ACTION_TRANSITIONS.get(target, ())
    if action.status not in allowed:
        if not allowed:
            reason = f"no action can be put back to {target.value}"
        else:
            reason = (
                f"it can become {target.value} only when "
                f"{' or '.join(state.value for state in allowed)}"
            )
        raise RuleViolation(
            f"Action {action.id} is {action.status.value}; {reason}",
            current_status=action.status.value,
            requested_status=target.value,
        )
    return target


def change_status(action: Action, target: ActionStatus) -> Action:
    status = next_action_status(action, target)
    if status is ActionStatus.DONE:
        return replace(action, status=status, progress=100)
    return replace(action, status=status)


def report_progress(
    action: Action,
    progress: int | None,
    note: str | None,
    actual_cost_cents: int | None,
    indicators: Indicators | None = None,
) -> Action:
    """État d'avancement: progress, a note, the cost and the indicators so far (totals); a done
    action stays at 100 % but may still receive its final cost, indicators and notes; a
    cancelled one changes no more."""
    if action.status is ActionStatus.CANCELLED:
        raise RuleViolation(
            f"Action {action.id} is cancelled: its progress can no longer change",
            current_status=action.status.value,
        )
    if progress is not None and not 0 <= progress <= 100:
        raise InvalidAction("progress is a percentage, from 0 to 100", "progress")
    if action.status is ActionStatus.DONE and progress not in (None, 100):
        raise RuleViolation(
            f"Action {action.id} is done, hence at 100 %: its progress can no longer change",
            current_status=action.status.value,
        )
    if actual_cost_cents is not None:
        check_cost(actual_cost_cents, "actual_cost")
    return replace(
        action,
        progress=action.progress if progress is None else progress,
        progress_note=action.progress_note if note is None else note,
        actual_cost_cents=(
            action.actual_cost_cents if actual_cost_cents is None else actual_cost_cents
        ),
        indicators=action.indicators if indicators is None else indicators,
    )


def check_dates(year: int, starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidAction(
            f"the action ends on {ends_on.isoformat()}, before it starts on"
            f" {starts_on.isoformat()}: the end date must be on or after the start date",
            "ends_on",
        )
    if not starts_on.year <= year <= ends_on.year:
        raise InvalidAction(
            f"an action of the {year} programme must take place at least partly in {year}:"
            f" {starts_on.isoformat()} – {ends_on.isoformat()} does not",
            "starts_on",
        )


def check_cost(cents: int, field: str) -> None:
    if cents < 0:
        raise InvalidAction(f"{field} cannot be negative", field)
    if cents > MAX_COST_CENTS:
        raise InvalidAction(f"{field} is above 100 000 000 euros: check the amount", field)


def ensure_open(action: Action, what: str) -> None:
    if not action.open:
        raise RuleViolation(
            f"Action {action.id} is {action.status.value}: its {what} can no longer change",
            current_status=action.status.value,
        )


def distinct_participants(lead: UUID | None, participants: Iterable[UUID]) -> tuple[UUID, ...]:
    """The participants without the lead and without repetition, in the order given."""
    seen = {lead} if lead is not None else set()
    kept = []
    for centre in participants:
        if centre not in seen:
            seen.add(centre)
            kept.append(centre)
    return tuple(kept)
