"""What the programme's use cases share: the unit of work they take, the programme and the
action they load or refuse, the facts their events carry."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared.contracts.identity import ActorRef
from crnt_shared.contracts.programme import (
    ActionFacts,
    ActionStatusChanged,
    ActionStatusChangedData,
    Participant,
)
from crnt_shared.contracts.programme import Indicators as ContractIndicators
from crnt_shared.db import AbstractUnitOfWork
from crnt_shared.errors import NotFound
from crnt_shared.money import amount_from_cents
from crnt_shared.publishing import Publisher

from crnt_programme.domain import Action, Centre, Indicators, format_hours
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


def participants_of(
    ids: Iterable[UUID], action: Action, centres: Mapping[UUID, Centre]
) -> list[Participant]:
    return [
        Participant(
            centre_id=centre,
            centre_name=centres[centre].name if centre in centres else str(centre),
            lead=centre == action.lead_centre_id,
        )
        for centre in ids
    ]


def action_facts(action: Action, centres: Mapping[UUID, Centre]) -> ActionFacts:
    return ActionFacts(
        id=action.id,
        year=action.year,
        axis=action.axis.value,
        title=action.title,
        description=action.description,
        status=action.status.value,
        lead_centre_id=action.lead_centre_id,
        needs_lead=action.needs_lead,
        participants=participants_of(action.centre_ids, action, centres),
        starts_on=action.starts_on,
        ends_on=action.ends_on,
        estimated_cost=amount_from_cents(action.estimated_cost_cents),
        actual_cost=amount_or_none(action.actual_cost_cents),
        progress=action.progress,
        progress_note=action.progress_note,
        nature=action.nature.value,
        indicators=ContractIndicators(**indicators_facts(action.indicators)),
    )


def indicators_facts(indicators: Indicators) -> dict[str, Any]:
    return {
        "sessions": indicators.sessions,
        "people_reached": indicators.people_reached,
        "hours": format_hours(indicators.hours_tenths),
    }


def amount_or_none(cents: int | None) -> str | None:
    return None if cents is None else amount_from_cents(cents)
