"""What the budget's handlers, its recalculator and its API need of their repository: the SQL one
(:class:`~crnt_budget.repository.Repository`) and the fake of the unit tests both do it."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from crnt_shared.db import AbstractUnitOfWork

from crnt_budget.domain import DotationClass
from crnt_budget.repository import rows


class BudgetRepository(Protocol):
    # Locks: a computation of shares sees every handled change and its cause, never half.

    async def lock_shares_shared(self) -> None:
        """Held by every event handler that changes the members."""

    async def lock_shares_exclusive(self) -> None:
        """Held by every computation of shares."""

    # The read models of the registry and of the validated programme

    async def centres_for_update(self, centre_ids: Iterable[UUID]) -> dict[UUID, rows.CentreRow]:
        """The centres known among ``centre_ids``, their rows locked."""
        ...

    async def save_centres(self, centres: Sequence[tuple[rows.CentreRow, str]]) -> None:
        """Record the centres (each at most once) with their status, and their EPCIs if
        unknown."""

    async def save_epci(
        self, siren: str, name: str, population: int, as_of: datetime
    ) -> tuple[int | None, bool] | None:
        """Record the EPCI's facts; returns its previous population and whether it was
        registered, or ``None`` when a newer event was applied already."""
        ...

    async def sync_memberships(self, changes: Sequence[tuple[UUID, bool, datetime]]) -> None:
        """For each (centre, is a member, at), each centre at most once: open a membership
        period when it joins, close it when it leaves."""

    async def epcis(self, sirens: Iterable[str]) -> dict[str, rows.EpciRow]: ...

    async def save_programme(
        self, programme: rows.ProgrammeRow, actions: Sequence[rows.ActionRow]
    ) -> bool:
        """Record a validated programme and its actions, unless the year has this version or a
        newer one already; returns whether it was applied."""
        ...

    async def programme(self, year: int) -> rows.ProgrammeRow | None: ...

    async def actions(self, year: int) -> list[rows.ActionRow]:
        """The year's actions, by axis, title and id."""
        ...

    async def record_actual(
        self, action_id: UUID, actual_cents: int | None, as_of: datetime
    ) -> int | None:
        """Record an action's actual cost from its progress; returns the year when it changed.
        A negative cost is refused (``RuleViolation``)."""
        ...

    # Budgets, their pending causes and the participations voted

    async def budget(self, year: int, *, for_update: bool = False) -> rows.BudgetRow | None: ...

    async def save_budget(self, year: int, configuration: dict[str, Any]) -> int:
        """Create or revise a year's configuration; returns its revision number."""
        ...

    async def years_from(self, year: int) -> list[int]:
        """The open (not closed) budgets of ``year`` and later."""
        ...

    async def close(self, year: int, by: str) -> None:
        """Close the year; its pending causes go."""

    async def set_waiting(self, year: int, waiting: dict[str, Any] | None) -> None: ...

    async def hold_causes(self, year: int, causes: Sequence[rows.CauseRow]) -> None:
        """Put the causes of a version that waits back, held, for the next version."""

    async def add_causes(self, causes: Sequence[tuple[int, rows.CauseRow]]) -> None:
        """Each (year, cause) pending, in their order, once per year and event."""

    async def dirty_years(self) -> list[int]:
        """The years with causes pending (not held)."""
        ...

    async def take_causes(self, year: int) -> list[rows.CauseRow]:
        """Remove and return the year's causes, in the order they were recorded."""
        ...

    async def save_participation(self, year: int, participation: rows.ParticipationRow) -> None: ...

    async def participations(self, year: int) -> dict[str, rows.ParticipationRow]: ...

    # Versions

    async def year_cut(self, year: int) -> datetime:
        """When a year's members are counted: at its end, or now while it runs."""
        ...

    async def member_classes(self, at: datetime) -> list[rows.MemberClassRow]:
        """The centres that were members at ``at``, counted by workstations and EPCI."""
        ...

    async def nth_member(self, at: datetime, classes: Iterable[int], n: int) -> UUID:
        """The ``n``-th (from 1) member at ``at`` in id order among those of ``classes``."""
        ...

    async def stage_share_changes(self, staging: rows.Staging) -> rows.StagedChanges:
        """Stage the centres whose row in the new version would differ from their row in the
        version before: how many moved, and in id order those ``staging`` reads back."""
        ...

    async def add_version(
        self,
        version: rows.VersionRow,
        facts: Iterable[rows.CentreShareRow],
        dotations: Mapping[int, DotationClass],
        epcis: Iterable[rows.EpciShareRow],
    ) -> None:
        """A new version (the budget's latest): the facts of the centres whose facts changed,
        its dotations by class and its EPCI parts."""

    async def version(self, year: int, version: int) -> rows.VersionRow | None: ...

    async def dotations(self, year: int, version: int) -> dict[int, DotationClass]:
        """A version's dotations by class of workstations (none for version 0)."""
        ...

    async def epci_shares(self, year: int, version: int) -> list[rows.EpciShareRow]:
        """A version's EPCI parts, by SIREN."""
        ...

    # What the API reads besides

    async def versions(self, year: int) -> list[rows.VersionRow]: ...

    async def centre_shares(self, year: int, version: int) -> list[rows.CentreShareRow]:
        """A version's rows: its members, and those that left in it (amount 0), by id."""
        ...


#: The unit of work of the budget's handlers: the real one, or a fake in the unit tests.
BudgetUnitOfWork = AbstractUnitOfWork[BudgetRepository]
