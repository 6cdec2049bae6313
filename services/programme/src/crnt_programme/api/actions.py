"""``/programmes/{year}/actions`` and ``/actions``: the agency (or an animator, for the actions
their centre leads) proposes actions, changes them, moves them along their statuses and reports
their progress; an animator has their centre take part; anyone reads them."""

from datetime import date
from typing import Any
from uuid import UUID

from crnt_shared.auth import Role, forbidden, require_centre
from crnt_shared.callers import Agency, AgencyOrAnimator
from fastapi import APIRouter
from pydantic import Field, model_validator

from crnt_programme import commands, handlers
from crnt_programme.api.common import Euros, Hours, LongText, Runtime, Strict, Text, Year
from crnt_programme.api.views import action_out, found_action, history_out
from crnt_programme.domain import ActionStatus, Axis, Indicators, Nature

router = APIRouter(tags=["actions"])


class ActionIn(Strict):
    axis: Axis
    title: Text
    description: LongText = ""
    lead_centre_id: UUID
    participant_ids: list[UUID] = Field(default_factory=list, max_length=500)
    starts_on: date
    ends_on: date
    estimated_cost: Euros
    nature: Nature | None = Field(
        default=None,
        description="fonctionnement or investissement; by default shared equipment is an"
        " investment, every other axis an operating cost.",
    )


class ActionPatch(Strict):
    """Only the fields given change; ``lead_centre_id`` names a new lead."""

    axis: Axis | None = None
    title: Text | None = None
    description: LongText | None = None
    lead_centre_id: UUID | None = None
    participant_ids: list[UUID] | None = Field(default=None, max_length=500)
    starts_on: date | None = None
    ends_on: date | None = None
    estimated_cost: Euros | None = None
    nature: Nature | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "ActionPatch":
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: give a value, or leave the field out")
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one field")
        return self


class StatusIn(Strict):
    status: ActionStatus
    reason: LongText | None = None


class IndicatorsIn(Strict):
    """Totals so far (not increments): each report replaces the previous figures."""

    sessions: int = Field(default=0, ge=0, le=1_000_000, description="Sessions held.")
    people_reached: int = Field(default=0, ge=0, le=10_000_000, description="People reached.")
    hours: Hours = Field(default=0, description='Hours of activity, e.g. "12.5".')

    def to_domain(self) -> Indicators:
        return Indicators(self.sessions, self.people_reached, self.hours)


class ProgressIn(Strict):
    progress: int | None = Field(default=None, ge=0, le=100, description="In percent.")
    note: LongText | None = Field(default=None, description="État d'avancement, in words.")
    actual_cost: Euros | None = Field(default=None, description="What the action cost so far.")
    indicators: IndicatorsIn | None = Field(default=None, description="What it achieved so far.")

    @model_validator(mode="after")
    def _something(self) -> "ProgressIn":
        given = (self.progress, self.note, self.actual_cost, self.indicators)
        if all(value is None for value in given):
            raise ValueError("give progress, note, actual_cost or indicators")
        return self


class ParticipationIn(Strict):
    centre_id: UUID = Field(description="The centre that takes part (the animator's own).")


@router.post("/programmes/{year}/actions", status_code=201)
async def propose_action(
    year: Year, actor: AgencyOrAnimator, body: ActionIn, runtime: Runtime
) -> dict[str, Any]:
    """Add an action to the year's programme (created as a draft if it does not exist);
    an animator proposes one that their centre leads (proposed: the agency plans it)."""
    require_centre(actor, body.lead_centre_id)
    content = body.model_dump(exclude={"participant_ids", "estimated_cost"})
    command = commands.ProposeAction(
        year=year,
        **content,
        participant_ids=tuple(body.participant_ids),
        estimated_cost_cents=body.estimated_cost,
        by=actor.label,
        actor=actor.ref,
    )
    return await action_out(runtime, await runtime.run(handlers.propose_action, command))


@router.get("/actions/{action_id}")
async def get_action(action_id: UUID, runtime: Runtime) -> dict[str, Any]:
    return await action_out(runtime, await found_action(runtime, action_id))


@router.get("/actions/{action_id}/history")
async def action_history(action_id: UUID, runtime: Runtime) -> list[dict[str, Any]]:
    await found_action(runtime, action_id)
    return [history_out(entry) for entry in await runtime.read(lambda r: r.history(action_id))]


@router.patch("/actions/{action_id}")
async def edit_action(
    action_id: UUID, actor: Agency, body: ActionPatch, runtime: Runtime
) -> dict[str, Any]:
    """Change an action's content (programme draft or amending), or name a new lead."""
    changes: dict[str, Any] = {
        name: getattr(body, name) for name in body.model_fields_set if name != "estimated_cost"
    }
    if "estimated_cost" in body.model_fields_set:
        changes["estimated_cost_cents"] = body.estimated_cost
    command = commands.EditAction(action_id, changes, by=actor.label, actor=actor.ref)
    return await action_out(runtime, await runtime.run(handlers.edit_action, command))


@router.post("/actions/{action_id}/participants", summary="Ask to take part")
async def take_part(
    action_id: UUID, actor: AgencyOrAnimator, body: ParticipationIn, runtime: Runtime
) -> dict[str, Any]:
    """A centre takes part in an action (its animator asks; the agency is told by the
    action's update)."""
    require_centre(actor, body.centre_id)
    current = await found_action(runtime, action_id)
    if body.centre_id in current.centre_ids:
        return await action_out(runtime, current)
    changes = {"participant_ids": (*current.participant_ids, body.centre_id)}
    command = commands.EditAction(action_id, changes, by=actor.label, actor=actor.ref)
    return await action_out(runtime, await runtime.run(handlers.edit_action, command))


@router.post("/actions/{action_id}/status")
async def change_status(
    action_id: UUID, actor: Agency, body: StatusIn, runtime: Runtime
) -> dict[str, Any]:
    """proposed → planned → in_progress → done; cancelled unless done."""
    command = commands.ChangeActionStatus(
        action_id, body.status, body.reason, by=actor.label, actor=actor.ref
    )
    return await action_out(runtime, await runtime.run(handlers.change_action_status, command))


@router.patch("/actions/{action_id}/progress")
async def report_progress(
    action_id: UUID, actor: AgencyOrAnimator, body: ProgressIn, runtime: Runtime
) -> dict[str, Any]:
    """État d'avancement: progress in percent, a note, the cost so far (the agency, or an
    animator of the lead centre)."""
    if not actor.has(Role.AGENCY):
        lead = (await found_action(runtime, action_id)).lead_centre_id
        if lead is None or not actor.animates(lead):
            raise forbidden("Only the agency and the animators of the lead centre report it.")
    command = commands.ReportProgress(
        action_id,
        progress=body.progress,
        note=body.note,
        actual_cost_cents=None if body.actual_cost is None else body.actual_cost,
        by=actor.label,
        actor=actor.ref,
        indicators=None if body.indicators is None else body.indicators.to_domain(),
    )
    return await action_out(runtime, await runtime.run(handlers.report_action_progress, command))
