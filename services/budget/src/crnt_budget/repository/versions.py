"""The versions: the members counted at a year's cut, their dotations by class, what changed
from the version before, and what each version keeps."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from crnt_shared.db import Connection, fetch_record, fetch_records

from crnt_budget.domain import DotationClass
from crnt_budget.repository.rows import (
    CentreShareRow,
    EpciShareRow,
    MemberClassRow,
    ShareChange,
    StagedChanges,
    Staging,
    VersionRow,
)

#: The centres that were members at ``$1`` (a year's cut: see :meth:`Repository.year_cut`).
_MEMBERS = (
    "members AS (SELECT c.centre_id, c.name, c.epci_siren, c.epci_name, c.workstations"
    " FROM centres c WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.centre_id = c.centre_id"
    " AND m.since <= $1 AND (m.until IS NULL OR m.until > $1)))"
)

#: Each member at ``$2`` and each centre of version ``$3`` of year ``$1`` (its latest facts),
#: with its amount under the dotations ``$4``-``$6`` (by class) and in version ``$3``; only
#: those whose facts or amount differ are staged (see the migration 0004), or with ``$7`` every
#: member too.
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
INSERT INTO staged_shares
SELECT $1, * FROM compared
 WHERE facts_changed OR amount_cents <> previous_cents OR ($7 AND is_member)
"""

#: Where a recalculation keeps what its version changes, read by the next statements of the same
#: transaction and emptied at its end: a table of the connection's own (no WAL, no other
#: transaction sees it), created once per connection.
_STAGED_SHARES = """
CREATE TEMPORARY TABLE IF NOT EXISTS staged_shares (
    year integer NOT NULL, centre_id uuid NOT NULL, name text NOT NULL,
    epci_siren text NOT NULL, workstations integer NOT NULL, is_member boolean NOT NULL,
    amount_cents bigint NOT NULL, previous_cents bigint NOT NULL, facts_changed boolean NOT NULL
) ON COMMIT DELETE ROWS
"""

_EPCI_SHARE_COLUMNS = (
    "siren, name, population, member_centres, amount_cents, previous_cents, voted_cents,"
    " deliberation_number, deliberation_date, exceeds_voted"
)
_VERSION_COLUMNS = (
    "year, version, computed_at, cause, configuration, financing, envelope_cents,"
    " allocated_cents, epci_contribution_cents, member_count, changed_centres"
)

#: The key of a version's rows, and the columns of a centre's facts in it.
_KEY = ("year", "version")
_SHARE_FACT_COLUMNS = "centre_id, name, epci_siren, workstations, is_member, previous_cents"


def _columns(names: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in names.split(","))


# The rows' fields in the order of their columns (the dataclasses follow the tables).
_version = attrgetter(*_columns(_VERSION_COLUMNS))
_share_fact = attrgetter(*_columns(_SHARE_FACT_COLUMNS))
_epci_share = attrgetter(*_columns(_EPCI_SHARE_COLUMNS))


def _by_class(dotations: Mapping[int, DotationClass]) -> tuple[list[Any], ...]:
    """The dotations as three arrays (workstations, base, extra through) for ``unnest``."""
    return (
        list(dotations),
        [d.base for d in dotations.values()],
        [d.extra_through for d in dotations.values()],
    )


class Versions:
    connection: Connection

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

    async def stage_share_changes(self, staging: Staging) -> StagedChanges:
        """Stage the centres whose row in a version of the members at ``staging.at`` with its
        dotations would differ from their row in version ``staging.latest``; return how many
        of them moved and, in id order, those ``staging`` reads back. The others' rows, those
        that only moved with their class, never cross the wire."""
        year, everyone = staging.year, staging.everyone
        await self.connection.execute(_STAGED_SHARES)
        await self.connection.execute("DELETE FROM staged_shares WHERE year = $1", year)
        await self.connection.execute(
            _SHARE_CHANGES,
            year,
            staging.at,
            staging.latest,
            *_by_class(staging.dotations),
            everyone,
        )
        moved = await self.connection.fetchval(
            "SELECT count(*) FROM staged_shares WHERE year = $1 AND amount_cents <> previous_cents",
            year,
        )
        rows = await self.connection.fetch(
            "SELECT centre_id, name, epci_siren, workstations, is_member, amount_cents,"
            " previous_cents, facts_changed FROM staged_shares WHERE year = $1"
            " AND (facts_changed OR centre_id::text = ANY($2::text[]) OR ($3 AND is_member))"
            " ORDER BY centre_id",
            year,
            list(staging.subjects),
            everyone,
        )
        return StagedChanges(moved, [ShareChange(*row) for row in rows])

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
        key = (version.year, version.version)
        await self.connection.execute(
            f"INSERT INTO versions ({_VERSION_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            *_version(version),
        )
        await self.connection.copy_records_to_table(
            "share_facts",
            records=[(*key, *_share_fact(c)) for c in facts],
            columns=[*_KEY, *_columns(_SHARE_FACT_COLUMNS)],
        )
        await self.connection.execute(
            "INSERT INTO share_classes (year, version, workstations, base_cents, extra_through)"
            " SELECT $1, $2, * FROM unnest($3::int[], $4::bigint[], $5::uuid[])",
            version.year,
            version.version,
            *_by_class(dotations),
        )
        await self.connection.copy_records_to_table(
            "epci_shares",
            records=[(*key, *_epci_share(e)) for e in epcis],
            columns=[*_KEY, *_columns(_EPCI_SHARE_COLUMNS)],
        )
        await self.connection.execute(
            "UPDATE budgets SET latest_version = $2, dotations_told = true WHERE year = $1",
            version.year,
            version.version,
        )

    async def version(self, year: int, version: int) -> VersionRow | None:
        return await fetch_record(
            self.connection,
            VersionRow,
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE year = $1 AND version = $2",
            year,
            version,
        )

    async def versions(self, year: int) -> list[VersionRow]:
        return await fetch_records(
            self.connection,
            VersionRow,
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE year = $1 ORDER BY version",
            year,
        )

    async def centre_shares(self, year: int, version: int) -> list[CentreShareRow]:
        rows = await self.connection.fetch(
            "SELECT centre_id, name, epci_siren, workstations, is_member, amount_cents,"
            " previous_cents FROM centre_shares_of($1, $2) ORDER BY centre_id",
            year,
            version,
        )
        return [CentreShareRow(*row) for row in rows]

    async def dotations(self, year: int, version: int) -> dict[int, DotationClass]:
        """A version's dotations by class of workstations (none for version 0)."""
        rows = await self.connection.fetch(
            "SELECT workstations, base_cents, extra_through FROM share_classes"
            " WHERE year = $1 AND version = $2",
            year,
            version,
        )
        return {
            row["workstations"]: DotationClass(
                row["base_cents"],
                None if row["extra_through"] is None else str(row["extra_through"]),
            )
            for row in rows
        }

    async def epci_shares(self, year: int, version: int) -> list[EpciShareRow]:
        return await fetch_records(
            self.connection,
            EpciShareRow,
            f"SELECT {_EPCI_SHARE_COLUMNS}"
            " FROM epci_shares WHERE year = $1 AND version = $2 ORDER BY siren",
            year,
            version,
        )
