"""The read models built from the other services' events: the registry's centres, memberships
and EPCIs, and the validated programme's actions."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from uuid import UUID

import asyncpg
from crnt_shared.db import Connection, fetch_record, fetch_records
from crnt_shared.errors import RuleViolation

from crnt_budget.domain import format_cents
from crnt_budget.repository.rows import ActionRow, CentreRow, EpciRow, ProgrammeRow

#: The columns a row of the read models holds, in its fields' order.
_CENTRE_COLUMNS = "centre_id, name, epci_siren, epci_name, workstations, is_member, as_of"
_PROGRAMME_COLUMNS = "year, version, validated_at, decided_on, deciding_body, total_cents, event_id"
_centre = attrgetter(*_CENTRE_COLUMNS.split(", "))
_programme = attrgetter(*_PROGRAMME_COLUMNS.split(", "))


class ReadModels:
    connection: Connection

    async def centres_for_update(self, centre_ids: Iterable[UUID]) -> dict[UUID, CentreRow]:
        """The centres known among ``centre_ids``, their rows locked (in id order, as every
        transaction that locks several locks them)."""
        found = await fetch_records(
            self.connection,
            CentreRow,
            f"SELECT {_CENTRE_COLUMNS} FROM centres WHERE centre_id = ANY($1::uuid[])"
            " ORDER BY centre_id FOR UPDATE",
            list(centre_ids),
        )
        return {centre.centre_id: centre for centre in found}

    async def save_centres(self, centres: Sequence[tuple[CentreRow, str]]) -> None:
        """Record the centres (each at most once) with their status, and their EPCIs if
        unknown: two statements, however many centres."""
        if not centres:
            return
        columns = [list(column) for column in zip(*(_centre(c) for c, _ in centres), strict=True)]
        await self.connection.execute(
            f"INSERT INTO centres ({_CENTRE_COLUMNS}, status)"
            " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],"
            " $5::integer[], $6::boolean[], $7::timestamptz[], $8::text[])"
            " ON CONFLICT (centre_id) DO UPDATE SET name = excluded.name,"
            " epci_siren = excluded.epci_siren, epci_name = excluded.epci_name,"
            " workstations = excluded.workstations, status = excluded.status,"
            " is_member = excluded.is_member, as_of = excluded.as_of",
            *columns,
            [status for _, status in centres],
        )
        epcis = {c.epci_siren: c for c, _ in centres}
        await self.connection.execute(
            "INSERT INTO epcis (siren, name, registered, as_of)"
            " SELECT siren, name, false, as_of"
            " FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS t(siren, name, as_of)"
            " ON CONFLICT (siren) DO NOTHING",
            list(epcis),
            [c.epci_name for c in epcis.values()],
            [c.as_of for c in epcis.values()],
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

    async def sync_memberships(self, changes: Sequence[tuple[UUID, bool, datetime]]) -> None:
        """For each (centre, is a member, at), each centre at most once: open a membership
        period when it joins, close the open one when it leaves."""
        joins = [(centre, at) for centre, is_member, at in changes if is_member]
        leaves = [(centre, at) for centre, is_member, at in changes if not is_member]
        if joins:
            await self.connection.execute(
                "INSERT INTO memberships (centre_id, since)"
                " SELECT t.centre_id, t.since"
                " FROM unnest($1::uuid[], $2::timestamptz[]) AS t(centre_id, since)"
                " WHERE NOT EXISTS (SELECT 1 FROM memberships m"
                " WHERE m.centre_id = t.centre_id AND m.until IS NULL)"
                " ON CONFLICT DO NOTHING",
                *map(list, zip(*joins, strict=True)),
            )
        if leaves:
            await self.connection.execute(
                "UPDATE memberships m SET until = greatest(m.since, t.until)"
                " FROM unnest($1::uuid[], $2::timestamptz[]) AS t(centre_id, until)"
                " WHERE m.centre_id = t.centre_id AND m.until IS NULL",
                *map(list, zip(*leaves, strict=True)),
            )

    async def epcis(self, sirens: Iterable[str]) -> dict[str, EpciRow]:
        found = await fetch_records(
            self.connection,
            EpciRow,
            "SELECT siren, name, population FROM epcis WHERE siren = ANY($1::text[])",
            list(sirens),
        )
        return {record.siren: record for record in found}

    # The validated programme

    async def save_programme(self, programme: ProgrammeRow, actions: Sequence[ActionRow]) -> bool:
        """Record a validated programme and its actions, unless the year has this version or a
        newer one already; returns whether it was applied. Actual costs already known are kept
        by the caller in ``actions``."""
        applied = await self.connection.fetchval(
            f"INSERT INTO programmes ({_PROGRAMME_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (year) DO UPDATE SET version = excluded.version,"
            " validated_at = excluded.validated_at, decided_on = excluded.decided_on,"
            " deciding_body = excluded.deciding_body, total_cents = excluded.total_cents,"
            " event_id = excluded.event_id, applied_at = clock_timestamp()"
            " WHERE programmes.version < excluded.version RETURNING true",
            *_programme(programme),
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
        return await fetch_record(
            self.connection,
            ProgrammeRow,
            f"SELECT {_PROGRAMME_COLUMNS} FROM programmes WHERE year = $1",
            year,
        )

    async def actions(self, year: int) -> list[ActionRow]:
        return await fetch_records(
            self.connection,
            ActionRow,
            "SELECT action_id, axis, nature, title, estimated_cents, actual_cents"
            " FROM programme_actions WHERE year = $1 ORDER BY axis, title, action_id",
            year,
        )

    async def record_actual(
        self, action_id: UUID, actual_cents: int | None, as_of: datetime
    ) -> int | None:
        """Record an action's actual cost from its progress; returns the year when it
        changed. A negative cost is refused (:class:`RuleViolation`): the plan cannot use it."""
        try:
            year: int | None = await self.connection.fetchval(
                "UPDATE programme_actions SET actual_cents = $2, actual_as_of = $3"
                " WHERE action_id = $1 AND actual_cents IS DISTINCT FROM $2"
                " AND (actual_as_of IS NULL OR actual_as_of <= $3) RETURNING year",
                action_id,
                actual_cents,
                as_of,
            )
        except asyncpg.CheckViolationError as error:
            raise RuleViolation(
                f"the actual cost of the action {action_id} is negative"
                f" ({format_cents(actual_cents or 0)}): the financing plan cannot use it"
            ) from error
        return year
