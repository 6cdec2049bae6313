"""What the programme's use cases share: the unit of work they take, how they publish, the
programme and the action they load or refuse, a status change and its history line (the facts
their events carry are in :mod:`.facts`)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared.contracts.identity import ActorRef
from crnt_shared.contracts.programme import ActionStatusChanged, ActionStatusChangedData
from crnt_shared.db import AbstractUnitOfWork
from crnt_shared.errors import NotFound
from crnt_shared.publishing import Publisher

from crnt_programme.domain import Action
from crnt_programme.handlers.facts import action_facts
from crnt_programme.repository import Programme, ProgrammeRepository

SOURCE = "/crnt/programme"
#: How every handler of the programme publishes: ``await publish(uow, Contract, subject, data)``.
publish = Publisher(SOURCE)

#: What every handler of the programme takes: the runtime's unit of work, or the unit tests' fake.
ProgrammeUnitOfWork = AbstractUnitOfWork[ProgrammeRepository]


async def existing_programme(repository: ProgrammeRepository, year: int) -> Programme:
    programme = await repository.programme(year, for_update=True)
    if programme is None:
        raise NotFound(
            f"There is no {year} programme yet: propose its first action with"
            f" POST /api/v1/programmes/{year}/actions."
        )
    return programme


async def existing_action(
    repository: ProgrammeRepository, action_id: UUID, *, for_update: bool
) -> Action:
    action = await repository.action(action_id, for_update=for_update)
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


async def locked_action(
    repository: ProgrammeRepository, action_id: UUID
) -> tuple[Programme, Action]:
    """The action's programme, then the action, both locked (in the order of the module)."""
    year = (await existing_action(repository, action_id, for_update=False)).year
    programme = await existing_programme(repository, year)
    return programme, await existing_action(repository, action_id, for_update=True)


async def publish_status_change(
    repository: ProgrammeRepository,
    uow: ProgrammeUnitOfWork,
    before: Action,
    after: Action,
    reason: str | None,
    by: str,
    at: datetime,
    actor: ActorRef | None = None,
) -> None:
    await repository.save_action(after)
    previous, status = before.status.value, after.status.value
    details = {"previous_status": previous, "status": status, "reason": reason}
    await repository.record(after.id, "status", by, at, with_actor(details, actor))
    centres = await repository.centres(after.centre_ids)
    data = ActionStatusChangedData(
        action=action_facts(after, centres),
        previous_status=previous,
        status=status,
        reason=reason,
        by=by,
        at=at,
        actor=actor,
    )
    await publish(uow, ActionStatusChanged, after.id, data)


def with_actor(details: dict[str, Any], actor: ActorRef | None) -> dict[str, Any]:
    """History details with who made the change (``by_actor``: id and display name)."""
    return details if actor is None else {**details, "by_actor": actor.model_dump()}
