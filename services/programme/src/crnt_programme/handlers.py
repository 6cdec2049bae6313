"""The programme's use cases: one function per command or event, each in one unit of work that
writes the state change and the events describing it, or nothing at all.

Locks are always taken in the same order, the programme's row before its actions' rows, so
that two requests on one year never deadlock.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from crnt_shared.contracts.identity import ActorRef
from crnt_shared.contracts.programme import (
    ActionFacts,
    ActionLeadMissing,
    ActionLeadMissingData,
    ActionProposed,
    ActionProposedData,
    ActionStatusChanged,
    ActionStatusChangedData,
    ActionUpdated,
    ActionUpdatedData,
    Participant,
    ProgrammeValidated,
    ProgrammeValidatedData,
    ValidatedAction,
)
from crnt_shared.contracts.programme import Indicators as ContractIndicators
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event, utcnow
from crnt_shared.http import NotFound
from crnt_shared.money import amount_from_cents

from crnt_programme.domain import (
    LEAVING,
    Action,
    ActionStatus,
    Axis,
    Centre,
    Indicators,
    InvalidAction,
    Membership,
    Nature,
    ProgrammeCommand,
    change_status,
    check_centres,
    check_cost,
    check_dates,
    default_nature,
    distinct_participants,
    ensure_content_editable,
    ensure_open,
    ensure_submittable,
    format_hours,
    leave,
    next_programme_status,
    report_progress,
    totals_by_axis,
)
from crnt_programme.repository import Programme, Repository, Version

SOURCE = "/crnt/programme"

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


# Commands


@dataclass(frozen=True)
class ProposeAction:
    year: int
    axis: Axis
    title: str
    description: str
    lead_centre_id: UUID
    participant_ids: tuple[UUID, ...]
    starts_on: date
    ends_on: date
    estimated_cost_cents: int
    by: str
    actor: ActorRef | None = None
    nature: Nature | None = None


@dataclass(frozen=True)
class EditAction:
    action_id: UUID
    changes: Mapping[str, Any]
    by: str
    actor: ActorRef | None = None


@dataclass(frozen=True)
class ChangeActionStatus:
    action_id: UUID
    status: ActionStatus
    reason: str | None
    by: str
    actor: ActorRef | None = None


@dataclass(frozen=True)
class ReportProgress:
    action_id: UUID
    progress: int | None
    note: str | None
    actual_cost_cents: int | None
    by: str
    actor: ActorRef | None = None
    indicators: Indicators | None = None


@dataclass(frozen=True)
class SubmitProgramme:
    year: int
    by: str
    actor: ActorRef | None = None


@dataclass(frozen=True)
class ValidateProgramme:
    year: int
    deciding_body: str
    decided_on: date | None
    decision_reference: str | None
    by: str
    actor: ActorRef | None = None


@dataclass(frozen=True)
class AmendProgramme:
    year: int
    by: str
    actor: ActorRef | None = None


# Actions


async def propose_action(command: ProposeAction, uow: UnitOfWork) -> Action:
    repository = Repository(uow.connection)
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
        action.id, "proposed", command.by, at, _with_actor(_jsonable(_content(action)), command)
    )
    await uow.publish(
        ActionProposed.create(
            source=SOURCE,
            subject=str(action.id),
            data=ActionProposedData(
                action=action_facts(action, centres), by=command.by, at=at, actor=command.actor
            ),
        )
    )
    await uow.commit()
    return action


async def edit_action(command: EditAction, uow: UnitOfWork) -> Action:
    repository = Repository(uow.connection)
    unknown = set(command.changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidAction(f"not editable: {', '.join(sorted(unknown))}", "body")
    if "lead_centre_id" in command.changes and command.changes["lead_centre_id"] is None:
        raise InvalidAction(
            "an action cannot be left without a lead: name another lead centre instead",
            "lead_centre_id",
        )
    programme, current = await _locked(repository, command.action_id)
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
        _with_actor({"changes": {name: [before[name], after[name]] for name in changed}}, command),
    )
    removed = [centre for centre in current.centre_ids if centre not in edited.centre_ids]
    await uow.publish(
        ActionUpdated.create(
            source=SOURCE,
            subject=str(edited.id),
            data=ActionUpdatedData(
                action=action_facts(edited, centres),
                changed=changed,
                added_participants=_participants(added, edited, centres),
                removed_participants=_participants(removed, current, centres),
                by=command.by,
                at=at,
                actor=command.actor,
            ),
        )
    )
    await uow.commit()
    return edited


async def change_action_status(command: ChangeActionStatus, uow: UnitOfWork) -> Action:
    repository = Repository(uow.connection)
    current = await _action(repository, command.action_id, for_update=True)
    changed = change_status(current, command.status)
    at = utcnow()
    await _publish_status_change(
        repository, uow, current, changed, command.reason, command.by, at, command.actor
    )
    await uow.commit()
    return changed


async def report_action_progress(command: ReportProgress, uow: UnitOfWork) -> Action:
    repository = Repository(uow.connection)
    current = await _action(repository, command.action_id, for_update=True)
    reported = report_progress(
        current, command.progress, command.note, command.actual_cost_cents, command.indicators
    )
    at = utcnow()
    await repository.record(
        reported.id,
        "progress",
        command.by,
        at,
        _with_actor(
            {
                "progress": reported.progress,
                "note": command.note,
                "actual_cost": _amount(command.actual_cost_cents),
                "indicators": None
                if command.indicators is None
                else _indicators(command.indicators),
            },
            command,
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
        await uow.publish(
            ActionUpdated.create(
                source=SOURCE,
                subject=str(reported.id),
                data=ActionUpdatedData(
                    action=action_facts(reported, centres),
                    changed=[name.removesuffix("_cents") for name in changed],
                    by=command.by,
                    at=at,
                    actor=command.actor,
                ),
            )
        )
    await uow.commit()
    return reported


# The programme


async def submit_programme(command: SubmitProgramme, uow: UnitOfWork) -> Programme:
    repository = Repository(uow.connection)
    programme = await _programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.SUBMIT)
    ensure_submittable(programme.year, await repository.actions(programme.year))
    programme = await repository.set_programme_status(programme, status, by=command.by)
    await uow.commit()
    return programme


async def amend_programme(command: AmendProgramme, uow: UnitOfWork) -> Programme:
    repository = Repository(uow.connection)
    programme = await _programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.AMEND)
    programme = await repository.set_programme_status(programme, status, by=command.by)
    await uow.commit()
    return programme


async def validate_programme(command: ValidateProgramme, uow: UnitOfWork) -> Version:
    """A new immutable version; the proposed actions become planned (the committee adopted
    them). An action that lost its lead after the submission is validated as it is, flagged."""
    repository = Repository(uow.connection)
    programme = await _programme(repository, command.year)
    status = next_programme_status(programme.year, programme.status, ProgrammeCommand.VALIDATE)
    at = utcnow()
    decided_on = command.decided_on or at.date()
    actions = []
    for action in await repository.actions(programme.year, for_update=True):
        if action.status is ActionStatus.PROPOSED:
            planned = change_status(action, ActionStatus.PLANNED)
            reason = f"adopted by {command.deciding_body} on {decided_on.isoformat()}"
            await _publish_status_change(
                repository, uow, action, planned, reason, command.by, at, command.actor
            )
            action = planned
        actions.append(action)
    centres = await repository.centres({c for action in actions for c in action.centre_ids})
    totals = totals_by_axis(actions)
    version = Version(
        year=programme.year,
        version=programme.version + 1,
        validated_at=at,
        decided_on=decided_on,
        deciding_body=command.deciding_body,
        decision_reference=command.decision_reference,
        snapshot={},
    )
    data = ProgrammeValidatedData(
        year=version.year,
        version=version.version,
        validated_at=at,
        decided_on=decided_on,
        deciding_body=command.deciding_body,
        decision_reference=command.decision_reference,
        validated_by=command.actor,
        totals_by_axis={axis.value: amount_from_cents(cents) for axis, cents in totals.items()},
        total=amount_from_cents(sum(totals.values())),
        actions=[_validated(action, centres) for action in actions],
    )
    version = replace(version, snapshot=data.model_dump(mode="json"))
    await repository.add_version(version)
    await repository.set_programme_status(programme, status, by=command.by, version=version.version)
    await uow.publish(
        ProgrammeValidated.create(source=SOURCE, subject=str(programme.year), data=data)
    )
    await uow.commit()
    return version


# Membership, from the registry's events


async def on_membership_changed(event: Event, uow: UnitOfWork) -> None:
    """Keep who is a member; a centre that is suspended or withdrawn leaves the open actions."""
    data = event.data
    repository = Repository(uow.connection)
    centre = Centre(data.centre.id, data.centre.nom, data.status)
    await repository.save_centre(centre)
    if centre.status not in LEAVING:
        return
    for action in await repository.actions_with_centre(centre.id):
        departure = leave(action, centre.id)
        if departure is None:
            continue
        after = departure.action
        await repository.save_action(after)
        await repository.record(
            after.id,
            "centre_left",
            "registry",
            data.at,
            {"centre_id": str(centre.id), "membership": centre.status, "lead": departure.lost_lead},
        )
        centres = await repository.centres((*action.centre_ids,))
        facts = action_facts(after, centres)
        (gone,) = _participants([centre.id], action, centres)
        await uow.publish(
            ActionUpdated.create(
                source=SOURCE,
                subject=str(after.id),
                cause=event,
                data=ActionUpdatedData(
                    action=facts,
                    changed=(
                        ["lead_centre_id", "needs_lead"]
                        if departure.lost_lead
                        else ["participant_ids"]
                    ),
                    removed_participants=[gone],
                    reason=f"{centre.name} is {centre.status}",
                    by="registry",
                    at=data.at,
                ),
            )
        )
        if departure.lost_lead:
            await uow.publish(
                ActionLeadMissing.create(
                    source=SOURCE,
                    subject=str(after.id),
                    cause=event,
                    data=ActionLeadMissingData(
                        action=facts,
                        previous_lead=gone,
                        membership_status=centre.status,
                        at=data.at,
                    ),
                )
            )


async def on_centre_known(event: Event, uow: UnitOfWork) -> None:
    """A new application (a pending centre) or a centre's new facts: its name, and its status
    when the programme did not know it yet (a status change always comes with its own event)."""
    facts = event.data.centre
    status = Membership.PENDING.value if isinstance(event, ApplicationSubmitted) else facts.status
    await uow.connection.execute(
        "INSERT INTO centres (id, name, status) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = now()",
        facts.id,
        facts.nom,
        status,
    )


# Helpers


async def _programme(repository: Repository, year: int) -> Programme:
    programme = await repository.programme(year, for_update=True)
    if programme is None:
        raise NotFound(
            f"There is no {year} programme yet: propose its first action with"
            f" POST /api/v1/programmes/{year}/actions."
        )
    return programme


async def _action(repository: Repository, action_id: UUID, *, for_update: bool) -> Action:
    action = await repository.action(action_id, for_update=for_update)
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    return action


async def _locked(repository: Repository, action_id: UUID) -> tuple[Programme, Action]:
    """The action's programme, then the action, both locked (in the order of the module)."""
    year = (await _action(repository, action_id, for_update=False)).year
    programme = await _programme(repository, year)
    return programme, await _action(repository, action_id, for_update=True)


async def _publish_status_change(
    repository: Repository,
    uow: UnitOfWork,
    before: Action,
    after: Action,
    reason: str | None,
    by: str,
    at: datetime,
    actor: ActorRef | None = None,
) -> None:
    await repository.save_action(after)
    details: dict[str, Any] = {
        "previous_status": before.status.value,
        "status": after.status.value,
        "reason": reason,
    }
    if actor is not None:
        details["by_actor"] = actor.model_dump()
    await repository.record(after.id, "status", by, at, details)
    centres = await repository.centres(after.centre_ids)
    await uow.publish(
        ActionStatusChanged.create(
            source=SOURCE,
            subject=str(after.id),
            data=ActionStatusChangedData(
                action=action_facts(after, centres),
                previous_status=before.status.value,
                status=after.status.value,
                reason=reason,
                by=by,
                at=at,
                actor=actor,
            ),
        )
    )


def _participants(
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
        participants=_participants(action.centre_ids, action, centres),
        starts_on=action.starts_on,
        ends_on=action.ends_on,
        estimated_cost=amount_from_cents(action.estimated_cost_cents),
        actual_cost=_amount(action.actual_cost_cents),
        progress=action.progress,
        progress_note=action.progress_note,
        nature=action.nature.value,
        indicators=ContractIndicators(**_indicators(action.indicators)),
    )


def _indicators(indicators: Indicators) -> dict[str, Any]:
    return {
        "sessions": indicators.sessions,
        "people_reached": indicators.people_reached,
        "hours": format_hours(indicators.hours_tenths),
    }


def _validated(action: Action, centres: Mapping[UUID, Centre]) -> ValidatedAction:
    return ValidatedAction(
        id=action.id,
        axis=action.axis.value,
        title=action.title,
        status=action.status.value,
        lead_centre_id=action.lead_centre_id,
        needs_lead=action.needs_lead,
        participants=_participants(action.centre_ids, action, centres),
        starts_on=action.starts_on,
        ends_on=action.ends_on,
        estimated_cost=amount_from_cents(action.estimated_cost_cents),
        nature=action.nature.value,
        actual_cost=_amount(action.actual_cost_cents),
    )


def _amount(cents: int | None) -> str | None:
    return None if cents is None else amount_from_cents(cents)


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


def _with_actor(details: dict[str, Any], command: Any) -> dict[str, Any]:
    """History details with who made the change (``by_actor``: id and display name)."""
    actor = getattr(command, "actor", None)
    return details if actor is None else {**details, "by_actor": actor.model_dump()}
