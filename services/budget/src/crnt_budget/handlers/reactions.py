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

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from crnt_shared.contracts import registry
from crnt_shared.contracts.programme import (
    NATURES,
    ActionStatusChanged,
    ActionUpdated,
    ProgrammeValidated,
    default_nature,
)
from crnt_shared.contracts.registry import CentreUpdated, EpciRegistered, EpciUpdated
from crnt_shared.events import Event
from crnt_shared.money import cents_from_amount

from crnt_budget.repository import (
    ActionRow,
    BudgetRepository,
    BudgetUnitOfWork,
    CauseRow,
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
E = TypeVar("E", bound=MembershipChange | CentreUpdated)


# Reactions to the registry's events


async def on_centres_changed(
    events: Sequence[MembershipChange | CentreUpdated], uow: BudgetUnitOfWork
) -> bool:
    """The centres join or leave the shares (a membership decision), or change (a centre
    update), in the events' order; returns whether a year became dirty (as every reaction
    does: the consumer then wakes the recalculator). The consumer gives the consecutive events
    of these types together: a few statements for all of them, not several per event."""
    return await _apply_centres(events, uow)


async def on_epci_changed(event: EpciRegistered | EpciUpdated, uow: BudgetUnitOfWork) -> bool:
    repository = uow.repository
    await repository.lock_shares_shared()
    data = event.data
    previous = await repository.save_epci(data.siren, data.name, data.population, event.time)
    changed = previous is not None and previous[0] != data.population
    return changed and await _mark_dirty(repository, [event])


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
    await repository.add_causes([(year, _cause(event))])
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
    await repository.add_causes([(data.year, _cause(event))])
    return True


async def _apply_centres(
    events: Sequence[MembershipChange | CentreUpdated], uow: BudgetUnitOfWork
) -> bool:
    """Update the centres' read model as each event in turn would: an older event replayed
    after a newer one changes nothing; a centre update keeps the membership the registry states
    in its facts. Returns whether some open year's shares must be recalculated."""
    repository = uow.repository
    await repository.lock_shares_shared()
    known = await repository.centres_for_update({event.data.centre.id for event in events})
    moving: set[int] = set()
    for turn in _turns(events):
        saved: list[tuple[CentreRow, str]] = []
        memberships: list[tuple[UUID, bool, datetime]] = []
        for index, event in turn:
            facts = event.data.centre
            previous = known.get(facts.id)
            if previous is not None and previous.as_of > event.time:
                continue  # the newer one stands
            joins = JOINS.get(type(event))
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
            known[facts.id] = current
            saved.append((current, "member" if is_member else facts.status))
            memberships.append((facts.id, is_member, getattr(event.data, "at", None) or event.time))
            if _moves_shares(previous, current):
                moving.add(index)
        await repository.save_centres(saved)
        await repository.sync_memberships(memberships)
    return await _mark_dirty(repository, [e for i, e in enumerate(events) if i in moving])


def _turns(events: Sequence[E]) -> list[list[tuple[int, E]]]:
    """The events (with their index) in turns where each centre comes at most once: its
    first event in the first turn, its second in the second, and so on."""
    turns: list[list[tuple[int, E]]] = []
    seen: Counter[UUID] = Counter()
    for index, event in enumerate(events):
        centre_id = event.data.centre.id
        if seen[centre_id] == len(turns):
            turns.append([])
        turns[seen[centre_id]].append((index, event))
        seen[centre_id] += 1
    return turns


def _moves_shares(previous: CentreRow | None, current: CentreRow) -> bool:
    """Whether the shares move: a member joins or leaves, or changes workstations or EPCI."""
    if previous is None or not previous.is_member:
        return current.is_member
    return not current.is_member or (previous.workstations, previous.epci_siren) != (
        current.workstations,
        current.epci_siren,
    )


async def _mark_dirty(repository: BudgetRepository, events: Sequence[Event]) -> bool:
    """Each event is a cause of the open years from its own."""
    if not events:
        return False
    years = await repository.years_from(min(event.time.year for event in events))
    causes = [(y, _cause(e)) for e in events for y in years if y >= e.time.year]
    await repository.add_causes(causes)
    return bool(causes)


def _cause(event: Event) -> CauseRow:
    return CauseRow(event.id, event.type, event.subject)
