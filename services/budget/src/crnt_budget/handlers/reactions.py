"""The budget's reactions to the registry's and the programme's events.

year (a budget of the event's year or later: the budgets of past years are history). The
recalculator (:mod:`crnt_budget.workers`) then computes each dirty year once for all the
causes pending: a burst of hundreds of approvals gives one recalculation, not hundreds, while
each event is recorded in the inbox by its own transaction.

Membership: approved and reinstated → the centre is in the shares; suspended and withdrawn → it
is not. A suspended centre leaves the shares because a suspension stops its activity in the
network (and the money would otherwise go to a centre that cannot use it); it comes back with
its share on reinstatement. A centre update counts when it changes the workstations or the EPCI
of a member.

Programme validated: the actions of the validated programme (not cancelled; each with its axis,
nature and estimate) replace the year's and are the plan's expenses with the network's lines and
the dotations. The latest version wins: a version older than (or the same as) the one applied,
delivered late or again, changes nothing. A validation of a year without a budget is kept, and
configuring that budget applies it. A validation of a year with an open budget is a pending cause
of that year only, so that the recalculator writes a **new version whose cause is the
programme-validated event**; each version names the programme version it is based on
(``financing_plan.programme``). The dotations do not move; the reste à charge, hence each EPCI's
part, does. Progress reports (``action.updated``, ``action.status_changed``) bring each action's
actual cost: a change is a cause of a new version (the plan's réalisé), never of a closed year.
"""

from crnt_shared.contracts import registry
from crnt_shared.contracts.programme import (
    NATURES,
    ActionStatusChanged,
    ActionUpdated,
    ProgrammeValidated,
    default_nature,
)
from crnt_shared.contracts.registry import CentreFacts, CentreUpdated, EpciRegistered, EpciUpdated
from crnt_shared.events import Event
from crnt_shared.money import cents_from_amount

from crnt_budget.repository import (
    ActionRow,
    BudgetRepository,
    BudgetUnitOfWork,
    CentreRow,
    ProgrammeRow,
)

#: Whether each membership event puts the centre in the shares.
JOINS: dict[type[Event], bool] = {
    registry.MembershipApproved: True,
    registry.MembershipReinstated: True,
    registry.MembershipSuspended: False,
    registry.MembershipWithdrawn: False,
}


MembershipChange = (
    registry.MembershipApproved
    | registry.MembershipReinstated
    | registry.MembershipSuspended
    | registry.MembershipWithdrawn
)


# Reactions to the registry's events


async def on_membership_changed(
    event: MembershipChange,
    uow: BudgetUnitOfWork,
) -> bool:
    """The centre joins or leaves the shares; returns whether a year became dirty (as every
    reaction does: the consumer then wakes the recalculator)."""
    return await _apply_centre(event, uow, event.data.centre, joins=JOINS[type(event)])


async def on_centre_updated(event: CentreUpdated, uow: BudgetUnitOfWork) -> bool:
    return await _apply_centre(event, uow, event.data.centre, joins=None)


async def on_epci_changed(event: EpciRegistered | EpciUpdated, uow: BudgetUnitOfWork) -> bool:
    repository = uow.repository
    await repository.lock_shares_shared()
    data = event.data
    previous = await repository.save_epci(data.siren, data.name, data.population, event.time)
    changed = previous is not None and previous[0] != data.population
    return changed and await _mark_dirty(repository, event)


# Reactions to the programme's events: the validation gives the plan's actions, the progress
# reports their actual costs.


async def on_programme_validated(event: ProgrammeValidated, uow: BudgetUnitOfWork) -> bool:
    return await _apply_programme(event, uow)


async def on_action_changed(
    event: ActionUpdated | ActionStatusChanged, uow: BudgetUnitOfWork
) -> bool:
    action = event.data.action
    actual = None if action.actual_cost is None else cents_from_amount(action.actual_cost)
    repository = uow.repository
    await repository.lock_shares_shared()
    year = await repository.record_actual(action.id, actual, event.time)
    if year is None:
        return False
    budget = await repository.budget(year)
    if budget is None or budget.closed_at is not None:
        return False
    await repository.add_cause([year], event.id, event.type, event.subject)
    return True


async def _apply_programme(event: ProgrammeValidated, uow: BudgetUnitOfWork) -> bool:
    """Record the validated programme's planned expenses unless a newer version is applied;
    returns whether the year's budget must be recalculated."""
    data = event.data
    repository = uow.repository
    await repository.lock_shares_shared()
    known = {row.action_id: row.actual_cents for row in await repository.actions(data.year)}
    actions = [
        ActionRow(
            action_id=action.id,
            axis=action.axis,
            nature=action.nature or default_nature(action.axis),
            title=action.title,
            estimated_cents=cents_from_amount(action.estimated_cost),
            actual_cents=(
                cents_from_amount(action.actual_cost)
                if action.actual_cost is not None
                else known.get(action.id)
            ),
        )
        for action in data.actions
        if action.status != "cancelled"
    ]
    wrong = sorted(
        a.title
        for a in actions
        if a.estimated_cents < 0 or (a.actual_cents or 0) < 0 or a.nature not in NATURES
    )
    if wrong:
        raise ValueError(
            f"the programme {data.year} version {data.version} has actions with a negative cost"
            f" or an unknown nature ({', '.join(wrong)}): the financing plan cannot use it"
        )
    programme = ProgrammeRow(
        year=data.year,
        version=data.version,
        validated_at=data.validated_at,
        decided_on=data.decided_on,
        deciding_body=data.deciding_body,
        total_cents=sum(a.estimated_cents for a in actions),
        event_id=event.id,
    )
    if not await repository.save_programme(programme, actions):
        return False  # this version or a newer one is applied already: the newer one stands
    budget = await repository.budget(data.year)
    if budget is None or budget.closed_at is not None:
        return False  # kept: configuring the year's budget applies it; a closed year stays
    await repository.add_cause([data.year], event.id, event.type, event.subject)
    return True


async def _apply_centre(
    event: Event, uow: BudgetUnitOfWork, facts: CentreFacts, *, joins: bool | None
) -> bool:
    """Update the centre's read model; ``joins=None`` keeps the membership the registry states
    in the facts. Returns whether some open year's shares must be recalculated."""
    repository = uow.repository
    await repository.lock_shares_shared()
    previous = await repository.centre(facts.id)
    if previous is not None and previous.as_of > event.time:
        return False  # an older event replayed after a newer one: the newer one stands
    is_member = facts.status == "member" if joins is None else joins
    current = CentreRow(
        centre_id=facts.id,
        name=facts.nom,
        epci_siren=facts.epci_siren,
        epci_name=facts.epci_name,
        workstations=max(0, facts.workstations),
        is_member=is_member,
        as_of=event.time,
    )
    await repository.save_centre(current, status="member" if is_member else facts.status)
    at = getattr(event.data, "at", None) or event.time
    await repository.sync_membership(facts.id, is_member, at)
    if not (is_member or (previous is not None and previous.is_member)):
        return False
    if (
        previous is not None
        and previous.is_member == is_member
        and (previous.workstations, previous.epci_siren)
        == (current.workstations, current.epci_siren)
    ):
        return False
    return await _mark_dirty(repository, event)


async def _mark_dirty(repository: BudgetRepository, event: Event) -> bool:
    years = await repository.years_from(event.time.year)
    await repository.add_cause(years, event.id, event.type, event.subject)
    return bool(years)
