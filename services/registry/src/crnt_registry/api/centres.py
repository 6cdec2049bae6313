"""``/centres``: their public facts and history (open reads), the national standard's CSV out
and in, their facts changed by the agency or their animators; their membership changed by
the agency (:mod:`crnt_registry.api.membership`)."""

from typing import Annotated, Any
from uuid import UUID

from crnt_shared.auth import Role, forbidden
from crnt_shared.callers import AGENCY, AgencyOrAnimator
from crnt_shared.errors import Invalid, NotFound
from crnt_shared.http import Problem
from crnt_shared.problems import problems
from fastapi import APIRouter, Body, Request, Response

from crnt_registry import commands, csv_io, handlers
from crnt_registry.api.common import Limit, MaybeActor, Offset, Runtime, for_centre, page
from crnt_registry.api.views import animator_out, centre_out, history_out
from crnt_registry.domain import MembershipStatus, typology_warnings
from crnt_registry.repository import Repository

#: What an animator of a centre may change of it: its own facts, never its identity or EPCI.
ANIMATOR_EDITABLE = frozenset(
    {
        "workstations",
        "horaires",
        "services",
        "telephone",
        "courriels",
        "site_web",
        "presentation_resume",
        "presentation_detail",
    }
)

router = APIRouter(tags=["centres"])


@router.get("/centres")
async def list_centres(
    runtime: Runtime,
    status: MembershipStatus | None = None,
    epci_siren: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    statuses = None if status is None else [status]
    found = await runtime.read(
        lambda r: r.centres(statuses=statuses, epci_siren=epci_siren, limit=limit, offset=offset)
    )
    return page(found, limit, offset, centre_out)


@router.get(
    "/centres/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Member centres in the national standard's CSV",
)
async def export_centres(runtime: Runtime) -> Response:
    found = await runtime.read(
        lambda r: r.centres(
            statuses=[MembershipStatus.MEMBER], epci_siren=None, limit=None, offset=0
        )
    )
    return Response(
        csv_io.render(found.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lieux-mediation-numerique.csv"'},
    )


@router.post(
    "/centres/import",
    dependencies=[AGENCY],
    status_code=201,
    summary="Rows of the national standard's CSV become pending applications",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
@problems(415, 422)
async def import_centres(
    request: Request, response: Response, runtime: Runtime, dry_run: bool = False
) -> Any:
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise Problem(
            415,
            "Unsupported media type",
            "Send the CSV file itself as the request body with Content-Type: text/csv"
            " (e.g. curl --data-binary @lieux.csv -H 'Content-Type: text/csv').",
        )
    content = await request.body()
    if not content.strip():
        raise Invalid("The body is empty: send the CSV file.")
    try:
        rows, parse_errors = csv_io.parse(content)
    except csv_io.UnreadableFile as error:
        raise Invalid(f"The file cannot be read: {error}.") from error
    command = commands.ImportCentres(rows, dry_run=dry_run or bool(parse_errors))
    report = await runtime.run(handlers.import_centres, command)
    errors = sorted([*parse_errors, *report.errors])
    if errors:
        lines = ", ".join(str(line) for line, _ in errors[:20])
        raise Invalid(
            f"{len(errors)} row(s) are not valid (line(s) {lines}); nothing was imported."
            " Fix them, or remove them, and send the file again.",
            errors=[{"line": line, "reason": reason} for line, reason in errors],
        )
    if dry_run:
        response.status_code = 200
    return {
        "dry_run": dry_run,
        "imported": 0 if dry_run else len(report.imported),
        "valid": len(report.imported),
        "applications": [
            {
                "line": line,
                "application_id": None if dry_run else str(item.application.id),
                "centre_id": None if dry_run else str(item.centre.id),
                "nom": item.centre.facts.nom,
                "epci_siren": item.centre.epci_siren,
                "warnings": typology_warnings(item.centre.facts.typologie),
            }
            for line, item in report.imported
        ],
    }


@router.get("/centres/{centre_id}")
async def get_centre(centre_id: UUID, actor: MaybeActor, runtime: Runtime) -> dict[str, Any]:
    """Public facts and history; the agency and the centre's animators also see who made
    each change and the animators."""
    personal = actor is not None and (actor.has(Role.AGENCY) or actor.animates(centre_id))

    async def query(repository: Repository) -> dict[str, Any]:
        centre = await repository.centre(centre_id)
        if centre is None:
            raise NotFound(f"There is no centre {centre_id}: list them at /centres.")
        history = await repository.history(centre_id)
        body = centre_out(centre)
        body["history"] = [history_out(entry, personal) for entry in history]
        if personal:
            body["animators"] = [animator_out(a) for a in await repository.animators(centre_id)]
        return body

    return await runtime.read(query)


@router.patch("/centres/{centre_id}")
async def update_centre(
    centre_id: UUID,
    actor: AgencyOrAnimator,
    changes: Annotated[
        dict[str, Any],
        Body(
            description="Any fields of the centre (those of POST /applications' centre)",
            examples=[{"workstations": 12}],
        ),
    ],
    runtime: Runtime,
) -> dict[str, Any]:
    """The agency changes any field; an animator of the centre its own facts only
    (workstations, opening hours, services, contact and presentation fields)."""
    await for_centre(runtime, actor, centre_id)
    if not actor.has(Role.AGENCY):
        others = sorted(set(changes) - ANIMATOR_EDITABLE)
        if others:
            raise forbidden(
                f"An animator changes the centre's own facts only; {', '.join(others)}"
                " can be changed by the agency."
            )
    command = commands.UpdateCentre(centre_id, changes, actor=actor.ref)
    return centre_out(await runtime.run(handlers.update_centre, command))
