"""The programme of a year: its statuses, the commands that move it, what may change while it is
in each status (see the package)."""

from collections.abc import Mapping, Sequence
from enum import StrEnum

from crnt_shared.errors import RuleViolation
from crnt_shared.transitions import Transition, next_state

from crnt_programme.domain.actions import Action, ActionStatus


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    AMENDING = "amending"


class ProgrammeCommand(StrEnum):
    SUBMIT = "submit"
    VALIDATE = "validate"
    AMEND = "amend"


PROGRAMME_TRANSITIONS: Mapping[ProgrammeCommand, Transition[ProgrammeStatus]] = {
    ProgrammeCommand.SUBMIT: Transition(
        (ProgrammeStatus.DRAFT, ProgrammeStatus.AMENDING), ProgrammeStatus.SUBMITTED, "submitted"
    ),
    ProgrammeCommand.VALIDATE: Transition(
        (ProgrammeStatus.SUBMITTED,), ProgrammeStatus.VALIDATED, "validated"
    ),
    ProgrammeCommand.AMEND: Transition(
        (ProgrammeStatus.VALIDATED,), ProgrammeStatus.AMENDING, "amended"
    ),
}

EDITABLE_PROGRAMME = (ProgrammeStatus.DRAFT, ProgrammeStatus.AMENDING)


def next_programme_status(
    year: int, current: ProgrammeStatus, command: ProgrammeCommand
) -> ProgrammeStatus:
    def refused(current: ProgrammeStatus, command: ProgrammeCommand) -> RuleViolation:
        return RuleViolation(
            PROGRAMME_TRANSITIONS[command].refusal(f"The {year} programme", current),
            current_status=current.value,
            command=command.value,
        )

    return next_state(PROGRAMME_TRANSITIONS, current, command, refused)


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
