"""SQL over asyncpg: the read models of the registry and of the validated programme, the budgets,
their pending causes and their versions."""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from crnt_shared.db import Connection

from crnt_budget.domain import DotationClass

#: Held shared by every event handler that changes the members, exclusively by every
#: computation of shares: a computation sees every handled change and its cause, never half.
SHARES_LOCK = int.from_bytes(hashlib.sha256(b"crnt.budget.shares").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class CentreRow:
    centre_id: UUID
    name: str
    epci_siren: str
    epci_name: str
    workstations: int
    is_member: bool
    as_of: datetime


@dataclass(frozen=True)
class EpciRow:
    siren: str
    name: str
    population: int | None


@dataclass(frozen=True)
class BudgetRow:
    year: int
    configuration: dict[str, Any]
    revision: int
    configured_at: datetime
    latest_version: int
    closed_at: datetime | None = None
    closed_by: str | None = None
    waiting: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionRow:
    """An action of a year's validated programme, as the plan uses it."""

    action_id: UUID
    axis: str
    nature: str
    title: str
    estimated_cents: int
    actual_cents: int | None


@dataclass(frozen=True)
class ParticipationRow:
    siren: str
    amount_cents: int
    deliberation_number: str
    deliberation_date: date


@dataclass(frozen=True)
class ProgrammeRow:
    """The validated programme version whose planned expenses a year's plan uses."""

    year: int
    version: int
    validated_at: datetime
    decided_on: date
    deciding_body: str
    total_cents: int
    event_id: UUID


@dataclass(frozen=True)
class CauseRow:
    event_id: UUID
    event_type: str
    subject: str


@dataclass(frozen=True)
class VersionRow:
    year: int
    version: int
    computed_at: datetime
    cause: dict[str, Any]
    configuration: dict[str, Any]
    financing: dict[str, Any]
    envelope_cents: int
    allocated_cents: int
    epci_contribution_cents: int
    member_count: int
    changed_centres: int


@dataclass(frozen=True)
class CentreShareRow:
    centre_id: UUID
    name: str
    epci_siren: str
    workstations: int
    is_member: bool
    amount_cents: int
    previous_cents: int


@dataclass(frozen=True)
class ShareChange(CentreShareRow):
    """A centre whose row in a new version differs from the version before: its facts (it
    joined or left, its name, EPCI or workstations changed: ``facts_changed``) or its amount."""

    facts_changed: bool


@dataclass(frozen=True)
class MemberClassRow:
    """How many members of a year have these workstations in this EPCI."""

    workstations: int
    epci_siren: str
    epci_name: str
    members: int


@dataclass(frozen=True)
class EpciShareRow:
    siren: str
    name: str
    population: int | None
    member_centres: int
    amount_cents: int
    previous_cents: int
    voted_cents: int | None = None
    deliberation_number: str | None = None
    deliberation_date: date | None = None
    exceeds_voted: bool = False


#: The centres that were members at ``$1`` (a year's cut: see :meth:`Repository.year_cut`).
_MEMBERS = (
    "members AS (SELECT c.centre_id, c.name, c.epci_siren, c.epci_name, c.workstations"
    " FROM centres c WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.centre_id = c.centre_id"
    " AND m.since <= $1 AND (m.until IS NULL OR m.until > $1)))"
)

#: Each member at ``$2`` and each centre of version ``$3`` of year ``$1`` (its latest facts),
#: with its amount under the dotations ``$4``-``$6`` (by class) and in version ``$3``; only
#: those whose facts or amount differ are returned (see the migration 0004).
_SHARE_CHANGES = f"""
WITH {_MEMBERS.replace("$1", "$2")},
latest AS (
    SELECT DISTINCT ON (centre_id) centre_id, name, epci_siren, workstations, is_member
      FROM share_facts WHERE year = $1
     ORDER BY centre_id DESC, version DESC  -- the primary key read backwards: no sort
),
dotations AS (
    SELECT * FROM unnest($4::int[], $5::bigint[], $6::uuid[])
        AS d (workstations, base_cents, extra_through)
),
rows AS (
    SELECT coalesce(m.centre_id, f.centre_id) AS centre_id,
           coalesce(m.name, f.name) AS name,
           coalesce(m.epci_siren, f.epci_siren) AS epci_siren,
           coalesce(m.workstations, f.workstations) AS workstations,
           m.centre_id IS NOT NULL AS is_member,
           CASE WHEN m.centre_id IS NOT NULL
                THEN d.base_cents + coalesce(m.centre_id <= d.extra_through, false)::int
                ELSE 0 END AS amount_cents,
           CASE WHEN f.is_member
                THEN p.base_cents + coalesce(f.centre_id <= p.extra_through, false)::int
                ELSE 0 END AS previous_cents,
           f.centre_id IS NULL AS is_new, f.name AS was_name, f.epci_siren AS was_epci_siren,
           f.workstations AS was_workstations, f.is_member AS was_member
      FROM members m
      FULL JOIN latest f ON f.centre_id = m.centre_id
      LEFT JOIN dotations d ON d.workstations = m.workstations
      LEFT JOIN share_classes p
        ON p.year = $1 AND p.version = $3 AND p.workstations = f.workstations
), compared AS (
    SELECT centre_id, name, epci_siren, workstations, is_member, amount_cents, previous_cents,
           is_new OR (was_name, was_epci_siren, was_workstations, was_member)
               IS DISTINCT FROM (name, epci_siren, workstations, is_member) AS facts_changed
      FROM rows
)
SELECT * FROM compared WHERE facts_changed OR amount_cents <> previous_cents ORDER BY centre_id
"""

_BUDGET_COLUMNS = (
    "year, configuration, revision, configured_at, latest_version, closed_at, closed_by, waiting"
)
_EPCI_SHARE_COLUMNS = (
    "siren, name, population, member_centres, amount_cents, previous_cents, voted_cents,"
    " deliberation_number, deliberation_date, exceeds_voted"
)
_VERSION_COLUMNS = (
    "year, version, computed_at, cause, configuration, financing, envelope_cents,"
    " allocated_cents, epci_contribution_cents, member_count, changed_centres"
)


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # Locks

    async def lock_shares_shared(self) -> None:
        await self.connection.execute("SELECT pg_advisory_xact_lock_shared($1)", SHARES_LOCK)

    async def lock_shares_exclusive(self) -> None:
        await self.connection.execute("SELECT pg_advisory_xact_lock($1)", SHARES_LOCK)

    # The registry's read models

    async def centre(self, centre_id: UUID) -> CentreRow | None:
        row = await self.connection.fetchrow(
            "SELECT centre_id, name, epci_siren, epci_name, workstations, is_member, as_of"
            " FROM centres WHERE centre_id = $1 FOR UPDATE",
            centre_id,
        )
        return None if row is None else CentreRow(**dict(row))

    async def save_centre(self, centre: CentreRow, status: str) -> None:
        await self.connection.execute(
            "INSERT INTO centres (centre_id, name, epci_siren, epci_name, workstations, status,"
            " is_member, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (centre_id) DO UPDATE SET name = excluded.name,"
            " epci_siren = excluded.epci_siren, epci_name = excluded.epci_name,"
            " workstations = excluded.workstations, status = excluded.status,"
            " is_member = excluded.is_member, as_of = excluded.as_of",
            centre.centre_id,
            centre.name,
            centre.epci_siren,
            centre.epci_name,
            centre.workstations,
            status,
            centre.is_member,
            centre.as_of,
        )
        await self.connection.execute(
            "INSERT INTO epcis (siren, name, registered, as_of) VALUES ($1, $2, false, $3)"
            " ON CONFLICT (siren) DO NOTHING",
            centre.epci_siren,
            centre.epci_name,
            centre.as_of,
        )

    async def save_epci(
        self, siren: str, name: str, population: int, as_of: datetime
    ) -> tuple[int | None, bool] | None:
        """Record the EPCI's facts; returns its previous population and whether it was
        registered, or ``None`` when a newer event was applied already."""
        previous = await self.connection.fetchrow(
            "SELECT population, registered, as_of FROM epcis WHERE siren = $1 FOR UPDATE", siren
        )
        if previous is not None and previous["registered"] and previous["as_of"] > as_of:
            return None
        await self.connection.execute(
            "INSERT INTO epcis (siren, name, population, registered, as_of)"
            " VALUES ($1, $2, $3, true, $4) ON CONFLICT (siren) DO UPDATE SET"
            " name = excluded.name, population = excluded.population, registered = true,"
            " as_of = excluded.as_of",
            siren,
            name,
            population,
            as_of,
        )
        if previous is None:
            return (None, False)
        return (previous["population"], previous["registered"])

    async def sync_membership(self, centre_id: UUID, is_member: bool, at: datetime) -> None:
        """Open a membership period when the centre joins, close it when it leaves."""
        if is_member:
            await self.connection.execute(
                "INSERT INTO memberships (centre_id, since) SELECT $1, $2 WHERE NOT EXISTS"
                " (SELECT 1 FROM memberships WHERE centre_id = $1 AND until IS NULL)"
                " ON CONFLICT DO NOTHING",
                centre_id,
                at,
            )
        else:
            await self.connection.execute(
                "UPDATE memberships SET until = greatest(since, $2)"
                " WHERE centre_id = $1 AND until IS NULL",
                centre_id,
                at,
            )

    async def year_cut(self, year: int) -> datetime:
        """When a year's members are counted: at its end, or now while it runs."""
        at: datetime = await self.connection.fetchval(
            "SELECT least(clock_timestamp(), make_timestamptz($1 + 1, 1, 1, 0, 0, 0,"
            " 'Europe/Paris'))",
            year,
        )
        return at

    async def member_classes(self, at: datetime) -> list[MemberClassRow]:
        """The centres that were members at ``at``, counted by workstations and EPCI."""
        rows = await self.connection.fetch(
            f"WITH {_MEMBERS} SELECT workstations, epci_siren, max(epci_name) AS epci_name,"
            " count(*)::int AS members FROM members GROUP BY workstations, epci_siren",
            at,
        )
        return [MemberClassRow(*row) for row in rows]

    async def nth_member(self, at: datetime, classes: Iterable[int], n: int) -> UUID:
        """The ``n``-th (from 1) member at ``at`` in id order among those of ``classes``."""
        centre_id: UUID = await self.connection.fetchval(
            f"WITH {_MEMBERS} SELECT centre_id FROM members"
            " WHERE workstations = ANY($2::int[]) ORDER BY centre_id OFFSET $3 - 1 LIMIT 1",
            at,
            list(classes),
            n,
        )
        return centre_id

    async def share_changes(
        self, year: int, at: datetime, latest: int, dotations: Mapping[int, DotationClass]
    ) -> list[ShareChange]:
        """The centres whose row in a version of the members at ``at`` with these dotations
        would differ from their row in version ``latest``, in id order; the others' rows stay
        as they are and never cross the wire."""
        rows = await self.connection.fetch(
            _SHARE_CHANGES,
            year,
            at,
            latest,
            list(dotations),
            [d.base for d in dotations.values()],
            [d.extra_through for d in dotations.values()],
        )
        return [ShareChange(*row) for row in rows]

    async def epcis(self, sirens: Iterable[str]) -> dict[str, EpciRow]:
        rows = await self.connection.fetch(
            "SELECT siren, name, population FROM epcis WHERE siren = ANY($1::text[])",
            list(sirens),
        )
        return {row["siren"]: EpciRow(**dict(row)) for row in rows}

    # Budgets and their pending causes

    async def budget(self, year: int, *, for_update: bool = False) -> BudgetRow | None:
        row = await self.connection.fetchrow(
            f"SELECT {_BUDGET_COLUMNS} FROM budgets"
            f" WHERE year = $1{' FOR UPDATE' if for_update else ''}",
            year,
        )
        return None if row is None else BudgetRow(**dict(row))

    async def save_budget(self, year: int, configuration: dict[str, Any]) -> int:
        """Create or revise a year's configuration; returns its revision number."""
        revision: int = await self.connection.fetchval(
            "INSERT INTO budgets (year, configuration, revision, configured_at)"
            " VALUES ($1, $2, 1, clock_timestamp()) ON CONFLICT (year) DO UPDATE SET"
            " configuration = excluded.configuration, revision = budgets.revision + 1,"
            " configured_at = excluded.configured_at RETURNING revision",
            year,
            configuration,
        )
        return revision

    async def years_from(self, year: int) -> list[int]:
        """The open (not closed) budgets of ``year`` and later."""
        rows = await self.connection.fetch(
            "SELECT year FROM budgets WHERE year >= $1 AND closed_at IS NULL ORDER BY year", year
        )
        return [row["year"] for row in rows]

    async def close(self, year: int, by: str) -> None:
        await self.connection.execute(
            "UPDATE budgets SET closed_at = clock_timestamp(), closed_by = $2 WHERE year = $1",
            year,
            by,
        )
        await self.connection.execute("DELETE FROM pending_causes WHERE year = $1", year)

    async def set_waiting(self, year: int, waiting: dict[str, Any] | None) -> None:
        await self.connection.execute(
            "UPDATE budgets SET waiting = $2 WHERE year = $1", year, waiting
        )

    async def hold_causes(self, year: int, causes: Sequence[CauseRow]) -> None:
        """Put the causes of a version that waits back, held: they go with the next version,
        which the next cause (the missing input given, or any other change) starts."""
        await self.connection.executemany(
            "INSERT INTO pending_causes (year, event_id, event_type, subject, held)"
            " VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING",
            [(year, c.event_id, c.event_type, c.subject) for c in causes],
        )

    async def add_cause(
        self, years: Sequence[int], event_id: UUID, event_type: str, subject: str
    ) -> None:
        await self.connection.executemany(
            "INSERT INTO pending_causes (year, event_id, event_type, subject)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [(year, event_id, event_type, subject) for year in years],
        )

    async def dirty_years(self) -> list[int]:
        rows = await self.connection.fetch(
            "SELECT DISTINCT year FROM pending_causes WHERE NOT held ORDER BY year"
        )
        return [row["year"] for row in rows]

    async def take_causes(self, year: int) -> list[CauseRow]:
        rows = await self.connection.fetch(
            "DELETE FROM pending_causes WHERE year = $1"
            " RETURNING event_id, event_type, subject, recorded_at",
            year,
        )
        ordered = sorted(rows, key=lambda row: (row["recorded_at"], row["event_id"]))
        return [CauseRow(row["event_id"], row["event_type"], row["subject"]) for row in ordered]

    # The validated programme

    async def save_programme(self, programme: ProgrammeRow, actions: Sequence[ActionRow]) -> bool:
        """Record a validated programme and its actions, unless the year has this version or a
        newer one already; returns whether it was applied. Actual costs already known are kept
        by the caller in ``actions``."""
        applied = await self.connection.fetchval(
            "INSERT INTO programmes (year, version, validated_at, decided_on, deciding_body,"
            " total_cents, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (year) DO UPDATE SET version = excluded.version,"
            " validated_at = excluded.validated_at, decided_on = excluded.decided_on,"
            " deciding_body = excluded.deciding_body, total_cents = excluded.total_cents,"
            " event_id = excluded.event_id, applied_at = clock_timestamp()"
            " WHERE programmes.version < excluded.version RETURNING true",
            programme.year,
            programme.version,
            programme.validated_at,
            programme.decided_on,
            programme.deciding_body,
            programme.total_cents,
            programme.event_id,
        )
        if not applied:
            return False
        await self.connection.execute(
            "DELETE FROM programme_actions WHERE year = $1", programme.year
        )
        await self.connection.executemany(
            "INSERT INTO programme_actions (year, action_id, axis, nature, title,"
            " estimated_cents, actual_cents) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (
                    programme.year,
                    a.action_id,
                    a.axis,
                    a.nature,
                    a.title,
                    a.estimated_cents,
                    a.actual_cents,
                )
                for a in actions
            ],
        )
        return True

    async def programme(self, year: int) -> ProgrammeRow | None:
        row = await self.connection.fetchrow(
            "SELECT year, version, validated_at, decided_on, deciding_body, total_cents, event_id"
            " FROM programmes WHERE year = $1",
            year,
        )
        return None if row is None else ProgrammeRow(**dict(row))

    async def actions(self, year: int) -> list[ActionRow]:
        rows = await self.connection.fetch(
            "SELECT action_id, axis, nature, title, estimated_cents, actual_cents"
            " FROM programme_actions WHERE year = $1 ORDER BY axis, title, action_id",
            year,
        )
        return [ActionRow(**dict(row)) for row in rows]

    async def record_actual(
        self, action_id: UUID, actual_cents: int | None, as_of: datetime
    ) -> int | None:
        """Record an action's actual cost from its progress; returns the year when it
        changed."""
        year: int | None = await self.connection.fetchval(
            "UPDATE programme_actions SET actual_cents = $2, actual_as_of = $3"
            " WHERE action_id = $1 AND actual_cents IS DISTINCT FROM $2"
            " AND (actual_as_of IS NULL OR actual_as_of <= $3) RETURNING year",
            action_id,
            actual_cents,
            as_of,
        )
        return year

    # Participations voted

    async def save_participation(self, year: int, participation: ParticipationRow) -> None:
        await self.connection.execute(
            "INSERT INTO participations (year, siren, amount_cents, deliberation_number,"
            " deliberation_date) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year, siren) DO UPDATE"
            " SET amount_cents = excluded.amount_cents,"
            " deliberation_number = excluded.deliberation_number,"
            " deliberation_date = excluded.deliberation_date, recorded_at = clock_timestamp()",
            year,
            participation.siren,
            participation.amount_cents,
            participation.deliberation_number,
            participation.deliberation_date,
        )

    async def participations(self, year: int) -> dict[str, ParticipationRow]:
        rows = await self.connection.fetch(
            "SELECT siren, amount_cents, deliberation_number, deliberation_date"
            " FROM participations WHERE year = $1",
            year,
        )
        return {row["siren"]: ParticipationRow(**dict(row)) for row in rows}

    # Versions

    async def add_version(
        self,
        version: VersionRow,
        facts: Iterable[CentreShareRow],
        dotations: Mapping[int, DotationClass],
        epcis: Iterable[EpciShareRow],
    ) -> None:
        """A new version: its facts of the centres whose facts changed, its dotations by class
        and its EPCI parts."""
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
            "share_facts",
            records=[
                (
                    version.year,
                    version.version,
                    c.centre_id,
                    c.name,
                    c.epci_siren,
                    c.workstations,
                    c.is_member,
                    c.previous_cents,
                )
                for c in facts
            ],
            columns=[
                "year",
                "version",
                "centre_id",
                "name",
                "epci_siren",
                "workstations",
                "is_member",
                "previous_cents",
            ],
        )
        await self.connection.execute(
            "INSERT INTO share_classes (year, version, workstations, base_cents, extra_through)"
            " SELECT $1, $2, * FROM unnest($3::int[], $4::bigint[], $5::uuid[])",
            version.year,
            version.version,
            list(dotations),
            [d.base for d in dotations.values()],
            [d.extra_through for d in dotations.values()],
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

    async def version(self, year: int, version: int) -> VersionRow | None:
        row = await self.connection.fetchrow(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE year = $1 AND version = $2",
            year,
            version,
        )
        return None if row is None else VersionRow(**dict(row))

    async def versions(self, year: int) -> list[VersionRow]:
        rows = await self.connection.fetch(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE year = $1 ORDER BY version", year
        )
        return [VersionRow(**dict(row)) for row in rows]

    async def centre_shares(self, year: int, version: int) -> list[CentreShareRow]:
        rows = await self.connection.fetch(
            "SELECT centre_id, name, epci_siren, workstations, is_member, amount_cents,"
            " previous_cents FROM centre_shares_of($1, $2) ORDER BY centre_id",
            year,
            version,
        )
        return [CentreShareRow(*row) for row in rows]

    async def epci_shares(self, year: int, version: int) -> list[EpciShareRow]:
        rows = await self.connection.fetch(
            f"SELECT {_EPCI_SHARE_COLUMNS}"
            " FROM epci_shares WHERE year = $1 AND version = $2 ORDER BY siren",
            year,
            version,
        )
        return [EpciShareRow(**dict(row)) for row in rows]
