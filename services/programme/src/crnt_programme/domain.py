"""The programme's rules, without I/O.

**The programme of a year**: ``draft → submitted → validated``; once validated, the agency may
open an amendment (``validated → amending``), which goes through ``submitted → validated``
again. Each validation is an immutable version, numbered from 1, with its date and deciding
body. The content of the actions (axis, title, description, centres, dates, cost) can be edited
only while the programme is ``draft`` or ``amending``: a submitted programme waits unchanged for
the steering committee, and a validated one is changed through an amendment. Two things do not
wait: naming a new lead for an action that lost its own, and reporting progress (that is the
programme's execution, not its content).

**An action**: ``proposed → planned → in_progress → done``; ``cancelled`` from ``proposed``,
``planned`` or ``in_progress`` (an action that is done stays done: its results and costs are
facts). ``done`` and ``cancelled`` are final. The validation of the programme plans the proposed
actions (the committee adopted them). An action becomes ``done`` at 100 % progress.

**Centres**: only member centres may lead or take part. A centre that is suspended or withdrawn
leaves every action that is not done or cancelled; an action that loses its lead needs a new one
(and a programme with such an action cannot be submitted). A centre that is reinstated does not
come back by itself: the agency adds it again.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from crnt_shared.contracts.programme import AXES
from crnt_shared.errors import Invalid, sentence
from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before


class Axis(StrEnum):
    COMMUNICATION = "communication"
    ATELIERS = "ateliers"
    EVENEMENTS = "evenements"
    FORMATION = "formation"
    MATERIEL_PARTAGE = "materiel_partage"


assert tuple(axis.value for axis in Axis) == AXES

AXIS_LABELS: Mapping[Axis, str] = {
    Axis.COMMUNICATION: "Communication",
    Axis.ATELIERS: "Ateliers communs",
    Axis.EVENEMENTS: "Évènements",
    Axis.FORMATION: "Formation des animateurs",
    Axis.MATERIEL_PARTAGE: "Acquisition de matériel partagé",
}


class Nature(StrEnum):
    """What an action is in the financing plan."""

    FONCTIONNEMENT = "fonctionnement"
    INVESTISSEMENT = "investissement"


def default_nature(axis: "Axis") -> Nature:
    """Shared equipment is an investment; every other axis an operating cost."""
    return Nature.INVESTISSEMENT if axis is Axis.MATERIEL_PARTAGE else Nature.FONCTIONNEMENT


@dataclass(frozen=True)
class Indicators:
    """What an action achieved so far, as its progress reports give it (totals, not
    increments): sessions held, people reached, hours of activity in tenths."""

    sessions: int = 0
    people_reached: int = 0
    hours_tenths: int = 0

    def __add__(self, other: "Indicators") -> "Indicators":
        return Indicators(
            self.sessions + other.sessions,
            self.people_reached + other.people_reached,
            self.hours_tenths + other.hours_tenths,
        )


def format_hours(tenths: int) -> str:
    """``125`` → ``"12.5"``; ``120`` → ``"12"``."""
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


class InvalidAction(Invalid):
    """Input that no state could accept, e.g. an end before the start (HTTP 422), naming its
    field. Its message is a phrase; its detail, the sentence."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, errors=[{"field": field, "message": message}])
        self.field = field

    @property
    def detail(self) -> str:
        return sentence(str(self))


# The programme


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    AMENDING = "amending"


class ProgrammeCommand(StrEnum):
    SUBMIT = "submit"
    VALIDATE = "validate"
    AMEND = "amend"


@dataclass(frozen=True)
class _Transition:
    allowed_from: tuple[ProgrammeStatus, ...]
    to: ProgrammeStatus
    participle: str


PROGRAMME_TRANSITIONS: Mapping[ProgrammeCommand, _Transition] = {
    ProgrammeCommand.SUBMIT: _Transition(
        (ProgrammeStatus.DRAFT, ProgrammeStatus.AMENDING), ProgrammeStatus.SUBMITTED, "submitted"
    ),
    ProgrammeCommand.VALIDATE: _Transition(
        (ProgrammeStatus.SUBMITTED,), ProgrammeStatus.VALIDATED, "validated"
    ),
    ProgrammeCommand.AMEND: _Transition(
        (ProgrammeStatus.VALIDATED,), ProgrammeStatus.AMENDING, "amended"
    ),
}

EDITABLE_PROGRAMME = (ProgrammeStatus.DRAFT, ProgrammeStatus.AMENDING)


def next_programme_status(
    year: int, current: ProgrammeStatus, command: ProgrammeCommand
) -> ProgrammeStatus:
    transition = PROGRAMME_TRANSITIONS[command]
    if current not in transition.allowed_from:
        allowed = " or ".join(state.value for state in transition.allowed_from)
        raise RuleViolation(
            f"The {year} programme is {current.value}; it can be {transition.participle}"
            f" only when {allowed}",
            current_status=current.value,
            command=command.value,
        )
    return transition.to


def ensure_content_editable(year: int, status: ProgrammeStatus) -> None:
    if status not in EDITABLE_PROGRAMME:
        hint = (
            f"open an amendment first (POST /api/v1/programmes/{year}/amend)"
            if status is ProgrammeStatus.VALIDATED
            else "wait for the steering committee's decision"
        )
        raise RuleViolation(
            f"The {year} programme is {status.value}: its actions can be added or changed only"
            f" when it is draft or amending; {hint}",
            programme_status=status.value,
        )


# Actions


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
    indicators: Indicators = Indicators()

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


# Centres


class Membership(StrEnum):
    """What the programme knows of a centre's membership (from the registry's events)."""

    PENDING = "pending"
    MEMBER = "member"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


LEAVING = ("suspended", "withdrawn")


@dataclass(frozen=True)
class Centre:
    id: UUID
    name: str
    status: str


def check_centres(centres: Sequence[UUID], known: Mapping[UUID, Centre]) -> None:
    """Every centre must be a member: unknown ones are bad input, others a conflict."""
    unknown = [str(centre) for centre in centres if centre not in known]
    if unknown:
        raise InvalidAction(
            f"unknown centre {', '.join(unknown)}: only member centres of the network may lead"
            " or take part in an action (see GET /api/v1/centres)",
            "centres",
        )
    outside = [known[centre] for centre in centres if known[centre].status != Membership.MEMBER]
    if outside:
        listed = ", ".join(f"{centre.name} ({centre.status})" for centre in outside)
        raise RuleViolation(
            f"Only member centres may lead or take part in an action, and these are not: {listed}",
            centres=", ".join(str(centre.id) for centre in outside),
        )


@dataclass(frozen=True)
class Departure:
    """An action after a centre left it."""

    action: Action
    lost_lead: bool


def leave(action: Action, centre_id: UUID) -> Departure | None:
    """The action without ``centre_id``; ``None`` when the centre does not take part or the
    action is done or cancelled (its history is kept as it was)."""
    if not action.open or centre_id not in action.centre_ids:
        return None
    if action.lead_centre_id == centre_id:
        return Departure(replace(action, lead_centre_id=None, needs_lead=True), lost_lead=True)
    remaining = tuple(centre for centre in action.participant_ids if centre != centre_id)
    return Departure(replace(action, participant_ids=remaining), lost_lead=False)


def ensure_submittable(year: int, actions: Sequence[Action]) -> None:
    open_actions = [action for action in actions if action.status is not ActionStatus.CANCELLED]
    if not open_actions:
        raise RuleViolation(
            f"The {year} programme has no action that is not cancelled: add actions before"
            " submitting it"
        )
    leaderless = [action for action in open_actions if action.needs_lead]
    if leaderless:
        titles = ", ".join(f"« {action.title} »" for action in leaderless)
        raise RuleViolation(
            f"These actions need a new lead centre before the programme can be submitted: {titles}",
            actions=", ".join(str(action.id) for action in leaderless),
        )


# Figures


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
    indicators: Indicators = Indicators()


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
