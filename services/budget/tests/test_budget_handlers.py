"""The budget's main use cases, run on the fake unit of work (no PostgreSQL, no Kafka): what the
registry's and the programme's events make dirty, what a configuration, a vote and a
recalculation write and publish, and what a closed year refuses."""

from datetime import date
from typing import Any, TypeVar

import pytest
from crnt_budget import domain, handlers
from crnt_budget.repository import BudgetRepository, ParticipationRow
from crnt_budget.testing import (
    CAPSO,
    CCPL,
    DotationsFollower,
    action_progressed,
    budget_body,
    centre,
    epci_registered,
    membership,
    programme_validated,
)
from crnt_shared.contracts.budget import (
    CentreShareChanged,
    DotationsChanged,
    ParticipationExceeded,
    SharesRecalculated,
)
from crnt_shared.contracts.programme import ActionUpdated, ProgrammeValidated
from crnt_shared.contracts.registry import EpciRegistered, MembershipApproved, MembershipWithdrawn
from crnt_shared.events import Event, utcnow

from services.budget.tests.fakes import FakeBudgetRepository, unit_of_work

#: The fake does what the handlers need of the repository.
_: type[BudgetRepository] = FakeBudgetRepository

E = TypeVar("E", bound=Event)
YEAR = utcnow().year
TOPIC = "budget-topic"


def of(kind: type[E], event: Event) -> E:
    """The event the builders of :mod:`crnt_budget.testing` made, as its contract."""
    assert isinstance(event, kind)
    return event


async def configured(repository: FakeBudgetRepository, **changes: Any) -> handlers.Outcome:
    config = domain.config_from_json(budget_body(**changes))
    command = handlers.ConfigureBudget(YEAR, config, by="agency")
    return await handlers.configure_budget(command, unit_of_work(repository), TOPIC)


async def approved(repository: FakeBudgetRepository, **facts: Any) -> tuple[Any, bool]:
    event = of(
        MembershipApproved, membership(MembershipApproved, centre(**facts), "pending", "member")
    )
    return event, await handlers.on_centres_changed([event], unit_of_work(repository))


async def test_a_configured_year_gets_its_first_version_and_its_events() -> None:
    repository = FakeBudgetRepository()
    await approved(repository, workstations=4)
    await approved(repository, workstations=8, epci=CCPL)
    config = domain.config_from_json(budget_body())
    uow = unit_of_work(repository)
    outcome = await handlers.configure_budget(
        handlers.ConfigureBudget(YEAR, config, by="agency"), uow, TOPIC
    )
    assert outcome == handlers.Outcome(1, [], changed_centres=2)
    assert uow.committed
    # No cause is about a centre: no centre.share.changed, the dotations by class and both
    # members, new, listed as changed.
    assert [type(e) for e in uow.events] == [SharesRecalculated, DotationsChanged]
    assert {item.topic for item in uow.published} == {TOPIC}
    summary = uow.events[0]
    assert isinstance(summary, SharesRecalculated)
    assert summary.data.cause.kind == "manual"
    assert summary.data.member_count == 2
    shares = await repository.centre_shares(YEAR, 1)
    assert sum(share.amount_cents for share in shares) == config.envelope
    assert repository.budgets[YEAR].latest_version == 1
    dotations = of(DotationsChanged, uow.events[1])
    assert (dotations.subject, dotations.data.part, dotations.data.parts) == (str(YEAR), 1, 1)
    assert [c.workstations for c in dotations.data.classes] == [4, 8]
    assert dotations.data.previous_classes == []
    assert {
        (c.centre_id, c.workstations, c.member, c.previous) for c in dotations.data.changed
    } == {(share.centre_id, share.workstations, True, "0.00") for share in shares}
    follower = DotationsFollower()
    follower.take(uow.events)
    assert follower.amounts == {share.centre_id: share.amount_cents for share in shares}


async def test_an_approval_makes_the_open_years_dirty_and_a_recalculation_absorbs_it() -> None:
    repository = FakeBudgetRepository()
    await approved(repository)
    await configured(repository)
    event, dirty = await approved(repository, workstations=2)
    assert dirty
    assert await repository.dirty_years() == [YEAR]

    uow = unit_of_work(repository)
    outcome = await handlers.recalculate_dirty_year(uow, YEAR, TOPIC)
    assert outcome is not None
    assert outcome.version == 2
    assert outcome.changed_centres == 2  # the newcomer, and the first member's share halved
    summary = uow.events[0]
    assert isinstance(summary, SharesRecalculated)
    assert summary.data.cause.kind == "events"
    assert [c.id for c in summary.data.cause.events] == [event.id]
    assert await repository.dirty_years() == []
    assert await handlers.recalculate_dirty_year(unit_of_work(repository), YEAR, TOPIC) is None


async def test_an_older_event_replayed_after_a_newer_one_changes_nothing() -> None:
    repository = FakeBudgetRepository()
    await configured(repository)
    facts = centre()
    older = of(MembershipApproved, membership(MembershipApproved, facts, "pending", "member"))
    newer = of(MembershipWithdrawn, membership(MembershipWithdrawn, facts, "member", "withdrawn"))
    assert await handlers.on_centres_changed([newer], unit_of_work(repository)) is False
    assert await handlers.on_centres_changed([older], unit_of_work(repository)) is False
    assert repository.centres[facts.id].is_member is False
    assert await repository.dirty_years() == []


async def test_events_taken_together_do_what_each_in_turn_would() -> None:
    """A fetch's membership decisions come to the handler together: a centre approved then
    withdrawn in it has its period opened and closed, an older event after a newer one changes
    nothing, and the causes are the events that moved the shares, in their order."""
    repository = FakeBudgetRepository()
    await configured(repository)
    staying, leaving = centre(workstations=2), centre(workstations=4, epci=CCPL)
    joined = of(MembershipApproved, membership(MembershipApproved, staying, "pending", "member"))
    came = of(MembershipApproved, membership(MembershipApproved, leaving, "pending", "member"))
    went = of(MembershipWithdrawn, membership(MembershipWithdrawn, leaving, "member", "withdrawn"))
    late = of(MembershipApproved, membership(MembershipApproved, leaving, "pending", "member"))
    late = late.model_copy(update={"time": came.time})  # delivered again, after the withdrawal
    assert await handlers.on_centres_changed([came, joined, went, late], unit_of_work(repository))
    assert repository.centres[staying.id].is_member
    assert not repository.centres[leaving.id].is_member
    periods = [(m.centre_id, m.until is None) for m in repository.memberships]
    assert periods == [(leaving.id, False), (staying.id, True)]
    causes = await repository.take_causes(YEAR)
    assert [cause.event_id for cause in causes] == [came.id, joined.id, went.id]


async def test_a_closed_year_refuses_changes_and_no_event_makes_it_dirty() -> None:
    repository = FakeBudgetRepository()
    await approved(repository)
    await configured(repository)
    await handlers.close_year(handlers.CloseYear(YEAR, by="agency"), unit_of_work(repository))
    _, dirty = await approved(repository)
    assert not dirty
    uow = unit_of_work(repository)
    with pytest.raises(domain.YearClosed):
        await configured(repository)
    vote = ParticipationRow(CAPSO[0], 100, "D-1", date(YEAR, 3, 1))
    command = handlers.RecordParticipation(YEAR, vote, by="agency")
    with pytest.raises(domain.YearClosed):
        await handlers.record_participation(command, uow, TOPIC)
    assert uow.untouched


async def test_a_vote_below_what_is_asked_is_announced_once() -> None:
    repository = FakeBudgetRepository()
    await approved(repository)
    await configured(repository)
    vote = ParticipationRow(CAPSO[0], 100, "D-2026-12", date(YEAR, 3, 1))
    uow = unit_of_work(repository)
    command = handlers.RecordParticipation(YEAR, vote, by="agency")
    outcome = await handlers.record_participation(command, uow, TOPIC)
    assert outcome.version == 2
    [exceeded] = [e for e in uow.events if isinstance(e, ParticipationExceeded)]
    assert [epci.siren for epci in exceeded.data.epcis] == [CAPSO[0]]

    again = unit_of_work(repository)
    await handlers.record_participation(command, again, TOPIC)
    assert not [e for e in again.events if isinstance(e, ParticipationExceeded)]


async def test_a_split_by_population_waits_for_the_epcis_population() -> None:
    repository = FakeBudgetRepository()
    await approved(repository)
    outcome = await configured(repository, epci_key="population")
    assert outcome.version is None
    assert outcome.waiting
    assert repository.budgets[YEAR].waiting is not None
    assert all(cause.held for cause in repository.causes)

    # The missing input: a cause, computed with the held ones.
    registered = of(EpciRegistered, epci_registered(CAPSO))
    assert await handlers.on_epci_changed(registered, unit_of_work(repository))
    uow = unit_of_work(repository)
    outcome_after = await handlers.recalculate_dirty_year(uow, YEAR, TOPIC)
    assert outcome_after is not None
    assert outcome_after.version == 1
    assert repository.budgets[YEAR].waiting is None


async def test_the_latest_programme_version_wins_and_its_progress_is_a_cause() -> None:
    repository = FakeBudgetRepository()
    await approved(repository)
    first = of(ProgrammeValidated, programme_validated(YEAR, 1, {"ateliers": "12000.00"}))
    assert await handlers.on_programme_validated(first, unit_of_work(repository)) is False
    assert repository.programmes[YEAR].version == 1  # kept for the budget to come
    await configured(repository)

    second = of(ProgrammeValidated, programme_validated(YEAR, 2, {"ateliers": "9000.00"}))
    assert await handlers.on_programme_validated(second, unit_of_work(repository))
    assert await handlers.on_programme_validated(first, unit_of_work(repository)) is False
    assert repository.programmes[YEAR].version == 2

    progress = of(ActionUpdated, action_progressed(second, "ateliers", "4500.00"))
    assert await handlers.on_action_changed(progress, unit_of_work(repository))
    [action] = repository.programme_actions[YEAR]
    assert action.actual_cents == 450_000
    assert {c.cause.event_id for c in repository.causes} == {second.id, progress.id}


async def _recalculated(repository: FakeBudgetRepository) -> list[Event]:
    uow = unit_of_work(repository)
    outcome = await handlers.recalculate_dirty_year(uow, YEAR, TOPIC)
    assert outcome is not None
    assert outcome.version is not None
    return uow.events


async def test_a_version_publishes_its_dotations_by_class_and_only_what_changed() -> None:
    """A consumer that follows the dotations events knows every member's dotation, now and in
    the version before, while each version lists only the centres whose facts changed."""
    repository = FakeBudgetRepository()
    first, _ = await approved(repository, workstations=4)
    await approved(repository, workstations=4)
    await approved(repository, workstations=8, epci=CCPL)
    config = domain.config_from_json(budget_body())
    uow = unit_of_work(repository)
    await handlers.configure_budget(handlers.ConfigureBudget(YEAR, config, by="agency"), uow, TOPIC)
    follower = DotationsFollower()
    follower.take(uow.events)

    newcomer, _ = await approved(repository, workstations=2)
    events = await _recalculated(repository)
    shares = await repository.centre_shares(YEAR, 2)
    assert [type(e) for e in events] == [SharesRecalculated, CentreShareChanged, DotationsChanged]
    dotations = of(DotationsChanged, events[2])
    assert [c.centre_id for c in dotations.data.changed] == [newcomer.data.centre.id]
    assert dotations.data.changed[0].causes == [MembershipApproved.event_type()]
    assert [c.workstations for c in dotations.data.previous_classes] == [4, 8]
    follower.take(events)
    assert follower.amounts == {s.centre_id: s.amount_cents for s in shares}
    assert follower.previous == {s.centre_id: s.previous_cents for s in shares}

    left = first.data.centre
    leaver = left.id
    await handlers.on_centres_changed(
        [of(MembershipWithdrawn, membership(MembershipWithdrawn, left, "member", "withdrawn"))],
        unit_of_work(repository),
    )
    events = await _recalculated(repository)
    dotations = of(DotationsChanged, events[-1])
    assert [(c.centre_id, c.member) for c in dotations.data.changed] == [(leaver, False)]
    follower.take(events)
    shares = await repository.centre_shares(YEAR, 3)
    assert follower.amounts == {s.centre_id: s.amount_cents for s in shares if s.is_member}
    assert leaver not in follower.amounts


async def test_a_version_that_changes_many_centres_lists_them_in_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("crnt_budget.handlers.events.MAX_CHANGED_PER_PART", 2)
    repository = FakeBudgetRepository()
    for workstations in (1, 2, 3, 3, 5):
        await approved(repository, workstations=workstations)
    uow = unit_of_work(repository)
    config = domain.config_from_json(budget_body())
    await handlers.configure_budget(handlers.ConfigureBudget(YEAR, config, by="agency"), uow, TOPIC)
    parts = [e for e in uow.events if isinstance(e, DotationsChanged)]
    assert [(p.data.part, p.data.parts, len(p.data.changed)) for p in parts] == [
        (1, 3, 2),
        (2, 3, 2),
        (3, 3, 1),
    ]
    assert len({tuple(c.workstations for c in p.data.classes) for p in parts}) == 1
    listed = [c.centre_id for p in parts for c in p.data.changed]
    assert listed == sorted(listed, key=str)
    follower = DotationsFollower()
    follower.take(uow.events)
    shares = await repository.centre_shares(YEAR, 1)
    assert follower.amounts == {s.centre_id: s.amount_cents for s in shares}
    assert sum(follower.amounts.values()) == config.envelope
