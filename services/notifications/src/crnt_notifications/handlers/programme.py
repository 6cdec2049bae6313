"""The programme's events: a validated programme to every member centre's animators, an
action's status change to the animators of the centres taking part."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import structlog
from crnt_shared.contracts.programme import (
    ActionFacts,
    ActionStatusChanged,
    Participant,
    ProgrammeValidated,
    ValidatedAction,
)
from crnt_shared.money import cents_from_amount

from crnt_notifications.domain import (
    PROGRAMME_STATUSES,
    Kind,
    Recipient,
    axis_rank,
    ordered_axes,
    status_change_is_told,
)
from crnt_notifications.handlers.notifier import NotificationsUnitOfWork, Notifier

log = structlog.get_logger(__name__)


def _lead_name(participants: Sequence[Participant]) -> str | None:
    return next((p.centre_name for p in participants if p.lead), None)


def _programme_action(action: ValidatedAction, centre_id: UUID) -> dict[str, Any]:
    """One action of the programme as one of its centres sees it."""
    return {
        "title": action.title,
        "axis": action.axis,
        "status": action.status,
        "starts_on": action.starts_on,
        "ends_on": action.ends_on,
        "estimated_cents": cents_from_amount(action.estimated_cost),
        "leads": action.lead_centre_id == centre_id,
        "lead_name": None if action.needs_lead else _lead_name(action.participants),
        "needs_lead": action.needs_lead,
        "others": [
            p.centre_name for p in action.participants if p.centre_id != centre_id and not p.lead
        ],
    }


async def on_programme_validated(
    event: ProgrammeValidated, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """A version of a year's programme was validated: every member centre's animators hear the
    programme by axis and the actions their centre takes part in (each version its email)."""
    repository = uow.repository
    data = event.data
    actions = sorted(data.actions, key=lambda a: (axis_rank(a.axis), a.starts_on, a.title))
    counted = [action for action in actions if action.status != "cancelled"]
    axes = [
        {
            "axis": axis,
            "amount_cents": cents_from_amount(data.totals_by_axis[axis]),
            "count": sum(action.axis == axis for action in counted),
        }
        for axis in ordered_axes(data.totals_by_axis)
    ]
    listeners = await repository.animators_with_centre(PROGRAMME_STATUSES)
    own_centres: dict[str, dict[UUID, str]] = {}
    for person, nom in listeners:
        if person.centre_id is not None:
            own_centres.setdefault(person.email, {})[person.centre_id] = nom
    common = {
        "year": data.year,
        "version": data.version,
        "decided_on": data.decided_on,
        "deciding_body": data.deciding_body,
        "decision_reference": data.decision_reference,
        "axes": axes,
        "total_cents": cents_from_amount(data.total),
        "action_count": len(counted),
    }

    def context(person: Recipient) -> dict[str, Any]:
        centres = [
            {
                "nom": nom,
                "actions": [
                    _programme_action(action, centre_id)
                    for action in actions
                    if any(p.centre_id == centre_id for p in action.participants)
                ],
            }
            for centre_id, nom in own_centres.get(person.email, {}).items()
        ]
        return {**common, "centres": centres}

    await notifier.deliver(
        repository,
        kind=Kind.PROGRAMME_VALIDATED,
        event_id=event.id,
        recipients=[person for person, _ in listeners],
        context=context,
    )


def _action_facts(action: ActionFacts) -> dict[str, Any]:
    return {
        "title": action.title,
        "description": action.description,
        "axis": action.axis,
        "year": action.year,
        "starts_on": action.starts_on,
        "ends_on": action.ends_on,
        "estimated_cents": cents_from_amount(action.estimated_cost),
        "actual_cents": (
            None if action.actual_cost is None else cents_from_amount(action.actual_cost)
        ),
        "progress": action.progress,
        "progress_note": action.progress_note,
        "needs_lead": action.needs_lead,
        "lead_name": None if action.needs_lead else _lead_name(action.participants),
        "centres": [p.centre_name for p in action.participants],
    }


async def on_action_status_changed(
    event: ActionStatusChanged, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """An action started, was done or was cancelled: the animators of the centres taking part
    hear it at once (its adoption is told by the programme's email instead)."""
    data = event.data
    if not status_change_is_told(data.previous_status, data.status):
        return
    repository = uow.repository
    action = _action_facts(data.action)
    # Lead first: an address that animates two of the centres gets one email (the database
    # keeps one delivery per event, recipient and kind), about the centre that leads.
    for participant in sorted(data.action.participants, key=lambda p: not p.lead):
        recipients = await repository.animators_of(participant.centre_id)
        if not recipients:
            log.warning(
                "action status change for a centre without known animators",
                centre_id=str(participant.centre_id),
                action_id=str(data.action.id),
            )
            continue
        await notifier.deliver(
            repository,
            kind=Kind.ACTION_STATUS_CHANGED,
            event_id=event.id,
            recipients=recipients,
            context={
                "action": action,
                "centre": {"nom": participant.centre_name, "leads": participant.lead},
                "previous_status": data.previous_status,
                "status": data.status,
                "reason": data.reason,
                "at": data.at,
            },
            centre_id=participant.centre_id,
        )
