"""The programme's repository in memory, for unit tests of its handlers without PostgreSQL: what
:class:`~crnt_programme.repository.ProgrammeRepository` says."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from crnt_programme.domain import FINAL_STATUSES, Action, Centre, ProgrammeStatus
from crnt_programme.repository import HistoryEntry, Programme, Version
from crnt_shared.fakes import FakeUnitOfWork


@dataclass(frozen=True)
class Recorded:
    action_id: UUID
    entry: HistoryEntry


@dataclass
class FakeProgrammeRepository:
    centres_by_id: dict[UUID, Centre] = field(default_factory=dict)
    programmes: dict[int, Programme] = field(default_factory=dict)
    #: ``(year, previous, status, by)`` of each change of a programme's status.
    programme_history: list[tuple[int, ProgrammeStatus, ProgrammeStatus, str]] = field(
        default_factory=list
    )
    versions: list[Version] = field(default_factory=list)
    #: In the order they were proposed.
    actions_by_id: dict[UUID, Action] = field(default_factory=dict)
    history: list[Recorded] = field(default_factory=list)

    # Membership read model

    async def centres(self, ids: Iterable[UUID]) -> dict[UUID, Centre]:
        return {i: self.centres_by_id[i] for i in ids if i in self.centres_by_id}

    async def know_centre(self, centre: Centre) -> None:
        known = self.centres_by_id.get(centre.id)
        self.centres_by_id[centre.id] = (
            centre if known is None else replace(known, name=centre.name)
        )

    async def save_centre(self, centre: Centre) -> None:
        self.centres_by_id[centre.id] = centre

    # Programmes

    async def programme(self, year: int, *, for_update: bool = False) -> Programme | None:
        return self.programmes.get(year)

    async def programme_for_update_or_new(self, year: int) -> Programme:
        if year not in self.programmes:
            now = _now()
            self.programmes[year] = Programme(year, ProgrammeStatus.DRAFT, 0, now, now)
        return self.programmes[year]

    async def set_programme_status(
        self, programme: Programme, status: ProgrammeStatus, *, by: str, version: int | None = None
    ) -> Programme:
        current = self.programmes[programme.year]
        changed = replace(
            current,
            status=status,
            version=current.version if version is None else version,
            updated_at=_now(),
        )
        self.programmes[programme.year] = changed
        self.programme_history.append((programme.year, programme.status, status, by))
        return changed

    async def add_version(self, version: Version) -> None:
        self.versions.append(version)

    # Actions

    async def action(self, action_id: UUID, *, for_update: bool = False) -> Action | None:
        return self.actions_by_id.get(action_id)

    async def actions(self, year: int, *, for_update: bool = False) -> list[Action]:
        return [action for action in self.actions_by_id.values() if action.year == year]

    async def actions_with_centre(self, centre_id: UUID) -> list[Action]:
        return [
            action
            for action in self.actions_by_id.values()
            if centre_id in action.centre_ids and action.status not in FINAL_STATUSES
        ]

    async def add_action(self, action: Action) -> None:
        self.actions_by_id[action.id] = action

    async def save_action(self, action: Action) -> None:
        self.actions_by_id[action.id] = action

    async def record(
        self, action_id: UUID, kind: str, by: str, at: datetime, details: Mapping[str, Any]
    ) -> None:
        self.history.append(Recorded(action_id, HistoryEntry(kind, by, at, dict(details))))

    async def erase_from_history(self, person_id: str, pseudonym: str) -> int:
        changed = 0
        for index, line in enumerate(self.history):
            actor = line.entry.details.get("by_actor")
            if isinstance(actor, dict) and actor.get("id") == person_id:
                details = {**line.entry.details, "by_actor": {**actor, "name": pseudonym}}
                entry = replace(line.entry, by=pseudonym, details=details)
                self.history[index] = replace(line, entry=entry)
                changed += 1
        return changed


ProgrammeWork = FakeUnitOfWork[FakeProgrammeRepository]


def unit_of_work(repository: FakeProgrammeRepository | None = None) -> ProgrammeWork:
    """A fake unit of work over ``repository`` (a new, empty one by default)."""
    return FakeUnitOfWork(repository or FakeProgrammeRepository())


def _now() -> datetime:
    return datetime.now(UTC)
