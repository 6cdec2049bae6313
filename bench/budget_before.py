"""The recalculation of a year's shares as it was before issue 15, kept as the bench's baseline.

A copy of the code of that time (``handlers.recalculate`` and the repository's methods it used):
one object per member at every step, and every version storing every centre's share in
``centre_shares``. It runs in a database of its own at the schema of the migrations 0001 to
0003 (:func:`migrations_before`), so that ``make bench`` measures it in the same run as the
code of today.
"""

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from crnt_budget import domain
from crnt_budget.domain import CentreKey, CentreWeight, Member, allocate
from crnt_budget.handlers import SOURCE, Outcome
from crnt_budget.repository import (
    _EPCI_SHARE_COLUMNS,
    _VERSION_COLUMNS,
    ActionRow,
    CauseRow,
    CentreRow,
    CentreShareRow,
    EpciShareRow,
    ParticipationRow,
    ProgrammeRow,
    Repository,
    VersionRow,
)
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
from crnt_shared.db import MigrationSource, UnitOfWork
from crnt_shared.events import Event, utcnow


def migrations_before() -> MigrationSource:
    """The budget's migrations 0001 to 0003 alone: the schema the code below wrote to."""
    folder = Path(tempfile.mkdtemp(prefix="crnt-budget-before-"))
    for entry in files("crnt_budget.migrations").iterdir():
        if entry.name[:4] in {"0001", "0002", "0003"}:
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return MigrationSource("budget", folder)


def centre_shares(envelope: int, key: CentreKey, members: Sequence[Member]) -> dict[str, int]:
    """Each member centre's share of the envelope (see the module's docstring)."""
    count = len(members)
    total_weight = sum(max(0, m.workstations) for m in members)
    if key.weight is CentreWeight.NONE or total_weight == 0:
        return allocate(envelope, ((m.centre_id, 1) for m in members))
    fixed, whole = key.fixed_ratio.numerator, key.fixed_ratio.denominator
    # r/n + (1 − r)·w/W, multiplied by q·n·W (r = p/q): integers with the same proportions.
    weights = (
        (m.centre_id, fixed * total_weight + (whole - fixed) * count * max(0, m.workstations))
        for m in members
    )
    return allocate(envelope, weights)


def member_counts(members: Iterable[Member]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for member in members:
        counts[member.epci_siren] = counts.get(member.epci_siren, 0) + 1
    return counts


class RepositoryBefore(Repository):
    """The repository's methods of that time that are gone or changed since."""

    async def members_before(self, year: int) -> list[CentreRow]:
        """The centres that were members in ``year``: at its end, or now while it runs."""
        rows = await self.connection.fetch(
            "WITH cut AS (SELECT least(clock_timestamp(),"
            " make_timestamptz($1 + 1, 1, 1, 0, 0, 0, 'Europe/Paris')) AS at)"
            " SELECT c.centre_id, c.name, c.epci_siren, c.epci_name, c.workstations,"
            " true AS is_member, c.as_of FROM centres c, cut WHERE EXISTS (SELECT 1"
            " FROM memberships m WHERE m.centre_id = c.centre_id AND m.since <= cut.at"
            " AND (m.until IS NULL OR m.until > cut.at))",
            year,
        )
        return [CentreRow(**dict(row)) for row in rows]

    async def add_version_before(
        self,
        version: VersionRow,
        centres: Iterable[CentreShareRow],
        epcis: Iterable[EpciShareRow],
    ) -> None:
        await self.connection.execute(
            f"INSERT INTO versions ({_VERSION_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            version.year,
            version.version,
            version.computed_at,
            version.cause,
            version.configuration,
            version.financing,
            version.envelope_cents,
            version.allocated_cents,
            version.epci_contribution_cents,
            version.member_count,
            version.changed_centres,
        )
        await self.connection.copy_records_to_table(
            "centre_shares",
            records=[
                (
                    version.year,
                    version.version,
                    c.centre_id,
                    c.name,
                    c.epci_siren,
                    c.workstations,
                    c.is_member,
                    c.amount_cents,
                    c.previous_cents,
                )
                for c in centres
            ],
            columns=[
                "year",
                "version",
                "centre_id",
                "name",
                "epci_siren",
                "workstations",
                "is_member",
                "amount_cents",
                "previous_cents",
            ],
        )
        await self.connection.copy_records_to_table(
            "epci_shares",
            records=[
                (
                    version.year,
                    version.version,
                    e.siren,
                    e.name,
                    e.population,
                    e.member_centres,
                    e.amount_cents,
                    e.previous_cents,
                    e.voted_cents,
                    e.deliberation_number,
                    e.deliberation_date,
                    e.exceeds_voted,
                )
                for e in epcis
            ],
            columns=["year", "version", *_EPCI_SHARE_COLUMNS.replace(" ", "").split(",")],
        )
        await self.connection.execute(
            "UPDATE budgets SET latest_version = $2 WHERE year = $1", version.year, version.version
        )

    async def centre_shares_before(self, year: int, version: int) -> list[CentreShareRow]:
        rows = await self.connection.fetch(
            "SELECT centre_id, name, epci_siren, workstations, is_member, amount_cents,"
            " previous_cents FROM centre_shares WHERE year = $1 AND version = $2"
            " ORDER BY centre_id",
            year,
            version,
        )
        return [CentreShareRow(**dict(row)) for row in rows]


async def recalculate_dirty_year(uow: UnitOfWork, year: int, publish_topic: str) -> bool:
    """Recalculate ``year`` for the causes pending; returns whether there were any.

    The caller commits. The exclusive lock waits for the handlers in flight, so that every
    change committed is in this computation and its cause is taken with it.
    """
    repository = RepositoryBefore(uow.connection)
    await repository.lock_shares_exclusive()
    causes = await repository.take_causes(year)
    if not causes:
        return False
    budget = await repository.budget(year)
    if budget is None or budget.closed_at is not None:
        return True  # a closed year never changes: its causes are dropped
    await recalculate(uow, year, causes, manual_by=None, publish_topic=publish_topic)
    return True


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
    repository = RepositoryBefore(uow.connection)
    budget = await repository.budget(year, for_update=True)
    assert budget is not None
    config = domain.config_from_json(budget.configuration)
    members = await repository.members_before(year)
    programme = await repository.programme(year)
    actions = await repository.actions(year)
    voted = await repository.participations(year)

    domain_members = [
        domain.Member(str(m.centre_id), m.epci_siren, m.workstations) for m in members
    ]
    centre_amounts = centre_shares(config.envelope, config.centre_key, domain_members)
    expenses = domain.expenses_of(config, _expenses(actions), sum(centre_amounts.values()))
    plan = domain.financing_plan(expenses, config.funders, programme_known=programme is not None)
    counts = member_counts(domain_members)
    known = await repository.epcis(counts)
    names = {m.epci_siren: m.epci_name for m in members}
    payers = [
        domain.Payer(
            siren=siren,
            name=known[siren].name if siren in known else names[siren],
            population=known[siren].population if siren in known else None,
            member_centres=count,
        )
        for siren, count in sorted(counts.items())
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
    previous_centres = (
        {
            str(row.centre_id): row
            for row in await repository.centre_shares_before(year, budget.latest_version)
        }
        if previous_version
        else {}
    )
    previous_epcis = (
        {row.siren: row for row in await repository.epci_shares(year, budget.latest_version)}
        if previous_version
        else {}
    )
    financing = {**domain.plan_to_json(plan), "programme": _programme_json(programme)}
    centre_lines = domain.compare(
        centre_amounts, {key: row.amount_cents for key, row in previous_centres.items()}
    )
    epci_lines = domain.compare(
        epci_amounts, {key: row.amount_cents for key, row in previous_epcis.items()}
    )
    by_siren = {p.siren: p for p in payers}
    epci_rows = [_epci_row(line, by_siren, previous_epcis, voted) for line in epci_lines]
    changed = [line for line in centre_lines if line.change]
    unchanged = (
        previous_version is not None
        and not changed
        and _comparable(epci_rows) == _comparable(previous_epcis.values())
        and previous_version.financing == financing
    )
    if manual_by is None and unchanged:
        return Outcome(None, [])

    by_id = {str(m.centre_id): m for m in members}
    centre_rows = [_centre_row(line, by_id, previous_centres) for line in centre_lines]
    number = budget.latest_version + 1
    version = VersionRow(
        year=year,
        version=number,
        computed_at=utcnow(),
        cause=_cause_json(causes, manual_by),
        configuration=budget.configuration,
        financing=financing,
        envelope_cents=config.envelope,
        allocated_cents=sum(centre_amounts.values()),
        epci_contribution_cents=plan.reste_a_charge,
        member_count=len(members),
        changed_centres=len(changed),
    )
    await repository.add_version_before(version, centre_rows, epci_rows)
    events = _events(version, centre_rows, epci_rows, causes, manual_by)
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
                    cause=_cause(own, manual_by, causes),
                ),
            )
        )
    return events


async def configure_before(uow: UnitOfWork, year: int, config: domain.BudgetConfig) -> None:
    """``handlers.configure_budget`` of that time, without its checks: the first version."""
    repository = RepositoryBefore(uow.connection)
    await repository.lock_shares_exclusive()
    await repository.save_budget(year, domain.config_to_json(config))
    causes = await repository.take_causes(year)
    await recalculate(uow, year, causes, manual_by="bench", publish_topic="bench.budget")
    await uow.commit()
