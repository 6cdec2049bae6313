"""The year's programme: submitted to the steering committee, validated (an immutable
version), amended."""

from collections.abc import Mapping
from dataclasses import fields
from uuid import UUID

from crnt_shared.contracts.programme import (
    ProgrammeValidated,
    ProgrammeValidatedData,
    ValidatedAction,
)
from crnt_shared.events import utcnow
from crnt_shared.money import amount_from_cents

from crnt_programme.commands import AmendProgramme, SubmitProgramme, ValidateProgramme
from crnt_programme.domain import (
    Action,
    ActionStatus,
    Centre,
    ProgrammeCommand,
    change_status,
    ensure_submittable,
    next_programme_status,
    totals_by_axis,
)
from crnt_programme.handlers.common import (
    ProgrammeUnitOfWork,
    existing_programme,
    publish,
    publish_status_change,
)
from crnt_programme.handlers.facts import action_facts
from crnt_programme.repository import Programme, Version

#: What a version records of its decision, besides its snapshot.
_DECISION_FIELDS = {field.name for field in fields(Version)} - {"snapshot"}


async def submit_programme(command: SubmitProgramme, uow: ProgrammeUnitOfWork) -> Programme:
    repository = uow.repository
    programme = await existing_programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.SUBMIT)
    ensure_submittable(programme.year, await repository.actions(programme.year))
    programme = await repository.set_programme_status(programme, status, by=command.by)
    await uow.commit()
    return programme


async def amend_programme(command: AmendProgramme, uow: ProgrammeUnitOfWork) -> Programme:
    repository = uow.repository
    programme = await existing_programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.AMEND)
    programme = await repository.set_programme_status(programme, status, by=command.by)
    await uow.commit()
    return programme


async def validate_programme(command: ValidateProgramme, uow: ProgrammeUnitOfWork) -> Version:
    """A new immutable version; the proposed actions become planned (the committee adopted
    them). An action that lost its lead after the submission is validated as it is, flagged."""
    repository = uow.repository
    programme = await existing_programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.VALIDATE)
    at = utcnow()
    decided_on = command.decided_on or at.date()
    actions = []
    for action in await repository.actions(programme.year, for_update=True):
        if action.status is ActionStatus.PROPOSED:
            planned = change_status(action, ActionStatus.PLANNED)
            reason = f"adopted by {command.deciding_body} on {decided_on.isoformat()}"
            await publish_status_change(
                repository, uow, action, planned, reason, command.by, at, command.actor
            )
            action = planned
        actions.append(action)
    centres = await repository.centres({c for action in actions for c in action.centre_ids})
    totals = totals_by_axis(actions)
    data = ProgrammeValidatedData(
        year=programme.year,
        version=programme.version + 1,
        validated_at=at,
        decided_on=decided_on,
        deciding_body=command.deciding_body,
        decision_reference=command.decision_reference,
        validated_by=command.actor,
        totals_by_axis={axis.value: amount_from_cents(cents) for axis, cents in totals.items()},
        total=amount_from_cents(sum(totals.values())),
        actions=[validated_action(action, centres) for action in actions],
    )
    # The version keeps the decision as the event tells it, and the whole event as its snapshot.
    version = Version(
        **data.model_dump(include=_DECISION_FIELDS), snapshot=data.model_dump(mode="json")
    )
    await repository.add_version(version)
    await repository.set_programme_status(programme, status, by=command.by, version=version.version)
    await publish(uow, ProgrammeValidated, programme.year, data)
    await uow.commit()
    return version


def validated_action(action: Action, centres: Mapping[UUID, Centre]) -> ValidatedAction:
    """The action as the version keeps it: the facts its events carry, without its description,
    progress and indicators (which go on changing)."""
    facts = action_facts(action, centres).model_dump(include=set(ValidatedAction.model_fields))
    return ValidatedAction.model_validate(facts)
