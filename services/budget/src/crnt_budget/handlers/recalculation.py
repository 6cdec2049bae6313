"""The recalculation of a year into a new version: the plan, the dotations and the EPCI parts.

A version whose split lacks an input (:class:`~crnt_budget.domain.MissingInputs`) is not
written: the causes are held and the budget records what it waits for; the next cause (the
missing input arriving, or any change) computes again with all of them. A version that asks an
EPCI more than its council voted publishes :class:`ParticipationExceeded` when that demand is new.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crnt_shared.events import utcnow

from crnt_budget import domain
from crnt_budget.handlers.events import (
    dotations_events,
    envelope,
    newly_exceeded,
    version_events,
)
from crnt_budget.repository import (
    ActionRow,
    BudgetUnitOfWork,
    CauseRow,
    EpciShareRow,
    MemberClassRow,
    ParticipationRow,
    ProgrammeRow,
    Staging,
    VersionRow,
)


@dataclass(frozen=True)
class Outcome:
    """A new version, or ``None`` with what the version waits for."""

    version: int | None
    waiting: list[str]
    #: How many centres' dotations the new version moved (one share event each).
    changed_centres: int = 0


async def recalculate_dirty_year(
    uow: BudgetUnitOfWork, year: int, publish_topic: str
) -> Outcome | None:
    """Recalculate ``year`` for the causes pending; ``None`` when there were none.

    The caller commits. The exclusive lock waits for the handlers in flight, so that every
    change committed is in this computation and its cause is taken with it.
    """
    repository = uow.repository
    await repository.lock_shares_exclusive()
    causes = await repository.take_causes(year)
    if not causes:
        return None
    budget = await repository.budget(year)
    if budget is None or budget.closed_at is not None:
        return Outcome(None, [])  # a closed year never changes: its causes are dropped
    return await recalculate(uow, year, causes, manual_by=None, publish_topic=publish_topic)


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
    uow: BudgetUnitOfWork,
    year: int,
    causes: Sequence[CauseRow],
    *,
    manual_by: str | None,
    publish_topic: str,
) -> Outcome:
    """Compute the year's plan, dotations and EPCI parts; write a new version and its events
    when a manual change asks for it or when something changed. Missing inputs: no version,
    the causes are held and the budget says what it waits for."""
    repository = uow.repository
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
    # What the causes are about (a centre approved, withdrawn, updated) has an event of its own.
    subjects = {cause.subject for cause in causes}
    # Until a version of the year has published its dotations, the next lists every member.
    everyone = not budget.dotations_told
    staged = await repository.stage_share_changes(
        Staging(year, at, budget.latest_version, dotations, subjects, everyone)
    )
    unchanged = (
        previous_version is not None
        and not staged.moved
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
        changed_centres=staged.moved,
    )
    facts = [c for c in staged.rows if c.facts_changed]
    previous_dotations = (
        await repository.dotations(year, budget.latest_version) if previous_version else {}
    )
    await repository.add_version(version, facts, dotations, epci_rows)
    common = envelope()
    about = [c for c in staged.rows if str(c.centre_id) in subjects]
    events = version_events(version, about, epci_rows, causes, manual_by, common)
    changed = staged.rows if everyone else facts
    if staged.moved or changed:
        events.extend(
            dotations_events(
                version, dotations, previous_dotations, changed, causes, manual_by, common
            )
        )
    exceeded = newly_exceeded(version, epci_rows, previous_epcis)
    if exceeded is not None:
        events.append(exceeded)
    await uow.publish_many(events, topic=publish_topic)
    return Outcome(number, [], changed_centres=staged.moved)


def _comparable(rows: Iterable[EpciShareRow]) -> dict[str, tuple[Any, ...]]:
    """What a version says of the EPCIs, leaving out those it asks nothing of and that voted
    nothing (a leaver's zero line is written once)."""
    return {
        row.siren: (row.amount_cents, row.voted_cents, row.exceeds_voted)
        for row in rows
        if row.amount_cents or row.voted_cents is not None
    }


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
