"""The budget's use cases: reactions to the registry's and the programme's events, the agency's
configuration of a year, and the recalculation of a year's shares into a new version.

Reactions only update the read models and record the event as a *pending cause* of each open
year (a budget of the event's year or later: the budgets of past years are history). The
recalculator (:mod:`crnt_budget.recalculator`) then computes each dirty year once for all the
causes pending: a burst of hundreds of approvals gives one recalculation, not hundreds, while
each event is recorded in the inbox by its own transaction.

Membership: approved and reinstated → the centre is in the shares; suspended and withdrawn → it
is not. A suspended centre leaves the shares because a suspension stops its activity in the
network (and the money would otherwise go to a centre that cannot use it); it comes back with
its share on reinstatement. A centre update counts when it changes the workstations or the EPCI
of a member.

Programme validated: the planned expenses by axis of the validated programme (its
``totals_by_axis``: the estimated costs of the actions not cancelled) replace the year's, and feed
its financing plan. The latest version wins: a version older than (or the same as) the one
applied, delivered late or again, changes nothing. A validation of a year without a budget is
kept, and configuring that budget applies it (its first version shows the plan). A validation of
a year with a budget is a pending cause of that year only (the programme is that year's, past
or not), so that the recalculator writes a **new version whose cause is the programme-validated
event**: the plan is part of every version, and each version names the programme version it is
based on (``financing_plan.programme``), even when an amendment leaves the totals unchanged.
The shares do not move (the envelope and the EPCIs' contribution are the agency's), so that
version publishes the summary only, whose ``financing`` gives the status and the gap. An
unbalanced plan is not refused: it is reported (``deficit`` or ``surplus`` with the gap, which is
resources − expenses).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crnt_shared.contracts.budget import (
    MAX_CAUSE_EVENTS,
    Cause,
    CausingEvent,
    CentreShareChanged,
    CentreShareChangedData,
    EpciShare,
    FinancingSummary,
    SharesRecalculated,
    SharesRecalculatedData,
)
from crnt_shared.contracts.programme import ProgrammeValidated, cents_from_amount
from crnt_shared.contracts.registry import (
    CentreFacts,
    CentreUpdated,
    EpciRegistered,
    EpciUpdated,
    MembershipApproved,
    MembershipReinstated,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event, EventHandler, utcnow

from crnt_budget import domain
from crnt_budget.repository import (
    CauseRow,
    CentreRow,
    CentreShareRow,
    EpciShareRow,
    ProgrammeRow,
    Repository,
    VersionRow,
)

SOURCE = "/crnt/budget"

#: Whether each membership event puts the centre in the shares.
JOINS: dict[type[Event], bool] = {
    MembershipApproved: True,
    MembershipReinstated: True,
    MembershipSuspended: False,
    MembershipWithdrawn: False,
}


# Reactions to the registry's events


def event_handlers(on_dirty: Callable[[], None]) -> dict[type[Event], EventHandler]:
    """The handlers of the budget's consumer; ``on_dirty`` wakes the recalculator."""

    async def on_membership(event: Event, uow: UnitOfWork) -> None:
        centre: CentreFacts = event.data.centre
        if await _apply_centre(event, uow, centre, joins=JOINS[type(event)]):
            on_dirty()

    async def on_centre_updated(event: Event, uow: UnitOfWork) -> None:
        assert isinstance(event, CentreUpdated)
        if await _apply_centre(event, uow, event.data.centre, joins=None):
            on_dirty()

    async def on_epci(event: Event, uow: UnitOfWork) -> None:
        assert isinstance(event, EpciRegistered | EpciUpdated)
        repository = Repository(uow.connection)
        await repository.lock_shares_shared()
        data = event.data
        previous = await repository.save_epci(data.siren, data.name, data.population, event.time)
        changed = previous is not None and previous[0] != data.population
        if changed and await _mark_dirty(repository, event):
            on_dirty()

    handlers: dict[type[Event], EventHandler] = dict.fromkeys(JOINS, on_membership)
    handlers[CentreUpdated] = on_centre_updated
    handlers[EpciRegistered] = on_epci
    handlers[EpciUpdated] = on_epci
    return handlers


def programme_handlers(on_dirty: Callable[[], None]) -> dict[type[Event], EventHandler]:
    """The handlers of the budget's consumer of the programme's events (only the validation
    matters here: action events are skipped)."""

    async def on_programme_validated(event: Event, uow: UnitOfWork) -> None:
        assert isinstance(event, ProgrammeValidated)
        if await _apply_programme(event, uow):
            on_dirty()

    return {ProgrammeValidated: on_programme_validated}


async def _apply_programme(event: ProgrammeValidated, uow: UnitOfWork) -> bool:
    """Record the validated programme's planned expenses unless a newer version is applied;
    returns whether the year's budget must be recalculated."""
    data = event.data
    expenses = {axis: cents_from_amount(amount) for axis, amount in data.totals_by_axis.items()}
    negative = sorted(axis for axis, amount in expenses.items() if amount < 0)
    if negative:
        raise ValueError(
            f"the programme {data.year} version {data.version} plans negative expenses on"
            f" {', '.join(negative)}: the financing plan cannot use it"
        )
    repository = Repository(uow.connection)
    await repository.lock_shares_shared()
    programme = ProgrammeRow(
        year=data.year,
        version=data.version,
        validated_at=data.validated_at,
        decided_on=data.decided_on,
        deciding_body=data.deciding_body,
        total_cents=sum(expenses.values()),
        event_id=event.id,
    )
    if not await repository.save_programme(programme, expenses):
        return False  # this version or a newer one is applied already: the newer one stands
    if await repository.budget(data.year) is None:
        return False  # kept: configuring the year's budget applies it
    await repository.add_cause([data.year], event.id, event.type, event.subject)
    return True


async def _apply_centre(
    event: Event, uow: UnitOfWork, facts: CentreFacts, *, joins: bool | None
) -> bool:
    """Update the centre's read model; ``joins=None`` keeps the membership the registry states
    in the facts. Returns whether some open year's shares must be recalculated."""
    repository = Repository(uow.connection)
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


async def _mark_dirty(repository: Repository, event: Event) -> bool:
    years = await repository.years_from(event.time.year)
    await repository.add_cause(years, event.id, event.type, event.subject)
    return bool(years)


# The agency's configuration


@dataclass(frozen=True)
class ConfigureBudget:
    year: int
    config: domain.BudgetConfig
    by: str


async def configure_budget(command: ConfigureBudget, uow: UnitOfWork, publish_topic: str) -> int:
    """Create or revise a year's budget and compute its shares at once; returns the version."""
    repository = Repository(uow.connection)
    await repository.lock_shares_exclusive()
    await repository.save_budget(command.year, domain.config_to_json(command.config))
    absorbed = await repository.take_causes(command.year)
    version = await recalculate(
        uow, command.year, absorbed, manual_by=command.by, publish_topic=publish_topic
    )
    assert version is not None
    await uow.commit()
    return version


# Recalculation


async def recalculate_dirty_year(uow: UnitOfWork, year: int, publish_topic: str) -> bool:
    """Recalculate ``year`` for the causes pending; returns whether there were any.

    The caller commits. The exclusive lock waits for the handlers in flight, so that every
    change committed is in this computation and its cause is taken with it.
    """
    repository = Repository(uow.connection)
    await repository.lock_shares_exclusive()
    causes = await repository.take_causes(year)
    if not causes:
        return False
    await recalculate(uow, year, causes, manual_by=None, publish_topic=publish_topic)
    return True


async def recalculate(
    uow: UnitOfWork,
    year: int,
    causes: Sequence[CauseRow],
    *,
    manual_by: str | None,
    publish_topic: str,
) -> int | None:
    """Compute the year's shares; write a new version and its events when a manual change
    asks for it or when something changed. Returns the new version, or ``None``."""
    repository = Repository(uow.connection)
    budget = await repository.budget(year, for_update=True)
    assert budget is not None
    config = domain.config_from_json(budget.configuration)
    members = await repository.members()
    epcis = await repository.sharing_epcis()
    expenses = await repository.planned_expenses(year)
    programme = await repository.programme(year)

    previous_version = (
        await repository.version(year, budget.latest_version) if budget.latest_version else None
    )
    previous_centres = (
        {
            str(row.centre_id): row
            for row in await repository.centre_shares(year, budget.latest_version)
        }
        if previous_version
        else {}
    )
    previous_epcis = (
        {row.siren: row for row in await repository.epci_shares(year, budget.latest_version)}
        if previous_version
        else {}
    )

    domain_members = [
        domain.Member(str(m.centre_id), m.epci_siren, m.workstations) for m in members
    ]
    centre_amounts = domain.centre_shares(config.envelope, config.centre_key, domain_members)
    epci_amounts = domain.epci_shares(
        config.epci_contribution,
        config.epci_key,
        [domain.Epci(e.siren, e.population) for e in epcis],
        domain_members,
    )
    plan = {
        **domain.plan_to_json(
            domain.financing_plan(config.funders, config.epci_contribution, expenses)
        ),
        "programme": _programme_json(programme),
    }
    centre_lines = domain.compare(
        centre_amounts, {key: row.amount_cents for key, row in previous_centres.items()}
    )
    epci_lines = domain.compare(
        epci_amounts, {key: row.amount_cents for key, row in previous_epcis.items()}
    )
    changed = [line for line in centre_lines if line.change]
    unchanged = (
        previous_version is not None
        and not changed
        and not any(line.change for line in epci_lines)
        and previous_version.financing == plan
    )
    if manual_by is None and unchanged:
        return None

    by_id = {str(m.centre_id): m for m in members}
    centre_rows = [_centre_row(line, by_id, previous_centres) for line in centre_lines]
    epci_by_siren = {e.siren: e for e in epcis}
    counts = domain.member_counts(domain_members)
    epci_rows = [_epci_row(line, epci_by_siren, previous_epcis, counts) for line in epci_lines]
    number = budget.latest_version + 1
    cause = _cause_json(causes, manual_by)
    version = VersionRow(
        year=year,
        version=number,
        computed_at=utcnow(),
        cause=cause,
        configuration=budget.configuration,
        financing=plan,
        envelope_cents=config.envelope,
        allocated_cents=sum(centre_amounts.values()),
        epci_contribution_cents=config.epci_contribution,
        member_count=len(members),
        changed_centres=len(changed),
    )
    await repository.add_version(version, centre_rows, epci_rows)
    await uow.publish_many(
        _events(version, centre_rows, epci_rows, causes, manual_by), topic=publish_topic
    )
    return number


def _programme_json(programme: ProgrammeRow | None) -> dict[str, Any] | None:
    """Which validated programme the plan's expenses come from (``None``: none yet)."""
    if programme is None:
        return None
    return {
        "version": programme.version,
        "validated_at": programme.validated_at.isoformat(),
        "decided_on": programme.decided_on.isoformat(),
        "deciding_body": programme.deciding_body,
    }


def _centre_row(
    line: domain.Line, members: Mapping[str, CentreRow], previous: Mapping[str, CentreShareRow]
) -> CentreShareRow:
    member = members.get(line.key)
    if member is not None:
        return CentreShareRow(
            centre_id=member.centre_id,
            name=member.name,
            epci_siren=member.epci_siren,
            workstations=member.workstations,
            is_member=True,
            amount_cents=line.amount,
            previous_cents=line.previous,
        )
    gone = previous[line.key]
    return CentreShareRow(
        centre_id=gone.centre_id,
        name=gone.name,
        epci_siren=gone.epci_siren,
        workstations=gone.workstations,
        is_member=False,
        amount_cents=line.amount,
        previous_cents=line.previous,
    )


def _epci_row(
    line: domain.Line,
    epcis: Mapping[str, Any],
    previous: Mapping[str, EpciShareRow],
    counts: Mapping[str, int],
) -> EpciShareRow:
    current = epcis.get(line.key)
    name = current.name if current is not None else previous[line.key].name
    population = current.population if current is not None else previous[line.key].population
    return EpciShareRow(
        siren=line.key,
        name=name,
        population=population,
        member_centres=counts.get(line.key, 0),
        amount_cents=line.amount,
        previous_cents=line.previous,
    )


def _cause_json(causes: Sequence[CauseRow], manual_by: str | None) -> dict[str, Any]:
    return {
        "kind": "events" if manual_by is None else "manual",
        "by": manual_by,
        "event_count": len(causes),
        "events": [
            {"id": str(c.event_id), "type": c.event_type, "subject": c.subject} for c in causes
        ],
    }


def _cause(causes: Sequence[CauseRow], manual_by: str | None) -> Cause:
    return Cause(
        kind="events" if manual_by is None else "manual",
        by=manual_by,
        event_count=len(causes),
        events=[CausingEvent(id=c.event_id, type=c.event_type) for c in causes],
    )


def _events(
    version: VersionRow,
    centres: Sequence[CentreShareRow],
    epcis: Sequence[EpciShareRow],
    causes: Sequence[CauseRow],
    manual_by: str | None,
) -> list[Event]:
    """The summary keyed by year, then one event per centre whose amount changed."""
    money = domain.format_cents
    financing = version.financing
    summary = SharesRecalculated.create(
        source=SOURCE,
        subject=str(version.year),
        data=SharesRecalculatedData(
            year=version.year,
            version=version.version,
            computed_at=version.computed_at,
            cause=_cause(causes[:MAX_CAUSE_EVENTS], manual_by).model_copy(
                update={"event_count": len(causes)}
            ),
            envelope=money(version.envelope_cents),
            allocated=money(version.allocated_cents),
            epci_contribution=money(version.epci_contribution_cents),
            member_count=version.member_count,
            changed_centres=version.changed_centres,
            epcis=[
                EpciShare(
                    siren=e.siren,
                    name=e.name,
                    amount=money(e.amount_cents),
                    previous=money(e.previous_cents),
                    change=money(e.amount_cents - e.previous_cents),
                )
                for e in epcis
            ],
            financing=FinancingSummary(
                status=financing["status"],
                expenses=financing["expenses"],
                resources=financing["resources"],
                gap=financing["gap"],
            ),
        ),
    )
    about: dict[str, list[CauseRow]] = {}
    for cause in causes:
        about.setdefault(cause.subject, []).append(cause)
    events: list[Event] = [summary]
    for centre in centres:
        if centre.amount_cents == centre.previous_cents:
            continue
        own = about.get(str(centre.centre_id), [])
        events.append(
            CentreShareChanged.create(
                source=SOURCE,
                subject=str(centre.centre_id),
                data=CentreShareChangedData(
                    year=version.year,
                    version=version.version,
                    centre_id=centre.centre_id,
                    centre_name=centre.name,
                    epci_siren=centre.epci_siren,
                    member=centre.is_member,
                    amount=money(centre.amount_cents),
                    previous=money(centre.previous_cents),
                    change=money(centre.amount_cents - centre.previous_cents),
                    cause=_cause(own, manual_by).model_copy(update={"event_count": len(causes)}),
                ),
            )
        )
    return events
