"""The programme's rules, without I/O: both state machines, dates, costs, centres, figures."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TypeVar
from uuid import UUID, uuid4

import pytest
from crnt_programme.domain import (
    Action,
    ActionStatus,
    Axis,
    Centre,
    InvalidAction,
    ProgrammeCommand,
    ProgrammeStatus,
    change_status,
    check_centres,
    check_cost,
    check_dates,
    distinct_participants,
    ensure_content_editable,
    ensure_submittable,
    leave,
    mean_progress,
    next_programme_status,
    report,
    report_progress,
    totals_by_axis,
)
from crnt_shared.contracts.programme import AXES
from crnt_shared.errors import RuleViolation
from crnt_shared.money import amount_from_cents, cents_from_amount

LEAD, OTHER, THIRD = uuid4(), uuid4(), uuid4()
S = TypeVar("S")
R = TypeVar("R")


def action(**changes: object) -> Action:
    base = Action(
        id=uuid4(),
        year=2025,
        axis=Axis.ATELIERS,
        title="Ateliers Pix",
        description="",
        lead_centre_id=LEAD,
        participant_ids=(OTHER,),
        starts_on=date(2025, 3, 1),
        ends_on=date(2025, 6, 30),
        estimated_cost_cents=150_000,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# The programme's state machine

P = ProgrammeStatus
C = ProgrammeCommand


@pytest.mark.parametrize(
    ("current", "command", "expected"),
    [
        (P.DRAFT, C.SUBMIT, P.SUBMITTED),
        (P.SUBMITTED, C.VALIDATE, P.VALIDATED),
        (P.VALIDATED, C.AMEND, P.AMENDING),
        (P.AMENDING, C.SUBMIT, P.SUBMITTED),
    ],
)
def test_programme_legal_transitions(
    current: ProgrammeStatus, command: ProgrammeCommand, expected: ProgrammeStatus
) -> None:
    assert next_programme_status(2025, current, command) is expected


def refused_pairs(refused_by_state: Mapping[S, tuple[R, ...]]) -> list[tuple[S, R]]:
    """Every (state, refused) pair of a table of what each state refuses, to parametrize on."""
    return [(state, refused) for state, each in refused_by_state.items() for refused in each]


#: The commands each state of the programme refuses.
REFUSED_COMMANDS = {
    P.DRAFT: (C.VALIDATE, C.AMEND),
    P.SUBMITTED: (C.SUBMIT, C.AMEND),
    P.VALIDATED: (C.SUBMIT, C.VALIDATE),
    P.AMENDING: (C.VALIDATE, C.AMEND),
}


@pytest.mark.parametrize(("current", "command"), refused_pairs(REFUSED_COMMANDS))
def test_programme_illegal_transitions_name_the_states(
    current: ProgrammeStatus, command: ProgrammeCommand
) -> None:
    with pytest.raises(RuleViolation) as raised:
        next_programme_status(2025, current, command)
    assert current.value in str(raised.value)
    assert raised.value.details == {"current_status": current.value, "command": command.value}


def test_validating_a_draft_says_it_must_be_submitted() -> None:
    with pytest.raises(RuleViolation, match="is draft; it can be validated only when submitted"):
        next_programme_status(2025, P.DRAFT, C.VALIDATE)


def test_a_full_amendment_cycle() -> None:
    status = P.DRAFT
    for command in (C.SUBMIT, C.VALIDATE, C.AMEND, C.SUBMIT, C.VALIDATE):
        status = next_programme_status(2025, status, command)
    assert status is P.VALIDATED


@pytest.mark.parametrize("status", [P.DRAFT, P.AMENDING])
def test_content_is_editable_in_draft_and_amending(status: ProgrammeStatus) -> None:
    ensure_content_editable(2025, status)


def test_a_validated_programme_is_changed_through_an_amendment() -> None:
    with pytest.raises(RuleViolation, match=r"is validated.*programmes/2025/amend"):
        ensure_content_editable(2025, P.VALIDATED)


def test_a_submitted_programme_waits_for_the_committee() -> None:
    with pytest.raises(RuleViolation, match="wait for the steering committee"):
        ensure_content_editable(2025, P.SUBMITTED)


def test_an_empty_programme_cannot_be_submitted() -> None:
    with pytest.raises(RuleViolation, match="no action"):
        ensure_submittable(2025, [action(status=ActionStatus.CANCELLED)])


def test_an_action_without_lead_blocks_the_submission() -> None:
    leaderless = action(lead_centre_id=None, needs_lead=True, title="Fête du numérique")
    with pytest.raises(RuleViolation, match="« Fête du numérique »"):
        ensure_submittable(2025, [action(), leaderless])


def test_a_cancelled_action_without_lead_does_not_block() -> None:
    cancelled = action(lead_centre_id=None, needs_lead=True, status=ActionStatus.CANCELLED)
    ensure_submittable(2025, [action(), cancelled])


# The action's state machine

A = ActionStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (A.PROPOSED, A.PLANNED),
        (A.PLANNED, A.IN_PROGRESS),
        (A.IN_PROGRESS, A.DONE),
        (A.PROPOSED, A.CANCELLED),
        (A.PLANNED, A.CANCELLED),
        (A.IN_PROGRESS, A.CANCELLED),
    ],
)
def test_action_legal_transitions(current: ActionStatus, target: ActionStatus) -> None:
    assert change_status(action(status=current), target).status is target


#: Some of the states an action cannot go to from each of its states.
REFUSED_TARGETS = {
    A.PROPOSED: (A.IN_PROGRESS, A.DONE),
    A.PLANNED: (A.DONE, A.PROPOSED),
    A.IN_PROGRESS: (A.PLANNED,),
    A.DONE: (A.CANCELLED, A.IN_PROGRESS),
    A.CANCELLED: (A.PLANNED, A.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), refused_pairs(REFUSED_TARGETS))
def test_action_illegal_transitions_name_the_states(
    current: ActionStatus, target: ActionStatus
) -> None:
    with pytest.raises(RuleViolation) as raised:
        change_status(action(status=current), target)
    assert f"is {current.value}" in str(raised.value)
    assert raised.value.details["requested_status"] == target.value


def test_a_done_action_cannot_be_cancelled() -> None:
    with pytest.raises(
        RuleViolation, match="it can become cancelled only when proposed or planned or in_progress"
    ):
        change_status(action(status=A.DONE), A.CANCELLED)


def test_done_means_complete() -> None:
    done = change_status(action(status=A.IN_PROGRESS, progress=80), A.DONE)
    assert done.progress == 100


# Progress


def test_progress_note_and_cost_are_recorded() -> None:
    reported = report_progress(action(status=A.IN_PROGRESS), 40, "3 ateliers sur 8", 52_000)
    assert (reported.progress, reported.progress_note, reported.actual_cost_cents) == (
        40,
        "3 ateliers sur 8",
        52_000,
    )


def test_progress_keeps_what_is_not_given() -> None:
    before = action(status=A.IN_PROGRESS, progress=40, progress_note="n", actual_cost_cents=1)
    assert report_progress(before, None, None, None) == before


@pytest.mark.parametrize("progress", [-1, 101])
def test_progress_is_a_percentage(progress: int) -> None:
    with pytest.raises(InvalidAction, match="0 to 100"):
        report_progress(action(), progress, None, None)


def test_a_cancelled_action_makes_no_progress() -> None:
    with pytest.raises(RuleViolation, match="cancelled"):
        report_progress(action(status=A.CANCELLED), 10, None, None)


def test_a_done_action_stays_at_100_but_receives_its_final_cost() -> None:
    done = action(status=A.DONE, progress=100)
    with pytest.raises(RuleViolation, match="100 %"):
        report_progress(done, 90, None, None)
    assert report_progress(done, 100, "facture reçue", 149_999).actual_cost_cents == 149_999


def test_a_negative_actual_cost_is_refused() -> None:
    with pytest.raises(InvalidAction, match="negative"):
        report_progress(action(), None, None, -1)


# Dates, costs, centres


def test_the_end_is_on_or_after_the_start() -> None:
    check_dates(2025, date(2025, 3, 1), date(2025, 3, 1))
    with pytest.raises(InvalidAction, match="before it starts") as raised:
        check_dates(2025, date(2025, 3, 2), date(2025, 3, 1))
    assert raised.value.field == "ends_on"


def test_an_action_takes_place_at_least_partly_in_its_year() -> None:
    check_dates(2025, date(2024, 11, 1), date(2025, 1, 31))
    with pytest.raises(InvalidAction, match="at least partly in 2025"):
        check_dates(2025, date(2026, 1, 1), date(2026, 2, 1))


def test_costs_are_not_negative_nor_absurd() -> None:
    check_cost(0, "estimated_cost")
    with pytest.raises(InvalidAction, match="negative"):
        check_cost(-1, "estimated_cost")
    with pytest.raises(InvalidAction, match="100 000 000"):
        check_cost(100_000_000_01, "estimated_cost")


def test_the_lead_is_not_a_participant_twice() -> None:
    assert distinct_participants(LEAD, [OTHER, LEAD, OTHER, THIRD]) == (OTHER, THIRD)


def known(*centres: tuple[UUID, str]) -> dict[UUID, Centre]:
    return {centre: Centre(centre, f"Centre {status}", status) for centre, status in centres}


def test_member_centres_may_take_part() -> None:
    check_centres([LEAD, OTHER], known((LEAD, "member"), (OTHER, "member")))


def test_an_unknown_centre_is_bad_input() -> None:
    with pytest.raises(InvalidAction, match=f"unknown centre {OTHER}"):
        check_centres([LEAD, OTHER], known((LEAD, "member")))


@pytest.mark.parametrize("status", ["pending", "suspended", "withdrawn", "rejected"])
def test_a_centre_that_is_not_a_member_is_a_conflict(status: str) -> None:
    with pytest.raises(RuleViolation, match=rf"Centre {status} \({status}\)"):
        check_centres([LEAD, OTHER], known((LEAD, "member"), (OTHER, status)))


# A centre leaves


def test_a_participant_leaves_an_open_action() -> None:
    departure = leave(action(participant_ids=(OTHER, THIRD)), OTHER)
    assert departure is not None
    assert departure.action.participant_ids == (THIRD,)
    assert not departure.lost_lead
    assert departure.action.lead_centre_id == LEAD


def test_an_action_that_loses_its_lead_needs_a_new_one() -> None:
    departure = leave(action(status=A.IN_PROGRESS), LEAD)
    assert departure is not None
    assert departure.lost_lead
    assert departure.action.lead_centre_id is None
    assert departure.action.needs_lead
    assert departure.action.participant_ids == (OTHER,)


@pytest.mark.parametrize("status", [A.DONE, A.CANCELLED])
def test_done_and_cancelled_actions_keep_their_centres(status: ActionStatus) -> None:
    assert leave(action(status=status), LEAD) is None


def test_a_centre_that_takes_no_part_changes_nothing() -> None:
    assert leave(action(), THIRD) is None


# Figures


def test_totals_cover_every_axis_and_skip_cancelled_actions() -> None:
    actions = [
        action(axis=Axis.ATELIERS, estimated_cost_cents=150_000),
        action(axis=Axis.ATELIERS, estimated_cost_cents=1),
        action(axis=Axis.FORMATION, estimated_cost_cents=99_999),
        action(axis=Axis.EVENEMENTS, estimated_cost_cents=500_000, status=A.CANCELLED),
    ]
    totals = totals_by_axis(actions)
    assert [axis.value for axis in totals] == list(AXES)
    assert totals[Axis.ATELIERS] == 150_001
    assert totals[Axis.FORMATION] == 99_999
    assert totals[Axis.EVENEMENTS] == 0
    assert totals[Axis.COMMUNICATION] == 0


def test_mean_progress_rounds_half_up_and_skips_cancelled() -> None:
    assert mean_progress([]) == 0
    assert mean_progress([action(progress=0), action(progress=25)]) == 13
    assert mean_progress([action(progress=50), action(progress=0, status=A.CANCELLED)]) == 50


def test_the_report_by_axis() -> None:
    actions = [
        action(status=A.DONE, progress=100, actual_cost_cents=140_000),
        action(status=A.IN_PROGRESS, progress=50, actual_cost_cents=10_000),
        action(status=A.CANCELLED, estimated_cost_cents=999),
        action(axis=Axis.FORMATION, estimated_cost_cents=30_000),
    ]
    rows = {row.axis: row for row in report(actions)}
    ateliers = rows[Axis.ATELIERS]
    assert ateliers.actions == 3
    assert ateliers.by_status[A.DONE] == 1
    assert ateliers.by_status[A.CANCELLED] == 1
    assert ateliers.by_status[A.PROPOSED] == 0
    assert ateliers.planned_cents == 300_000
    assert ateliers.actual_cents == 150_000
    assert ateliers.progress == 75
    assert rows[Axis.FORMATION].planned_cents == 30_000
    assert rows[Axis.COMMUNICATION].actions == 0


# Money in the contracts


@pytest.mark.parametrize(
    ("cents", "amount"), [(0, "0.00"), (5, "0.05"), (123_456, "1234.56"), (-250, "-2.50")]
)
def test_amounts_are_decimal_strings(cents: int, amount: str) -> None:
    assert amount_from_cents(cents) == amount
    assert cents_from_amount(amount) == cents


@pytest.mark.parametrize("bad", ["1.234", "abc", "NaN", "Infinity"])
def test_an_amount_is_a_whole_number_of_cents(bad: str) -> None:
    with pytest.raises(ValueError, match="not"):
        cents_from_amount(bad)
