"""The budgets, their pending causes and the participations voted, and the lock that makes a
computation see every handled change."""

import hashlib
from collections.abc import Sequence
from typing import Any

from crnt_shared.db import Connection, fetch_record, fetch_records

from crnt_budget.repository.rows import BudgetRow, CauseRow, ParticipationRow

#: Held shared by every event handler that changes the members, exclusively by every
#: computation of shares: a computation sees every handled change and its cause, never half.
SHARES_LOCK = int.from_bytes(hashlib.sha256(b"crnt.budget.shares").digest()[:8], "big", signed=True)

_BUDGET_COLUMNS = (
    "year, configuration, revision, configured_at, latest_version, closed_at, closed_by, waiting,"
    " dotations_told"
)


class Budgets:
    connection: Connection

    # Locks

    async def lock_shares_shared(self) -> None:
        await self.connection.execute("SELECT pg_advisory_xact_lock_shared($1)", SHARES_LOCK)

    async def lock_shares_exclusive(self) -> None:
        await self.connection.execute("SELECT pg_advisory_xact_lock($1)", SHARES_LOCK)

    # Budgets and their pending causes

    async def budget(self, year: int, *, for_update: bool = False) -> BudgetRow | None:
        return await fetch_record(
            self.connection,
            BudgetRow,
            f"SELECT {_BUDGET_COLUMNS} FROM budgets"
            f" WHERE year = $1{' FOR UPDATE' if for_update else ''}",
            year,
        )

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
            [(year, *cause) for cause in causes],
        )

    async def add_causes(self, causes: Sequence[tuple[int, CauseRow]]) -> None:
        """Each (year, cause) pending, in their order, once: one statement."""
        if not causes:
            return
        await self.connection.execute(
            "INSERT INTO pending_causes (year, event_id, event_type, subject)"
            " SELECT year, event_id, event_type, subject"
            " FROM unnest($1::integer[], $2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY"
            " AS t(year, event_id, event_type, subject, n) ORDER BY n ON CONFLICT DO NOTHING",
            [year for year, _ in causes],
            [cause.event_id for _, cause in causes],
            [cause.event_type for _, cause in causes],
            [cause.subject for _, cause in causes],
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
        found = await fetch_records(
            self.connection,
            ParticipationRow,
            "SELECT siren, amount_cents, deliberation_number, deliberation_date"
            " FROM participations WHERE year = $1",
            year,
        )
        return {record.siren: record for record in found}
