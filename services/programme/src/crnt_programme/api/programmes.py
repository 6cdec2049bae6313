"""``/programmes``: the year's programme (open reads: its actions, totals, versions, history
and report), submitted and amended by the agency, validated by the steering committee."""

from datetime import date
from typing import Annotated, Any, Literal

from crnt_shared.callers import Agency, Copil
from crnt_shared.documents import MEDIA, render
from crnt_shared.errors import NotFound
from crnt_shared.money import amount_from_cents
from fastapi import APIRouter, Body, Path, Response
from pydantic import Field

from crnt_programme import commands, handlers
from crnt_programme.api.common import ProgrammeRuntime, Runtime, Strict, Text, Year
from crnt_programme.api.documents import report_document
from crnt_programme.api.views import (
    action_view,
    history_out,
    programme_out,
    report_out,
    version_summary,
    whole_programme,
)
from crnt_programme.domain import totals_by_axis

router = APIRouter(tags=["programmes"])


class ValidationIn(Strict):
    deciding_body: Text = "Comité de pilotage"
    decided_on: date | None = Field(default=None, description="The meeting's date; today if none.")
    decision_reference: Text | None = None


@router.get("/programmes")
async def list_programmes(runtime: Runtime) -> list[dict[str, Any]]:
    return [programme_out(programme) for programme in await runtime.read(lambda r: r.years())]


@router.get("/programmes/{year}")
async def get_programme(year: Year, runtime: Runtime) -> dict[str, Any]:
    """The programme, its actions, its totals by axis and its validated versions."""
    programme, actions, centres = await whole_programme(runtime, year)
    totals = totals_by_axis(actions)
    versions = await runtime.read(lambda r: r.versions(year))
    history = await runtime.read(lambda r: r.programme_history(year))
    return {
        **programme_out(programme),
        "totals_by_axis": {axis.value: amount_from_cents(c) for axis, c in totals.items()},
        "total": amount_from_cents(sum(totals.values())),
        "actions": [action_view(action, centres) for action in actions],
        "versions": [version_summary(version) for version in versions],
        "history": [history_out(entry) for entry in history],
    }


@router.get("/programmes/{year}/report")
async def programme_report(year: Year, runtime: Runtime) -> dict[str, Any]:
    """By axis and by centre: actions by status, planned vs actual cost, progress (état
    d'avancement) and indicators (sessions, people reached, hours)."""
    return await _report(runtime, year)


@router.get(
    "/programmes/{year}/report.{fmt}",
    response_class=Response,
    responses={200: {"content": {MEDIA["ods"]: {}, MEDIA["pdf"]: {}}}},
)
async def programme_report_document(
    year: Year, fmt: Literal["ods", "pdf"], runtime: Runtime
) -> Response:
    """The progress and activity report (bilan) of the year, as a spreadsheet or a PDF
    with its charts."""
    content = render(report_document(await _report(runtime, year)), fmt)
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="programme-{year}-bilan.{fmt}"'},
    )


async def _report(runtime: ProgrammeRuntime, year: int) -> dict[str, Any]:
    """The report's body, with the name of every lead centre (those that left too)."""
    programme, actions, centres = await whole_programme(runtime, year)
    leads = {a.lead_centre_id for a in actions if a.lead_centre_id is not None}
    named = {**centres, **await runtime.read(lambda r: r.centres(leads))}
    return report_out(programme, actions, named)


@router.post("/programmes/{year}/submit")
async def submit(year: Year, actor: Agency, runtime: Runtime) -> dict[str, Any]:
    """Submit the programme (draft or amending) to the steering committee."""
    command = commands.SubmitProgramme(year, by=actor.label, actor=actor.ref)
    return programme_out(await runtime.run(handlers.submit_programme, command))


@router.post("/programmes/{year}/amend")
async def amend(year: Year, actor: Agency, runtime: Runtime) -> dict[str, Any]:
    """Open an amendment of the validated programme: its actions can change again."""
    command = commands.AmendProgramme(year, by=actor.label, actor=actor.ref)
    return programme_out(await runtime.run(handlers.amend_programme, command))


@router.post("/programmes/{year}/validate", status_code=201)
async def validate(
    year: Year, actor: Copil, runtime: Runtime, body: Annotated[ValidationIn | None, Body()] = None
) -> dict[str, Any]:
    """The steering committee validates the submitted programme: a new immutable version."""
    given = body or ValidationIn()
    command = commands.ValidateProgramme(
        year, **given.model_dump(), by=actor.label, actor=actor.ref
    )
    return (await runtime.run(handlers.validate_programme, command)).snapshot


@router.get("/programmes/{year}/versions")
async def versions(year: Year, runtime: Runtime) -> list[dict[str, Any]]:
    return [version_summary(version) for version in await runtime.read(lambda r: r.versions(year))]


@router.get("/programmes/{year}/versions/{version}")
async def version(
    year: Year, version: Annotated[int, Path(ge=1)], runtime: Runtime
) -> dict[str, Any]:
    """A validated version exactly as the deciding body adopted it."""
    found = await runtime.read(lambda r: r.version(year, version))
    if found is None:
        raise NotFound(f"The {year} programme has no validated version {version}.")
    return found.snapshot
