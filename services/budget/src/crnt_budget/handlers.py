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

A version whose split lacks an input (:class:`~crnt_budget.domain.MissingInputs`) is not
written: the causes are held and the budget records what it waits for; the next cause (the
missing input arriving, or any change) computes again with all of them. A version that asks an
EPCI more than its council voted publishes :class:`ParticipationExceeded` when that demand is new.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crnt_shared.contracts.budget import (
    MAX_CAUSE_EVENTS,
    Cause,
    CausingEvent,
    CentreShareChanged,
    CentreShareChangedData,
    EpciShare,
    ExceededParticipation,
    FinancingSummary,
    ParticipationExceeded,
    ParticipationExceededData,
    SharesRecalculated,
    SharesRecalculatedData,
)
from crnt_shared.contracts.programme import (
    NATURES,
    ActionStatusChanged,
    ActionUpdated,
    ProgrammeValidated,
    default_nature,
)
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
from crnt_shared.events import Event, utcnow
from crnt_shared.money import cents_from_amount

from crnt_budget import domain
from crnt_budget.repository import (
    ActionRow,
    BudgetRow,
    CauseRow,
    CentreRow,
    CentreShareRow,
    EpciShareRow,
    MemberClassRow,
    ParticipationRow,
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


async def on_membership_changed(
    event: MembershipApproved | MembershipReinstated | MembershipSuspended | MembershipWithdrawn,
    uow: UnitOfWork,
) -> bool:
    """The centre joins or leaves the shares; returns whether a year became dirty (as every
    reaction does: the consumer then wakes the recalculator)."""
    return await _apply_centre(event, uow, event.data.centre, joins=JOINS[type(event)])


async def on_centre_updated(event: CentreUpdated, uow: UnitOfWork) -> bool:
    return await _apply_centre(event, uow, event.data.centre, joins=None)


async def on_epci_changed(event: EpciRegistered | EpciUpdated, uow: UnitOfWork) -> bool:
    repository = Repository(uow.connection)
    await repository.lock_shares_shared()
    data = event.data
    previous = await repository.save_epci(data.siren, data.name, data.population, event.time)
    changed = previous is not None and previous[0] != data.population
    return changed and await _mark_dirty(repository, event)


# Reactions to the programme's events: the validation gives the plan's actions, the progress
# reports their actual costs.


async def on_programme_validated(event: ProgrammeValidated, uow: UnitOfWork) -> bool:
    return await _apply_programme(event, uow)


async def on_action_changed(event: ActionUpdated | ActionStatusChanged, uow: UnitOfWork) -> bool:
    action = event.data.action
    actual = None if action.actual_cost is None else cents_from_amount(action.actual_cost)
    repository = Repository(uow.connection)
    await repository.lock_shares_shared()
    year = await repository.record_actual(action.id, actual, event.time)
    if year is None:
        return False
    budget = await repository.budget(year)
    if budget is None or budget.closed_at is not None:
        return False
    await repository.add_cause([year], event.id, event.type, event.subject)
    return True


async def _apply_programme(event: ProgrammeValidated, uow: UnitOfWork) -> bool:
    """Record the validated programme's planned expenses unless a newer version is applied;
    returns whether the year's budget must be recalculated."""
    data = event.data
    repository = Repository(uow.connection)
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


async def _mark_dirty(repository: Repository, event: Event) -> bool:
    years = await repository.years_from(event.time.year)
    await repository.add_cause(years, event.id, event.type, event.subject)
    return bool(years)


# The agency's commands


@dataclass(frozen=True)
class ConfigureBudget:
    year: int
    config: domain.BudgetConfig
    by: str


@dataclass(frozen=True)
class RecordParticipation:
    year: int
    participation: ParticipationRow
    by: str


@dataclass(frozen=True)
class CloseYear:
    year: int
    by: str


@dataclass(frozen=True)
class Outcome:
    """A new version, or ``None`` with what the version waits for."""

    version: int | None
    waiting: list[str]


async def _open_budget(repository: Repository, year: int) -> BudgetRow:
    budget = await repository.budget(year, for_update=True)
    if budget is None:
        raise domain.NoBudget(year)
    if budget.closed_at is not None:
        raise domain.YearClosed(year, budget.closed_at)
    return budget


async def configure_budget(
    command: ConfigureBudget, uow: UnitOfWork, publish_topic: str
) -> Outcome:
    """Create or revise a year's budget and compute its version at once (or say what it waits
    for)."""
    repository = Repository(uow.connection)
    await repository.lock_shares_exclusive()
    budget = await repository.budget(command.year, for_update=True)
    if budget is not None and budget.closed_at is not None:
        raise domain.YearClosed(command.year, budget.closed_at)
    await repository.save_budget(command.year, domain.config_to_json(command.config))
    absorbed = await repository.take_causes(command.year)
    outcome = await recalculate(
        uow, command.year, absorbed, manual_by=command.by, publish_topic=publish_topic
    )
    await uow.commit()
    return outcome


async def record_participation(
    command: RecordParticipation, uow: UnitOfWork, publish_topic: str
) -> Outcome:
    """An EPCI's council voted its participation: a new version compares it with what is
    asked."""
    repository = Repository(uow.connection)
    await repository.lock_shares_exclusive()
    await _open_budget(repository, command.year)
    await repository.save_participation(command.year, command.participation)
    absorbed = await repository.take_causes(command.year)
    outcome = await recalculate(
        uow, command.year, absorbed, manual_by=command.by, publish_topic=publish_topic
    )
    await uow.commit()
    return outcome


async def close_year(command: CloseYear, uow: UnitOfWork) -> None:
    """After the closing nothing recalculates the year: its last version is its account."""
    repository = Repository(uow.connection)
    await repository.lock_shares_exclusive()
    await _open_budget(repository, command.year)
    await repository.close(command.year, command.by)
    await uow.commit()


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
    budget = await repository.budget(year)
    if budget is None or budget.closed_at is not None:
        return True  # a closed year never changes: its causes are dropped
    await recalculate(uow, year, causes, manual_by=None, publish_topic=publish_topic)
    return True


class Members:
    """A year's members as the computation needs them: how many have each number of
    workstations (the classes of the centre key) and how many each EPCI has."""

    def __init__(self, rows: Iterable[MemberClassRow]) -> None:
        self.classes: dict[int, int] = {}
        self.by_epci: dict[str, int] = {}
        self.epci_names: dict[str, str] = {}
        for row in rows:
            self.classes[row.workstations] = self.classes.get(row.workstations, 0) + row.members
            self.by_epci[row.epci_siren] = self.by_epci.get(row.epci_siren, 0) + row.members
            self.epci_names[row.epci_siren] = row.epci_name

    @property
    def count(self) -> int:
        return sum(self.classes.values())


def _expenses(actions: Sequence[ActionRow]) -> list[domain.Expense]:
    return [
        domain.Expense(
            key=str(a.action_id),
            label=a.title,
            kind=domain.ExpenseKind.ACTION,
            axis=a.axis,
            nature=domain.Nature(a.nature),
            estimated=a.estimated_cents,
            actual=a.actual_cents,
        )
        for a in actions
    ]


async def recalculate(
    uow: UnitOfWork,
    year: int,
    causes: Sequence[CauseRow],
    *,
    manual_by: str | None,
    publish_topic: str,
) -> Outcome:
    """Compute the year's plan, dotations and EPCI parts; write a new version and its events
    when a manual change asks for it or when something changed. Missing inputs: no version,
    the causes are held and the budget says what it waits for."""
    repository = Repository(uow.connection)
    budget = await repository.budget(year, for_update=True)
    assert budget is not None
    config = domain.config_from_json(budget.configuration)
    at = await repository.year_cut(year)
    members = Members(await repository.member_classes(at))
    split = domain.split_by_class(config.envelope, config.centre_key, members.classes)
    cut = None
    if split.tied_cents:
        cut = str(await repository.nth_member(at, split.tied, split.tied_cents))
    dotations = split.classes(cut)
    allocated = split.tied_cents + sum(
        dotations[workstations].base * count for workstations, count in members.classes.items()
    )
    programme = await repository.programme(year)
    actions = await repository.actions(year)
    voted = await repository.participations(year)

    expenses = domain.expenses_of(config, _expenses(actions), allocated)
    plan = domain.financing_plan(expenses, config.funders, programme_known=programme is not None)
    known = await repository.epcis(members.by_epci)
    payers = [
        domain.Payer(
            siren=siren,
            name=known[siren].name if siren in known else members.epci_names[siren],
            population=known[siren].population if siren in known else None,
            member_centres=count,
        )
        for siren, count in sorted(members.by_epci.items())
    ]
    try:
        epci_amounts = domain.epci_split(
            plan.reste_a_charge, config.epci_key, payers, config.fixed_shares or {}, year
        )
    except domain.MissingInputs as missing:
        await repository.set_waiting(
            year, {"missing": missing.missing, "since": utcnow().isoformat()}
        )
        await repository.hold_causes(year, causes)
        return Outcome(None, missing.missing)
    await repository.set_waiting(year, None)

    previous_version = (
        await repository.version(year, budget.latest_version) if budget.latest_version else None
    )
    previous_epcis = (
        {row.siren: row for row in await repository.epci_shares(year, budget.latest_version)}
        if previous_version
        else {}
    )
    financing = {**domain.plan_to_json(plan), "programme": _programme_json(programme)}
    epci_lines = domain.compare(
        epci_amounts, {key: row.amount_cents for key, row in previous_epcis.items()}
    )
    by_siren = {p.siren: p for p in payers}
    epci_rows = [_epci_row(line, by_siren, previous_epcis, voted) for line in epci_lines]
    changes = await repository.share_changes(year, at, budget.latest_version, dotations)
    changed = [c for c in changes if c.amount_cents != c.previous_cents]
    unchanged = (
        previous_version is not None
        and not changed
        and _comparable(epci_rows) == _comparable(previous_epcis.values())
        and previous_version.financing == financing
    )
    if manual_by is None and unchanged:
        return Outcome(None, [])

    number = budget.latest_version + 1
    version = VersionRow(
        year=year,
        version=number,
        computed_at=utcnow(),
        cause=_cause_json(causes, manual_by),
        configuration=budget.configuration,
        financing=financing,
        envelope_cents=config.envelope,
        allocated_cents=allocated,
        epci_contribution_cents=plan.reste_a_charge,
        member_count=members.count,
        changed_centres=len(changed),
    )
    facts = [c for c in changes if c.facts_changed]
    await repository.add_version(version, facts, dotations, epci_rows)
    events = _events(version, changed, epci_rows, causes, manual_by)
    exceeded = _newly_exceeded(version, epci_rows, previous_epcis)
    if exceeded is not None:
        events.append(exceeded)
    await uow.publish_many(events, topic=publish_topic)
    return Outcome(number, [])


def _comparable(rows: Iterable[EpciShareRow]) -> dict[str, tuple[Any, ...]]:
    """What a version says of the EPCIs, leaving out those it asks nothing of and that voted
    nothing (a leaver's zero line is written once)."""
    return {
        row.siren: (row.amount_cents, row.voted_cents, row.exceeds_voted)
        for row in rows
        if row.amount_cents or row.voted_cents is not None
    }


def _newly_exceeded(
    version: VersionRow, rows: Sequence[EpciShareRow], previous: Mapping[str, EpciShareRow]
) -> Event | None:
    """The EPCIs asked more than voted, when one of them is newly so or asked another amount
    than by the previous version: the agency hears it once per change, not at every
    version."""
    over = [row for row in rows if row.exceeds_voted]
    fresh = [
        row
        for row in over
        if row.siren not in previous
        or not previous[row.siren].exceeds_voted
        or previous[row.siren].amount_cents != row.amount_cents
        or previous[row.siren].voted_cents != row.voted_cents
    ]
    if not fresh:
        return None
    money = domain.format_cents
    return ParticipationExceeded.create(
        source=SOURCE,
        subject=str(version.year),
        data=ParticipationExceededData(
            year=version.year,
            version=version.version,
            computed_at=version.computed_at,
            epcis=[
                ExceededParticipation(
                    siren=row.siren,
                    name=row.name,
                    voted=money(row.voted_cents or 0),
                    asked=money(row.amount_cents),
                    deliberation_number=row.deliberation_number or "",
                    deliberation_date=row.deliberation_date or version.computed_at.date(),
                )
                for row in over
            ],
        ),
    )


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


def _epci_row(
    line: domain.Line,
    payers: Mapping[str, domain.Payer],
    previous: Mapping[str, EpciShareRow],
    voted: Mapping[str, ParticipationRow],
) -> EpciShareRow:
    payer = payers.get(line.key)
    before = previous.get(line.key)
    name = payer.name if payer is not None else before.name if before is not None else line.key
    population = payer.population if payer is not None else None
    if payer is None and before is not None:
        population = before.population
    vote = voted.get(line.key)
    return EpciShareRow(
        siren=line.key,
        name=name,
        population=population,
        member_centres=0 if payer is None else payer.member_centres,
        amount_cents=line.amount,
        previous_cents=line.previous,
        voted_cents=None if vote is None else vote.amount_cents,
        deliberation_number=None if vote is None else vote.deliberation_number,
        deliberation_date=None if vote is None else vote.deliberation_date,
        exceeds_voted=vote is not None and line.amount > vote.amount_cents,
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


def _cause(causes: Sequence[CauseRow], manual_by: str | None, every: Sequence[CauseRow]) -> Cause:
    return Cause(
        kind="events" if manual_by is None else "manual",
        by=manual_by,
        event_count=len(every),
        events=[CausingEvent(id=c.event_id, type=c.event_type) for c in causes],
        types=sorted({c.event_type for c in every}),
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
            cause=_cause(causes[:MAX_CAUSE_EVENTS], manual_by, causes),
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
                    voted=None if e.voted_cents is None else money(e.voted_cents),
                    exceeds_voted=e.exceeds_voted,
                )
                for e in epcis
            ],
            financing=FinancingSummary(
                status=financing["status"],
                expenses=financing["expenses"],
                resources=financing["resources"],
                gap=financing["gap"],
                grants=financing["grants"],
                reste_a_charge=financing["reste_a_charge"],
                investment_rule_holds=financing["investment_rule"]["holds"],
            ),
        ),
    )
    about: dict[str, list[CauseRow]] = {}
    for cause in causes:
        about.setdefault(cause.subject, []).append(cause)
    # Built once: most centres have no cause of their own (their share moved with the others').
    without_own = _cause([], manual_by, causes)
    events: list[Event] = [summary]
    for centre in centres:
        if centre.amount_cents == centre.previous_cents:
            continue
        subject = str(centre.centre_id)
        own = about.get(subject)
        events.append(
            CentreShareChanged.create(
                source=SOURCE,
                subject=subject,
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
                    cause=without_own if own is None else _cause(own, manual_by, causes),
                ),
            )
        )
    return events
