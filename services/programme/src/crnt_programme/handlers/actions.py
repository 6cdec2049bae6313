"""The actions of the programme: proposed, edited, moved along their statuses, their progress
reported. The programme's row is locked before its actions' (see the package)."""

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from crnt_shared.contracts.programme import (
    ActionProposed,
    ActionProposedData,
    ActionUpdated,
    ActionUpdatedData,
)
from crnt_shared.events import utcnow

from crnt_programme.commands import (
    ChangeActionStatus,
    Command,
    EditAction,
    ProposeAction,
    ReportProgress,
)
from crnt_programme.domain import (
    Action,
    Axis,
    Centre,
    InvalidAction,
    Nature,
    change_status,
    check_centres,
    check_cost,
    check_dates,
    default_nature,
    distinct_participants,
    ensure_content_editable,
    ensure_open,
    report_progress,
)
from crnt_programme.handlers.common import (
    ProgrammeUnitOfWork,
    existing_action,
    locked_action,
    publish,
    publish_status_change,
    with_actor,
)
from crnt_programme.handlers.facts import (
    action_facts,
    amount_or_none,
    indicators_facts,
    participants_of,
)

#: The fields of an action that ``EditAction`` may change.
EDITABLE_FIELDS = (
    "axis",
    "title",
    "description",
    "lead_centre_id",
    "participant_ids",
    "starts_on",
    "ends_on",
    "estimated_cost_cents",
    "nature",
)


async def propose_action(command: ProposeAction, uow: ProgrammeUnitOfWork) -> Action:
    repository = uow.repository
    check_dates(command.year, command.starts_on, command.ends_on)
    check_cost(command.estimated_cost_cents, "estimated_cost")
    programme = await repository.programme_for_update_or_new(command.year)
    ensure_content_editable(programme.year, programme.status)
    action = Action(
        id=uuid4(),
        year=command.year,
        axis=command.axis,
        title=command.title,
        description=command.description,
        lead_centre_id=command.lead_centre_id,
        participant_ids=distinct_participants(command.lead_centre_id, command.participant_ids),
        starts_on=command.starts_on,
        ends_on=command.ends_on,
        estimated_cost_cents=command.estimated_cost_cents,
        nature=command.nature or default_nature(command.axis),
    )
    centres = await repository.centres(action.centre_ids)
    check_centres(action.centre_ids, centres)
    await repository.add_action(action)
    at = utcnow()
    await repository.record(
        action.id,
        "proposed",
        command.by,
        at,
        with_actor(_jsonable(_content(action)), command.actor),
    )
    data = ActionProposedData(
        action=action_facts(action, centres), by=command.by, at=at, actor=command.actor
    )
    await publish(uow, ActionProposed, action.id, data)
    await uow.commit()
    return action


async def edit_action(command: EditAction, uow: ProgrammeUnitOfWork) -> Action:
    repository = uow.repository
    unknown = set(command.changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidAction(f"not editable: {', '.join(sorted(unknown))}", "body")
    if "lead_centre_id" in command.changes and command.changes["lead_centre_id"] is None:
        raise InvalidAction(
            "an action cannot be left without a lead: name another lead centre instead",
            "lead_centre_id",
        )
    programme, current = await locked_action(repository, command.action_id)
    changes = dict(command.changes)
    if "participant_ids" in changes:
        changes["participant_ids"] = tuple(changes["participant_ids"])
    edited = replace(current, **changes)
    lead = edited.lead_centre_id
    if lead is not None and (lead != current.lead_centre_id or "participant_ids" in changes):
        edited = replace(
            edited,
            needs_lead=False,
            participant_ids=distinct_participants(lead, edited.participant_ids),
        )
    changed = [name for name in EDITABLE_FIELDS if getattr(edited, name) != getattr(current, name)]
    if not changed:
        return current
    ensure_open(current, "content")
    naming_a_lead = current.needs_lead and "lead_centre_id" in changed
    if not (naming_a_lead and set(changed) <= {"lead_centre_id", "participant_ids"}):
        ensure_content_editable(programme.year, programme.status)
    check_dates(edited.year, edited.starts_on, edited.ends_on)
    check_cost(edited.estimated_cost_cents, "estimated_cost")
    centres = await repository.centres({*current.centre_ids, *edited.centre_ids})
    added = [centre for centre in edited.centre_ids if centre not in current.centre_ids]
    check_centres(added, centres)
    await repository.save_action(edited)
    at = utcnow()
    before, after = _jsonable(_content(current)), _jsonable(_content(edited))
    await repository.record(
        edited.id,
        "updated",
        command.by,
        at,
        with_actor(
            {"changes": {name: [before[name], after[name]] for name in changed}}, command.actor
        ),
    )
    removed = [centre for centre in current.centre_ids if centre not in edited.centre_ids]
    await _publish_update(
        uow,
        command,
        edited,
        centres,
        at,
        changed=changed,
        added_participants=participants_of(added, edited, centres),
        removed_participants=participants_of(removed, current, centres),
    )
    await uow.commit()
    return edited


async def change_action_status(command: ChangeActionStatus, uow: ProgrammeUnitOfWork) -> Action:
    repository = uow.repository
    current = await existing_action(repository, command.action_id, for_update=True)
    changed = change_status(current, command.status)
    at = utcnow()
    await publish_status_change(
        repository, uow, current, changed, command.reason, command.by, at, command.actor
    )
    await uow.commit()
    return changed


async def report_action_progress(command: ReportProgress, uow: ProgrammeUnitOfWork) -> Action:
    repository = uow.repository
    current = await existing_action(repository, command.action_id, for_update=True)
    reported = report_progress(
        current, command.progress, command.note, command.actual_cost_cents, command.indicators
    )
    at = utcnow()
    await repository.record(
        reported.id,
        "progress",
        command.by,
        at,
        with_actor(
            {
                "progress": reported.progress,
                "note": command.note,
                "actual_cost": amount_or_none(command.actual_cost_cents),
                "indicators": None
                if command.indicators is None
                else indicators_facts(command.indicators),
            },
            command.actor,
        ),
    )
    changed = [
        name
        for name in ("progress", "progress_note", "actual_cost_cents", "indicators")
        if getattr(reported, name) != getattr(current, name)
    ]
    if changed:
        await repository.save_action(reported)
        centres = await repository.centres(reported.centre_ids)
        await _publish_update(
            uow,
            command,
            reported,
            centres,
            at,
            changed=[name.removesuffix("_cents") for name in changed],
        )
    await uow.commit()
    return reported


async def _publish_update(
    uow: ProgrammeUnitOfWork,
    command: Command,
    action: Action,
    centres: Mapping[UUID, Centre],
    at: datetime,
    **changes: Any,
) -> None:
    """``action.updated``: the action as it is now, and ``changes`` (what changed, who joined or
    left), by whom the command names."""
    data = ActionUpdatedData(
        action=action_facts(action, centres),
        by=command.by,
        at=at,
        actor=command.actor,
        **changes,
    )
    await publish(uow, ActionUpdated, action.id, data)


def _content(action: Action) -> dict[str, Any]:
    return {
        item.name: getattr(action, item.name)
        for item in fields(action)
        if item.name in EDITABLE_FIELDS
    }


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, UUID | date):
            return str(value)
        if isinstance(value, Axis | Nature):
            return value.value
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [convert(item) for item in value]
        return value

    return {name: convert(value) for name, value in values.items()}
