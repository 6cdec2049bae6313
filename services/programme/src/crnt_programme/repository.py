"""The programme's repository: what its handlers need of it (:class:`ProgrammeRepository`, which
their fakes implement too) and the SQL that does it, over one asyncpg connection (the unit of
work's)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from crnt_shared.db import Connection, fetch_record, fetch_records

from crnt_programme.domain import (
    Action,
    ActionStatus,
    Axis,
    Centre,
    Indicators,
    Nature,
    ProgrammeStatus,
)


@dataclass(frozen=True)
class Programme:
    year: int
    status: ProgrammeStatus
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Version:
    year: int
    version: int
    validated_at: datetime
    decided_on: date
    deciding_body: str
    decision_reference: str | None
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    by: str
    at: datetime
    details: dict[str, Any]


#: A centre as :class:`Centre` names its fields (what the reads select).
_CENTRES = "SELECT id, name, status FROM centres"

_ACTION_COLUMNS = (
    "id, year, axis, title, description, lead_centre_id, participant_ids, starts_on, ends_on,"
    " estimated_cost_cents, status, needs_lead, actual_cost_cents, progress, progress_note,"
    " nature, sessions, people_reached, hours_tenths"
)


#: A version's columns, as :class:`Version` names its fields (its reads select them all).
_VERSION_COLUMNS = tuple(field.name for field in fields(Version))


def _values(count: int) -> str:
    """The placeholders of a row of ``count`` values: ``$1, $2, …``."""
    return ", ".join(f"${n}" for n in range(1, count + 1))


#: The columns an action reads as they are stored.
_ACTION_AS_STORED = (
    "id",
    "year",
    "title",
    "description",
    "lead_centre_id",
    "starts_on",
    "ends_on",
    "estimated_cost_cents",
    "needs_lead",
    "actual_cost_cents",
    "progress",
    "progress_note",
)


def _action(row: Mapping[str, Any]) -> Action:
    return Action(
        **{name: row[name] for name in _ACTION_AS_STORED},
        axis=Axis(row["axis"]),
        participant_ids=tuple(row["participant_ids"]),
        status=ActionStatus(row["status"]),
        nature=Nature(row["nature"]),
        indicators=Indicators(row["sessions"], row["people_reached"], row["hours_tenths"]),
    )


def _programme(row: Mapping[str, Any]) -> Programme:
    return Programme(
        year=row["year"],
        status=ProgrammeStatus(row["status"]),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class ProgrammeRepository(Protocol):
    """What the programme's handlers need of their repository: :class:`Repository` (SQL) and
    the fake of the unit tests both do it."""

    async def centres(self, ids: Iterable[UUID]) -> dict[UUID, Centre]: ...

    async def know_centre(self, centre: Centre) -> None:
        """Its name, and its status if the centre is new here."""

    async def save_centre(self, centre: Centre) -> None: ...

    async def programme(self, year: int, *, for_update: bool = False) -> Programme | None: ...

    async def programme_for_update_or_new(self, year: int) -> Programme:
        """The year's programme, locked; a draft created if there was none."""
        ...

    async def set_programme_status(
        self, programme: Programme, status: ProgrammeStatus, *, by: str, version: int | None = None
    ) -> Programme:
        """The programme with its new status (and version), its history recorded."""
        ...

    async def add_version(self, version: Version) -> None: ...

    async def action(self, action_id: UUID, *, for_update: bool = False) -> Action | None: ...

    async def actions(self, year: int, *, for_update: bool = False) -> list[Action]:
        """The year's actions, in the order they were proposed."""
        ...

    async def actions_with_centre(self, centre_id: UUID) -> list[Action]:
        """The open actions ``centre_id`` leads or takes part in, locked."""
        ...

    async def add_action(self, action: Action) -> None: ...

    async def save_action(self, action: Action) -> None: ...

    async def record(
        self, action_id: UUID, kind: str, by: str, at: datetime, details: Mapping[str, Any]
    ) -> None:
        """A line of the action's history."""

    async def erase_from_history(self, person_id: str, pseudonym: str) -> int:
        """The history lines a person made name ``pseudonym`` instead; how many."""
        ...


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # Membership read model

    async def centres(self, ids: Iterable[UUID]) -> dict[UUID, Centre]:
        query = f"{_CENTRES} WHERE id = ANY($1::uuid[])"
        return {c.id: c for c in await fetch_records(self.connection, Centre, query, list(ids))}

    async def all_centres(self, status: str | None) -> list[Centre]:
        query = f"{_CENTRES} WHERE $1::text IS NULL OR status = $1 ORDER BY name, id"
        return await fetch_records(self.connection, Centre, query, status)

    async def know_centre(self, centre: Centre) -> None:
        """A centre named by the registry: its name, and its status if it is new here (a
        status change comes with its own event, :meth:`save_centre`)."""
        await self.connection.execute(
            "INSERT INTO centres (id, name, status) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = now()",
            centre.id,
            centre.name,
            centre.status,
        )

    async def save_centre(self, centre: Centre) -> None:
        await self.connection.execute(
            "INSERT INTO centres (id, name, status) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,"
            " updated_at = now()",
            centre.id,
            centre.name,
            centre.status,
        )

    # Programmes

    async def programme(self, year: int, *, for_update: bool = False) -> Programme | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.connection.fetchrow(
            f"SELECT * FROM programmes WHERE year = $1{lock}", year
        )
        return None if row is None else _programme(row)

    async def programme_for_update_or_new(self, year: int) -> Programme:
        await self.connection.execute(
            "INSERT INTO programmes (year) VALUES ($1) ON CONFLICT (year) DO NOTHING", year
        )
        programme = await self.programme(year, for_update=True)
        assert programme is not None
        return programme

    async def years(self) -> list[Programme]:
        rows = await self.connection.fetch("SELECT * FROM programmes ORDER BY year")
        return [_programme(row) for row in rows]

    async def set_programme_status(
        self, programme: Programme, status: ProgrammeStatus, *, by: str, version: int | None = None
    ) -> Programme:
        row = await self.connection.fetchrow(
            "UPDATE programmes SET status = $2, version = COALESCE($3, version), updated_at = now()"
            " WHERE year = $1 RETURNING *",
            programme.year,
            status.value,
            version,
        )
        await self.connection.execute(
            "INSERT INTO programme_history (year, previous_status, status, by)"
            " VALUES ($1, $2, $3, $4)",
            programme.year,
            programme.status.value,
            status.value,
            by,
        )
        assert row is not None
        return _programme(row)

    async def programme_history(self, year: int) -> list[HistoryEntry]:
        rows = await self.connection.fetch(
            "SELECT previous_status, status, by, at FROM programme_history WHERE year = $1"
            " ORDER BY id",
            year,
        )
        return [
            HistoryEntry(
                "status",
                row["by"],
                row["at"],
                {"previous_status": row["previous_status"], "status": row["status"]},
            )
            for row in rows
        ]

    async def add_version(self, version: Version) -> None:
        await self.connection.execute(
            f"INSERT INTO programme_versions ({', '.join(_VERSION_COLUMNS)})"
            f" VALUES ({_values(len(_VERSION_COLUMNS))})",
            *(getattr(version, column) for column in _VERSION_COLUMNS),
        )

    async def versions(self, year: int) -> list[Version]:
        query = "SELECT * FROM programme_versions WHERE year = $1 ORDER BY version"
        return await fetch_records(self.connection, Version, query, year)

    async def version(self, year: int, number: int) -> Version | None:
        query = "SELECT * FROM programme_versions WHERE year = $1 AND version = $2"
        return await fetch_record(self.connection, Version, query, year, number)

    # Actions

    async def action(self, action_id: UUID, *, for_update: bool = False) -> Action | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.connection.fetchrow(
            f"SELECT {_ACTION_COLUMNS} FROM actions WHERE id = $1{lock}", action_id
        )
        return None if row is None else _action(row)

    async def actions(self, year: int, *, for_update: bool = False) -> list[Action]:
        lock = " FOR UPDATE" if for_update else ""
        rows = await self.connection.fetch(
            f"SELECT {_ACTION_COLUMNS} FROM actions WHERE year = $1 ORDER BY created_at, id{lock}",
            year,
        )
        return [_action(row) for row in rows]

    async def actions_with_centre(self, centre_id: UUID) -> list[Action]:
        """The open actions ``centre_id`` leads or takes part in, locked."""
        rows = await self.connection.fetch(
            f"SELECT {_ACTION_COLUMNS} FROM actions"
            " WHERE (lead_centre_id = $1 OR participant_ids @> ARRAY[$1::uuid])"
            " AND status NOT IN ('done', 'cancelled') ORDER BY year, created_at, id FOR UPDATE",
            centre_id,
        )
        return [_action(row) for row in rows]

    async def add_action(self, action: Action) -> None:
        values = _action_values(action)
        await self.connection.execute(
            f"INSERT INTO actions ({_ACTION_COLUMNS}) VALUES ({_values(len(values))})", *values
        )

    async def save_action(self, action: Action) -> None:
        await self.connection.execute(
            "UPDATE actions SET year = $2, axis = $3, title = $4, description = $5,"
            " lead_centre_id = $6, participant_ids = $7, starts_on = $8, ends_on = $9,"
            " estimated_cost_cents = $10, status = $11, needs_lead = $12,"
            " actual_cost_cents = $13, progress = $14, progress_note = $15, nature = $16,"
            " sessions = $17, people_reached = $18, hours_tenths = $19, updated_at = now()"
            " WHERE id = $1",
            *_action_values(action),
        )

    async def record(
        self, action_id: UUID, kind: str, by: str, at: datetime, details: Mapping[str, Any]
    ) -> None:
        await self.connection.execute(
            "INSERT INTO action_history (action_id, kind, by, at, details)"
            " VALUES ($1, $2, $3, $4, $5)",
            action_id,
            kind,
            by,
            at,
            dict(details),
        )

    async def erase_from_history(self, person_id: str, pseudonym: str) -> int:
        """The history lines a person made name ``pseudonym`` instead (RGPD); how many."""
        changed: str = await self.connection.execute(
            "UPDATE action_history SET by = $2,"
            " details = jsonb_set(details, '{by_actor,name}', to_jsonb($2::text))"
            " WHERE details -> 'by_actor' ->> 'id' = $1",
            person_id,
            pseudonym,
        )
        return int(changed.split()[-1])

    async def history(self, action_id: UUID) -> list[HistoryEntry]:
        query = "SELECT kind, by, at, details FROM action_history WHERE action_id = $1 ORDER BY id"
        return await fetch_records(self.connection, HistoryEntry, query, action_id)


def _action_values(action: Action) -> Sequence[Any]:
    return (
        action.id,
        action.year,
        action.axis.value,
        action.title,
        action.description,
        action.lead_centre_id,
        list(action.participant_ids),
        action.starts_on,
        action.ends_on,
        action.estimated_cost_cents,
        action.status.value,
        action.needs_lead,
        action.actual_cost_cents,
        action.progress,
        action.progress_note,
        action.nature.value,
        action.indicators.sessions,
        action.indicators.people_reached,
        action.indicators.hours_tenths,
    )
