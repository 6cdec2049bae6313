"""``/applications``: a centre asks to join (anonymous: rate-limited, its addresses must
confirm); the agency reads them and decides, one at a time or many at once."""

from typing import Annotated, Any
from uuid import UUID

from crnt_shared.callers import AGENCY, Agency
from crnt_shared.errors import NotFound
from crnt_shared.http import client_address
from crnt_shared.problems import problems
from crnt_shared.ratelimit import RateLimiter, client_bucket
from crnt_shared.vocabularies import ApplicationStatus as ApplicationStatus
from fastapi import APIRouter, Body, Query, Request
from pydantic import Field

from crnt_registry import commands, handlers
from crnt_registry.api.common import Limit, MaybeActor, Offset, Runtime, Strict
from crnt_registry.api.views import animator_out, application_out, decision_out
from crnt_registry.domain import (
    AnimatorDraft,
    CentreDraft,
    Confirmation,
    MembershipAction,
    Text,
    needs_confirmation,
    typology_warnings,
)
from crnt_registry.repository import Repository

router = APIRouter(tags=["applications"])


class ApplicationIn(Strict):
    centre: CentreDraft
    animators: list[AnimatorDraft] = Field(min_length=1, max_length=50)


class Decision(Strict):
    by: Text | None = Field(default=None, description="Who decides, for the record.")


class Reasoned(Strict):
    reason: Text = Field(description="Why: recorded in the centre's history and told to it.")
    by: Text | None = Field(default=None, description="Who decides, for the record.")


class Approvals(Strict):
    application_ids: list[UUID] = Field(min_length=1, max_length=commands.MAX_ITEMS)
    by: Text | None = Field(default=None, description="Who decides, for the record.")


@router.post(
    "/applications",
    status_code=201,
    summary="A centre asks to join (anonymous: rate-limited, its addresses must confirm)",
)
@problems(409, 429)
async def submit_application(
    body: ApplicationIn, request: Request, actor: MaybeActor, runtime: Runtime
) -> dict[str, Any]:
    submitter = actor
    settings = runtime.settings
    if needs_confirmation(submitter):
        client = client_bucket(client_address(request, settings.trusted_proxies))
        await RateLimiter(runtime.pool).check(
            f"registry.applications:client:{client}",
            limit=settings.applications_per_client,
            per=settings.applications_client_window,
        )
    command = commands.SubmitApplication(
        body.centre, body.animators, submitter=submitter, policy=runtime.policy
    )
    submitted = await runtime.run(handlers.submit_and_commit, command)
    return {
        **application_out(submitted.application, submitted.centre),
        "animators": [animator_out(a) for a in submitted.animators],
        "warnings": typology_warnings(submitted.centre.facts.typologie),
    }


@router.get("/applications", dependencies=[AGENCY])
async def list_applications(
    runtime: Runtime,
    status: ApplicationStatus | None = None,
    confirmation: Annotated[
        Confirmation | None, Query(description="`awaiting`: anonymous, no address confirmed yet.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async def query(repository: Repository) -> dict[str, Any]:
        page = await repository.applications(
            status=None if status is None else status.value,
            confirmation=None if confirmation is None else confirmation.value,
            limit=limit,
            offset=offset,
        )
        items = []
        for application in page.items:
            centre = await repository.centre(application.centre_id)
            assert centre is not None
            items.append(application_out(application, centre))
        return {"items": items, "total": page.total, "limit": limit, "offset": offset}

    return await runtime.read(query)


@router.get("/applications/{application_id}", dependencies=[AGENCY])
async def get_application(application_id: UUID, runtime: Runtime) -> dict[str, Any]:
    async def query(repository: Repository) -> dict[str, Any]:
        application = await repository.application(application_id)
        if application is None:
            raise NotFound(f"There is no application {application_id}.")
        centre = await repository.centre(application.centre_id)
        assert centre is not None
        animators = await repository.animators(centre.id)
        return {
            **application_out(application, centre),
            "animators": [animator_out(a) for a in animators],
        }

    return await runtime.read(query)


@router.post("/applications/{application_id}/approve")
async def approve(
    application_id: UUID,
    actor: Agency,
    runtime: Runtime,
    body: Annotated[Decision | None, Body()] = None,
) -> dict[str, Any]:
    by = (body.by if body else None) or actor.label
    command = commands.DecideApplication(
        application_id, MembershipAction.APPROVE, by, actor=actor.ref
    )
    centre = await runtime.run(handlers.decide_application, command)
    return {"application_id": str(application_id), **decision_out(centre)}


@router.post("/applications/approve", summary="Approve many applications at once (all or nothing)")
@problems(404, 409)
async def approve_many(body: Approvals, actor: Agency, runtime: Runtime) -> dict[str, Any]:
    """Each application is approved as ``POST /applications/{id}/approve`` would, in one
    transaction: if one cannot be (unknown, decided, its centre has no animator), none is,
    and the refusal lists each of them."""
    command = commands.ApproveApplications(
        body.application_ids, body.by or actor.label, actor=actor.ref
    )
    centres = await runtime.run(handlers.approve_applications, command)
    return {"approved": len(centres), "items": [decision_out(c) for c in centres]}


@router.post("/applications/{application_id}/reject")
async def reject(
    application_id: UUID, actor: Agency, body: Reasoned, runtime: Runtime
) -> dict[str, Any]:
    command = commands.DecideApplication(
        application_id,
        MembershipAction.REJECT,
        body.by or actor.label,
        body.reason,
        actor=actor.ref,
    )
    centre = await runtime.run(handlers.decide_application, command)
    return {"application_id": str(application_id), **decision_out(centre)}
