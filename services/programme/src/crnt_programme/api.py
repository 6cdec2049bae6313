"""The programme's HTTP API under ``/api/v1``: thin adapters from requests to handlers.

Writes need the agency (a person or its service account), except: the validation, which needs
the steering committee (a COPIL member or its service account); and an animator of a member
centre, who proposes actions their centre leads, has their centre take part in an action, and
reports the progress of the actions their centre leads. Every write records who made it. The
programme, its actions, versions and report are public-sector data: open reads.
Amounts are euros as decimal strings (``"1234.56"``), in and out.
"""

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from crnt_shared.auth import Actor, Role, forbidden, require_centre
from crnt_shared.documents import MEDIA, render
from crnt_shared.http import NotFound
from crnt_shared.money import amount_from_cents, cents_from_amount
from crnt_shared.runtime import ServiceRuntime
from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from crnt_programme import handlers
from crnt_programme.documents import report_document
from crnt_programme.domain import (
    AXIS_LABELS,
    Action,
    ActionStatus,
    Axis,
    Centre,
    Indicators,
    Membership,
    Nature,
    format_hours,
    mean_progress,
    report,
    report_by_centre,
    totals_by_axis,
)
from crnt_programme.repository import HistoryEntry, Programme, Repository, Version
from crnt_programme.settings import ProgrammeSettings

T = TypeVar("T")

Year = Annotated[int, Path(ge=2000, le=2100, description="The programme's year.")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]


_EUROS = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def _euros_to_cents(value: Any) -> int:
    if not isinstance(value, str) or not _EUROS.match(value.strip()):
        raise ValueError(
            'give euros as a string with at most two decimals, such as "1234.56"'
            " (a JSON number could lose cents)"
        )
    return cents_from_amount(value.strip())


#: Euros as a decimal string in JSON (``"1234.56"``, ``"800"``), integer cents once read.
Euros = Annotated[
    int,
    PlainValidator(_euros_to_cents),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _EUROS.pattern,
            "description": 'Euros with at most two decimals, e.g. "1234.56"',
            "examples": ["1234.56"],
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActionIn(_Strict):
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


class ActionPatch(_Strict):
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


class StatusIn(_Strict):
    status: ActionStatus
    reason: LongText | None = None


_HOURS = re.compile(r"^\d{1,6}(\.\d)?$")


def _hours_to_tenths(value: Any) -> int:
    if not isinstance(value, str) or not _HOURS.match(value.strip()):
        raise ValueError('give hours as a string with at most one decimal, such as "12.5"')
    whole, _, tenth = value.strip().partition(".")
    return int(whole) * 10 + int(tenth or 0)


Hours = Annotated[
    int,
    PlainValidator(_hours_to_tenths),
    WithJsonSchema({"type": "string", "pattern": _HOURS.pattern, "examples": ["12.5"]}),
]


class IndicatorsIn(_Strict):
    """Totals so far (not increments): each report replaces the previous figures."""

    sessions: int = Field(default=0, ge=0, le=1_000_000, description="Sessions held.")
    people_reached: int = Field(default=0, ge=0, le=10_000_000, description="People reached.")
    hours: Hours = Field(default=0, description='Hours of activity, e.g. "12.5".')

    def to_domain(self) -> Indicators:
        return Indicators(self.sessions, self.people_reached, self.hours)


class ProgressIn(_Strict):
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


class ParticipationIn(_Strict):
    centre_id: UUID = Field(description="The centre that takes part (the animator's own).")


class ValidationIn(_Strict):
    deciding_body: Text = "Comité de pilotage"
    decided_on: date | None = Field(default=None, description="The meeting's date; today if none.")
    decision_reference: Text | None = None


def build_router(runtime: ServiceRuntime, settings: ProgrammeSettings) -> APIRouter:
    agency = runtime.auth.require(Role.AGENCY)
    copil = runtime.auth.require(Role.COPIL)
    agency_or_animator = runtime.auth.require(Role.AGENCY, Role.ANIMATOR)
    router = APIRouter()

    async def run(handler: Callable[[Any, Any], Awaitable[T]], command: Any) -> T:
        async with runtime.unit_of_work() as uow:
            return await handler(command, uow)

    async def read(query: Callable[[Repository], Awaitable[T]]) -> T:
        async with runtime.pool.acquire() as connection:
            return await query(Repository(connection))

    async def action_out(action: Action) -> dict[str, Any]:
        centres = await read(lambda repository: repository.centres(action.centre_ids))
        return _action(action, centres)

    # Actions

    @router.post("/programmes/{year}/actions", status_code=201, tags=["actions"])
    async def propose_action(
        year: Year, actor: Annotated[Actor, agency_or_animator], body: ActionIn
    ) -> dict[str, Any]:
        """Add an action to the year's programme (created as a draft if it does not exist);
        an animator proposes one that their centre leads (proposed: the agency plans it)."""
        require_centre(actor, body.lead_centre_id)
        command = handlers.ProposeAction(
            year=year,
            axis=body.axis,
            title=body.title,
            description=body.description,
            lead_centre_id=body.lead_centre_id,
            participant_ids=tuple(body.participant_ids),
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            estimated_cost_cents=body.estimated_cost,
            by=actor.label,
            actor=actor.ref,
            nature=body.nature,
        )
        return await action_out(await run(handlers.propose_action, command))

    @router.get("/actions/{action_id}", tags=["actions"])
    async def get_action(action_id: UUID) -> dict[str, Any]:
        return await action_out(await _found(read, action_id))

    @router.get("/actions/{action_id}/history", tags=["actions"])
    async def action_history(action_id: UUID) -> list[dict[str, Any]]:
        await _found(read, action_id)
        return [_history(entry) for entry in await read(lambda r: r.history(action_id))]

    @router.patch("/actions/{action_id}", tags=["actions"])
    async def edit_action(
        action_id: UUID, actor: Annotated[Actor, agency], body: ActionPatch
    ) -> dict[str, Any]:
        """Change an action's content (programme draft or amending), or name a new lead."""
        changes: dict[str, Any] = {
            name: getattr(body, name) for name in body.model_fields_set if name != "estimated_cost"
        }
        if "estimated_cost" in body.model_fields_set:
            changes["estimated_cost_cents"] = body.estimated_cost
        command = handlers.EditAction(action_id, changes, by=actor.label, actor=actor.ref)
        return await action_out(await run(handlers.edit_action, command))

    @router.post("/actions/{action_id}/participants", tags=["actions"], summary="Ask to take part")
    async def take_part(
        action_id: UUID, actor: Annotated[Actor, agency_or_animator], body: ParticipationIn
    ) -> dict[str, Any]:
        """A centre takes part in an action (its animator asks; the agency is told by the
        action's update)."""
        require_centre(actor, body.centre_id)
        current = await _found(read, action_id)
        if body.centre_id in current.centre_ids:
            return await action_out(current)
        changes = {"participant_ids": (*current.participant_ids, body.centre_id)}
        command = handlers.EditAction(action_id, changes, by=actor.label, actor=actor.ref)
        return await action_out(await run(handlers.edit_action, command))

    @router.post("/actions/{action_id}/status", tags=["actions"])
    async def change_status(
        action_id: UUID, actor: Annotated[Actor, agency], body: StatusIn
    ) -> dict[str, Any]:
        """proposed → planned → in_progress → done; cancelled unless done."""
        command = handlers.ChangeActionStatus(
            action_id, body.status, body.reason, by=actor.label, actor=actor.ref
        )
        return await action_out(await run(handlers.change_action_status, command))

    @router.patch("/actions/{action_id}/progress", tags=["actions"])
    async def report_progress(
        action_id: UUID, actor: Annotated[Actor, agency_or_animator], body: ProgressIn
    ) -> dict[str, Any]:
        """État d'avancement: progress in percent, a note, the cost so far (the agency, or an
        animator of the lead centre)."""
        if not actor.has(Role.AGENCY):
            lead = (await _found(read, action_id)).lead_centre_id
            if lead is None or not actor.animates(lead):
                raise forbidden("Only the agency and the animators of the lead centre report it.")
        command = handlers.ReportProgress(
            action_id,
            progress=body.progress,
            note=body.note,
            actual_cost_cents=None if body.actual_cost is None else body.actual_cost,
            by=actor.label,
            actor=actor.ref,
            indicators=None if body.indicators is None else body.indicators.to_domain(),
        )
        return await action_out(await run(handlers.report_action_progress, command))

    # Programmes

    @router.get("/programmes", tags=["programmes"])
    async def list_programmes() -> list[dict[str, Any]]:
        return [_programme(programme) for programme in await read(lambda r: r.years())]

    @router.get("/programmes/{year}", tags=["programmes"])
    async def get_programme(year: Year) -> dict[str, Any]:
        """The programme, its actions, its totals by axis and its validated versions."""
        programme, actions, centres = await _whole(read, year)
        totals = totals_by_axis(actions)
        versions = await read(lambda r: r.versions(year))
        history = await read(lambda r: r.programme_history(year))
        return {
            **_programme(programme),
            "totals_by_axis": {axis.value: amount_from_cents(c) for axis, c in totals.items()},
            "total": amount_from_cents(sum(totals.values())),
            "actions": [_action(action, centres) for action in actions],
            "versions": [_version_summary(version) for version in versions],
            "history": [_history(entry) for entry in history],
        }

    @router.get("/programmes/{year}/report", tags=["programmes"])
    async def programme_report(year: Year) -> dict[str, Any]:
        """By axis and by centre: actions by status, planned vs actual cost, progress (état
        d'avancement) and indicators (sessions, people reached, hours)."""
        programme, actions, centres = await _whole(read, year)
        leads = {a.lead_centre_id for a in actions if a.lead_centre_id is not None}
        named = {**centres, **await read(lambda r: r.centres(leads))}
        return _report(programme, actions, named)

    @router.get(
        "/programmes/{year}/report.{fmt}",
        tags=["programmes"],
        response_class=Response,
        responses={200: {"content": {MEDIA["ods"]: {}, MEDIA["pdf"]: {}}}},
    )
    async def programme_report_document(year: Year, fmt: Literal["ods", "pdf"]) -> Response:
        """The progress and activity report (bilan) of the year, as a spreadsheet or a PDF
        with its charts."""
        programme, actions, centres = await _whole(read, year)
        leads = {a.lead_centre_id for a in actions if a.lead_centre_id is not None}
        named = {**centres, **await read(lambda r: r.centres(leads))}
        content = render(report_document(_report(programme, actions, named)), fmt)
        return Response(
            content,
            media_type=MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="programme-{year}-bilan.{fmt}"'},
        )

    @router.post("/programmes/{year}/submit", tags=["programmes"])
    async def submit(year: Year, actor: Annotated[Actor, agency]) -> dict[str, Any]:
        """Submit the programme (draft or amending) to the steering committee."""
        command = handlers.SubmitProgramme(year, by=actor.label, actor=actor.ref)
        return _programme(await run(handlers.submit_programme, command))

    @router.post("/programmes/{year}/amend", tags=["programmes"])
    async def amend(year: Year, actor: Annotated[Actor, agency]) -> dict[str, Any]:
        """Open an amendment of the validated programme: its actions can change again."""
        command = handlers.AmendProgramme(year, by=actor.label, actor=actor.ref)
        return _programme(await run(handlers.amend_programme, command))

    @router.post("/programmes/{year}/validate", status_code=201, tags=["programmes"])
    async def validate(
        year: Year,
        actor: Annotated[Actor, copil],
        body: Annotated[ValidationIn | None, Body()] = None,
    ) -> dict[str, Any]:
        """The steering committee validates the submitted programme: a new immutable version."""
        given = body or ValidationIn()
        command = handlers.ValidateProgramme(
            year,
            deciding_body=given.deciding_body,
            decided_on=given.decided_on,
            decision_reference=given.decision_reference,
            by=actor.label,
            actor=actor.ref,
        )
        return (await run(handlers.validate_programme, command)).snapshot

    @router.get("/programmes/{year}/versions", tags=["programmes"])
    async def versions(year: Year) -> list[dict[str, Any]]:
        return [_version_summary(version) for version in await read(lambda r: r.versions(year))]

    @router.get("/programmes/{year}/versions/{version}", tags=["programmes"])
    async def version(year: Year, version: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
        """A validated version exactly as the deciding body adopted it."""
        found = await read(lambda r: r.version(year, version))
        if found is None:
            raise NotFound(f"The {year} programme has no validated version {version}.")
        return found.snapshot

    # The membership read model

    @router.get("/centres", tags=["centres"])
    async def centres(
        status: Annotated[Membership | None, Query(description="Only this status.")] = None,
    ) -> list[dict[str, Any]]:
        """The centres as the programme knows them from the registry's events."""
        value = None if status is None else status.value
        found = await read(lambda r: r.all_centres(value))
        return [{"id": str(c.id), "name": c.name, "status": c.status} for c in found]

    return router


def _indicators_out(indicators: Indicators) -> dict[str, Any]:
    return {
        "sessions": indicators.sessions,
        "people_reached": indicators.people_reached,
        "hours": format_hours(indicators.hours_tenths),
    }


def _report(
    programme: Programme, actions: list[Action], centres: dict[UUID, Centre]
) -> dict[str, Any]:
    rows = report(actions)
    overall = Indicators()
    for row in rows:
        overall += row.indicators
    return {
        **_programme(programme),
        "axes": [
            {
                "axis": row.axis.value,
                "label": AXIS_LABELS[row.axis],
                "actions": row.actions,
                "by_status": {status.value: n for status, n in row.by_status.items()},
                "planned_cost": amount_from_cents(row.planned_cents),
                "actual_cost": amount_from_cents(row.actual_cents),
                "progress": row.progress,
                "indicators": _indicators_out(row.indicators),
            }
            for row in rows
        ],
        "centres": [
            {
                "centre_id": None if row.centre_id is None else str(row.centre_id),
                "name": "Actions sans lieu pilote"
                if row.centre_id is None
                else centres[row.centre_id].name
                if row.centre_id in centres
                else str(row.centre_id),
                "actions": row.actions,
                "done": row.done,
                "planned_cost": amount_from_cents(row.planned_cents),
                "actual_cost": amount_from_cents(row.actual_cents),
                "indicators": _indicators_out(row.indicators),
            }
            for row in report_by_centre(actions)
        ],
        "overall": {
            "actions": len(actions),
            "by_status": {
                status.value: sum(row.by_status[status] for row in rows) for status in ActionStatus
            },
            "planned_cost": amount_from_cents(sum(row.planned_cents for row in rows)),
            "actual_cost": amount_from_cents(sum(row.actual_cents for row in rows)),
            "progress": mean_progress(actions),
            "needing_a_lead": sum(1 for action in actions if action.needs_lead),
            "indicators": _indicators_out(overall),
        },
        "actions": [_action(action, centres) for action in actions],
    }


async def _found(read: Callable[[Any], Awaitable[Any]], action_id: UUID) -> Action:
    action = await read(lambda r: r.action(action_id))
    if action is None:
        raise NotFound(f"There is no action {action_id}.")
    assert isinstance(action, Action)
    return action


async def _whole(
    read: Callable[[Any], Awaitable[Any]], year: int
) -> tuple[Programme, list[Action], dict[UUID, Centre]]:
    programme = await read(lambda r: r.programme(year))
    if programme is None:
        raise NotFound(
            f"There is no {year} programme yet: propose its first action with"
            f" POST /api/v1/programmes/{year}/actions."
        )
    actions: list[Action] = await read(lambda r: r.actions(year))
    ids = {centre for action in actions for centre in action.centre_ids}
    centres: dict[UUID, Centre] = await read(lambda r: r.centres(ids))
    return programme, actions, centres


def _action(action: Action, centres: dict[UUID, Centre]) -> dict[str, Any]:
    facts = handlers.action_facts(action, centres).model_dump(mode="json")
    return {**facts, "axis_label": AXIS_LABELS[action.axis]}


def _programme(programme: Programme) -> dict[str, Any]:
    return {
        "year": programme.year,
        "status": programme.status.value,
        "version": programme.version or None,
        "updated_at": programme.updated_at.isoformat(),
    }


def _version_summary(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "validated_at": version.validated_at.isoformat(),
        "decided_on": version.decided_on.isoformat(),
        "deciding_body": version.deciding_body,
        "decision_reference": version.decision_reference,
        "total": version.snapshot.get("total"),
    }


def _history(entry: HistoryEntry) -> dict[str, Any]:
    return {"kind": entry.kind, "by": entry.by, "at": entry.at.isoformat(), **entry.details}
