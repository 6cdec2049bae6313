"""The budget's repository in memory, for unit tests of its handlers without PostgreSQL: what
:class:`~crnt_budget.repository.BudgetRepository` says, with the constraints of the migrations
that the handlers rely on (a cause once per year and event, no negative actual cost), and the
computations the SQL makes (the members at a year's cut, what a version changes)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from crnt_budget.domain import DotationClass
from crnt_budget.repository import rows
from crnt_shared.errors import RuleViolation
from crnt_shared.fakes import FakeUnitOfWork

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class StoredEpci:
    name: str
    population: int | None
    registered: bool
    as_of: datetime


@dataclass
class Membership:
    centre_id: UUID
    since: datetime
    until: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or self.until > at)


@dataclass
class PendingCause:
    year: int
    cause: rows.CauseRow
    held: bool = False


@dataclass
class FakeBudgetRepository:
    centres: dict[UUID, rows.CentreRow] = field(default_factory=dict)
    statuses: dict[UUID, str] = field(default_factory=dict)
    epci_facts: dict[str, StoredEpci] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    programmes: dict[int, rows.ProgrammeRow] = field(default_factory=dict)
    programme_actions: dict[int, list[rows.ActionRow]] = field(default_factory=dict)
    actuals_as_of: dict[UUID, datetime] = field(default_factory=dict)
    budgets: dict[int, rows.BudgetRow] = field(default_factory=dict)
    causes: list[PendingCause] = field(default_factory=list)
    votes: dict[int, dict[str, rows.ParticipationRow]] = field(default_factory=dict)
    stored_versions: dict[tuple[int, int], rows.VersionRow] = field(default_factory=dict)
    share_facts: dict[tuple[int, int], list[rows.CentreShareRow]] = field(default_factory=dict)
    share_classes: dict[tuple[int, int], dict[int, DotationClass]] = field(default_factory=dict)
    epci_rows: dict[tuple[int, int], list[rows.EpciShareRow]] = field(default_factory=dict)

    async def lock_shares_shared(self) -> None:
        pass

    async def lock_shares_exclusive(self) -> None:
        pass

    # The read models

    async def centres_for_update(self, centre_ids: Iterable[UUID]) -> dict[UUID, rows.CentreRow]:
        return {i: self.centres[i] for i in centre_ids if i in self.centres}

    async def save_centres(self, centres: Sequence[tuple[rows.CentreRow, str]]) -> None:
        assert len({c.centre_id for c, _ in centres}) == len(centres), "each centre once"
        for centre, status in centres:
            self.centres[centre.centre_id] = centre
            self.statuses[centre.centre_id] = status
            self.epci_facts.setdefault(
                centre.epci_siren, StoredEpci(centre.epci_name, None, False, centre.as_of)
            )

    async def save_epci(
        self, siren: str, name: str, population: int, as_of: datetime
    ) -> tuple[int | None, bool] | None:
        previous = self.epci_facts.get(siren)
        if previous is not None and previous.registered and previous.as_of > as_of:
            return None
        self.epci_facts[siren] = StoredEpci(name, population, True, as_of)
        return (None, False) if previous is None else (previous.population, previous.registered)

    async def sync_memberships(self, changes: Sequence[tuple[UUID, bool, datetime]]) -> None:
        assert len({c for c, _, _ in changes}) == len(changes), "each centre once"
        for centre_id, is_member, at in changes:
            open_ = [m for m in self.memberships if m.centre_id == centre_id and m.until is None]
            if is_member and not open_:
                self.memberships.append(Membership(centre_id, at))
            if not is_member:
                for membership in open_:
                    membership.until = max(membership.since, at)

    async def epcis(self, sirens: Iterable[str]) -> dict[str, rows.EpciRow]:
        return {
            siren: rows.EpciRow(siren, facts.name, facts.population)
            for siren in sirens
            if (facts := self.epci_facts.get(siren)) is not None
        }

    async def save_programme(
        self, programme: rows.ProgrammeRow, actions: Sequence[rows.ActionRow]
    ) -> bool:
        known = self.programmes.get(programme.year)
        if known is not None and known.version >= programme.version:
            return False
        self.programmes[programme.year] = programme
        self.programme_actions[programme.year] = list(actions)
        return True

    async def programme(self, year: int) -> rows.ProgrammeRow | None:
        return self.programmes.get(year)

    async def actions(self, year: int) -> list[rows.ActionRow]:
        rows = self.programme_actions.get(year, [])
        return sorted(rows, key=lambda a: (a.axis, a.title, a.action_id))

    async def record_actual(
        self, action_id: UUID, actual_cents: int | None, as_of: datetime
    ) -> int | None:
        for year, actions in self.programme_actions.items():
            for index, action in enumerate(actions):
                if action.action_id != action_id or action.actual_cents == actual_cents:
                    continue
                if action_id in self.actuals_as_of and self.actuals_as_of[action_id] > as_of:
                    continue
                if actual_cents is not None and actual_cents < 0:
                    raise RuleViolation(f"the actual cost of the action {action_id} is negative")
                actions[index] = replace(action, actual_cents=actual_cents)
                self.actuals_as_of[action_id] = as_of
                return year
        return None

    # Budgets, causes, participations

    async def budget(self, year: int, *, for_update: bool = False) -> rows.BudgetRow | None:
        return self.budgets.get(year)

    async def save_budget(self, year: int, configuration: dict[str, Any]) -> int:
        known = self.budgets.get(year)
        if known is None:
            self.budgets[year] = rows.BudgetRow(year, configuration, 1, _now(), 0)
        else:
            self.budgets[year] = replace(
                known, configuration=configuration, revision=known.revision + 1
            )
        return self.budgets[year].revision

    async def years_from(self, year: int) -> list[int]:
        return sorted(y for y, b in self.budgets.items() if y >= year and b.closed_at is None)

    async def close(self, year: int, by: str) -> None:
        self.budgets[year] = replace(self.budgets[year], closed_at=_now(), closed_by=by)
        self.causes = [c for c in self.causes if c.year != year]

    async def set_waiting(self, year: int, waiting: dict[str, Any] | None) -> None:
        self.budgets[year] = replace(self.budgets[year], waiting=waiting)

    async def hold_causes(self, year: int, causes: Sequence[rows.CauseRow]) -> None:
        for cause in causes:
            self._add(PendingCause(year, cause, held=True))

    async def add_causes(self, causes: Sequence[tuple[int, rows.CauseRow]]) -> None:
        for year, cause in causes:
            self._add(PendingCause(year, cause))

    def _add(self, pending: PendingCause) -> None:
        key = (pending.year, pending.cause.event_id)
        if all((c.year, c.cause.event_id) != key for c in self.causes):
            self.causes.append(pending)

    async def dirty_years(self) -> list[int]:
        return sorted({c.year for c in self.causes if not c.held})

    async def take_causes(self, year: int) -> list[rows.CauseRow]:
        taken = [c.cause for c in self.causes if c.year == year]
        self.causes = [c for c in self.causes if c.year != year]
        return taken

    async def save_participation(self, year: int, participation: rows.ParticipationRow) -> None:
        self.votes.setdefault(year, {})[participation.siren] = participation

    async def participations(self, year: int) -> dict[str, rows.ParticipationRow]:
        return dict(self.votes.get(year, {}))

    # Versions

    async def year_cut(self, year: int) -> datetime:
        return min(_now(), datetime(year + 1, 1, 1, tzinfo=PARIS))

    def _members(self, at: datetime) -> list[rows.CentreRow]:
        ids = {m.centre_id for m in self.memberships if m.covers(at)}
        return sorted((self.centres[i] for i in ids), key=lambda c: c.centre_id)

    async def member_classes(self, at: datetime) -> list[rows.MemberClassRow]:
        counted: dict[tuple[int, str], rows.MemberClassRow] = {}
        for centre in self._members(at):
            key = (centre.workstations, centre.epci_siren)
            before = counted.get(key)
            members = 1 if before is None else before.members + 1
            counted[key] = rows.MemberClassRow(*key, centre.epci_name, members)
        return list(counted.values())

    async def nth_member(self, at: datetime, classes: Iterable[int], n: int) -> UUID:
        wanted = set(classes)
        return [c.centre_id for c in self._members(at) if c.workstations in wanted][n - 1]

    def _latest_facts(
        self, year: int, through: int | None = None
    ) -> dict[UUID, tuple[int, rows.CentreShareRow]]:
        """Each centre's latest facts in the year's versions (through ``through``), with the
        number of the version that wrote them."""
        latest: dict[UUID, tuple[int, rows.CentreShareRow]] = {}
        for (y, number), facts in sorted(self.share_facts.items()):
            if y == year and (through is None or number <= through):
                latest.update({row.centre_id: (number, row) for row in facts})
        return latest

    async def stage_share_changes(self, staging: rows.Staging) -> rows.StagedChanges:
        year, subjects, everyone = staging.year, staging.subjects, staging.everyone
        changes = self._share_changes(year, staging.at, staging.latest, staging.dotations, everyone)
        return rows.StagedChanges(
            sum(c.amount_cents != c.previous_cents for c in changes),
            [
                c
                for c in changes
                if c.facts_changed or str(c.centre_id) in subjects or (everyone and c.is_member)
            ],
        )

    def _share_changes(
        self,
        year: int,
        at: datetime,
        latest: int,
        dotations: Mapping[int, DotationClass],
        everyone: bool,
    ) -> list[rows.ShareChange]:
        members = {c.centre_id: c for c in self._members(at)}
        facts = {key: row for key, (_, row) in self._latest_facts(year).items()}
        before = self.share_classes.get((year, latest), {})
        changes = []
        for centre_id in sorted(members.keys() | facts.keys()):
            member, fact = members.get(centre_id), facts.get(centre_id)
            now = member or fact
            assert now is not None
            amount = dotations[member.workstations].amount(str(centre_id)) if member else 0
            previous = 0
            if fact is not None and fact.is_member and fact.workstations in before:
                previous = before[fact.workstations].amount(str(centre_id))
            row = (now.name, now.epci_siren, now.workstations, member is not None)
            was = None if fact is None else (*_facts(fact), fact.is_member)
            if was != row or amount != previous or (everyone and member is not None):
                changes.append(
                    rows.ShareChange(centre_id, *row, amount, previous, facts_changed=was != row)
                )
        return changes

    async def add_version(
        self,
        version: rows.VersionRow,
        facts: Iterable[rows.CentreShareRow],
        dotations: Mapping[int, DotationClass],
        epcis: Iterable[rows.EpciShareRow],
    ) -> None:
        key = (version.year, version.version)
        self.stored_versions[key] = version
        self.share_facts[key] = [
            rows.CentreShareRow(
                f.centre_id, f.name, f.epci_siren, f.workstations, f.is_member, 0, f.previous_cents
            )
            for f in facts
        ]
        self.share_classes[key] = dict(dotations)
        self.epci_rows[key] = sorted(epcis, key=lambda e: e.siren)
        budget = self.budgets[version.year]
        self.budgets[version.year] = replace(
            budget, latest_version=version.version, dotations_told=True
        )

    async def version(self, year: int, version: int) -> rows.VersionRow | None:
        return self.stored_versions.get((year, version))

    async def dotations(self, year: int, version: int) -> dict[int, DotationClass]:
        return dict(self.share_classes.get((year, version), {}))

    async def epci_shares(self, year: int, version: int) -> list[rows.EpciShareRow]:
        return list(self.epci_rows.get((year, version), []))

    async def versions(self, year: int) -> list[rows.VersionRow]:
        return [v for (y, _), v in sorted(self.stored_versions.items()) if y == year]

    async def centre_shares(self, year: int, version: int) -> list[rows.CentreShareRow]:
        """As ``centre_shares_of`` gives them: the members at the version, and those that left
        in it with a share before."""
        classes = self.share_classes[(year, version)]
        before = self.share_classes.get((year, version - 1), {})
        shares = []
        for centre_id, (number, fact) in sorted(self._latest_facts(year, version).items()):
            if not (fact.is_member or (number == version and fact.previous_cents != 0)):
                continue
            key = str(centre_id)
            amount = classes[fact.workstations].amount(key) if fact.is_member else 0
            previous = (
                fact.previous_cents if number == version else before[fact.workstations].amount(key)
            )
            shares.append(replace(fact, amount_cents=amount, previous_cents=previous))
        return shares


def _now() -> datetime:
    """``clock_timestamp()``."""
    return datetime.now(UTC)


def _facts(row: rows.CentreShareRow) -> tuple[str, str, int]:
    return (row.name, row.epci_siren, row.workstations)


BudgetWork = FakeUnitOfWork[FakeBudgetRepository]


def unit_of_work(repository: FakeBudgetRepository | None = None) -> BudgetWork:
    """A fake unit of work over ``repository`` (a new, empty one by default)."""
    return FakeUnitOfWork(repository or FakeBudgetRepository())
