"""The registry's HTTP API under ``/api/v1``: thin adapters from requests to handlers.

Writes need the agency's token, except ``POST /applications`` (a centre asks to join; without a
token it is rate-limited per client and its addresses must confirm). Reads of centres' and
EPCIs' public facts are open; animators (personal data) and applications need the agency's
token.
"""

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from uuid import UUID

from crnt_shared.auth import Actor, Role, forbidden, person_id_for, require_centre
from crnt_shared.http import Problem, client_address
from crnt_shared.problems import problems
from crnt_shared.ratelimit import RateLimiter, client_bucket
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from crnt_registry import bulk, csv_io, erasure, handlers
from crnt_registry.domain import (
    AnimatorDraft,
    CentreDraft,
    CodeInsee,
    Confirmation,
    MembershipAction,
    MembershipStatus,
    Siren,
    Text,
    needs_confirmation,
    typology_warnings,
)
from crnt_registry.repository import (
    Animator,
    Application,
    Centre,
    Epci,
    HistoryEntry,
    Page,
    Repository,
)
from crnt_registry.runtime import RegistryRuntime
from crnt_registry.settings import RegistrySettings

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
MAX_PAGE = 500

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EpciIn(_Strict):
    siren: Siren
    name: Text
    population: int = Field(ge=0, le=100_000_000)
    communes: list[CodeInsee] = Field(default_factory=list, max_length=5000)

    @field_validator("communes")
    @classmethod
    def _distinct(cls, communes: list[str]) -> list[str]:
        return sorted(set(communes))


class EpciPatch(_Strict):
    name: Text | None = None
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    communes: list[CodeInsee] | None = Field(default=None, max_length=5000)

    @field_validator("communes")
    @classmethod
    def _distinct(cls, communes: list[str] | None) -> list[str] | None:
        return None if communes is None else sorted(set(communes))


class ApplicationIn(_Strict):
    centre: CentreDraft
    animators: list[AnimatorDraft] = Field(min_length=1, max_length=50)


class Decision(_Strict):
    by: Text | None = Field(default=None, description="Who decides, for the record.")


class Reasoned(_Strict):
    reason: Text = Field(description="Why: recorded in the centre's history and told to it.")
    by: Text | None = Field(default=None, description="Who decides, for the record.")


class Approvals(_Strict):
    application_ids: list[UUID] = Field(min_length=1, max_length=bulk.MAX_ITEMS)
    by: Text | None = Field(default=None, description="Who decides, for the record.")


class CentreAnimator(AnimatorDraft):
    centre_id: UUID


class Animators(_Strict):
    animators: list[CentreAnimator] = Field(min_length=1, max_length=bulk.MAX_ITEMS)


class AnimatorPatch(_Strict):
    name: Text | None = None
    email: EmailStr | None = None

    @field_validator("email")
    @classmethod
    def _lowercase(cls, email: str | None) -> str | None:
        return None if email is None else email.lower()


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


def build_router(runtime: RegistryRuntime, settings: RegistrySettings) -> APIRouter:
    router = APIRouter()
    agency = runtime.auth.require(Role.AGENCY)
    #: The agency, or an animator (whose centre each route checks with ``for_centre``).
    agency_or_animator = runtime.auth.require(Role.AGENCY, Role.ANIMATOR)
    maybe_actor = Depends(runtime.auth.optional)

    async def for_centre(actor: Actor, centre_id: UUID) -> None:
        """The agency, or an animator of this centre while it is a member (checked here, in
        the registry's own data, so that a withdrawn centre's animators are refused at once)."""
        if actor.has(Role.AGENCY):
            return
        require_centre(actor, centre_id, agency_too=False)
        centre = await read(lambda r: r.centre(centre_id))
        if centre is None or centre.status is not MembershipStatus.MEMBER:
            raise forbidden("Only the animators of a member centre act for it.")

    policy = runtime.policy

    async def run(handler: Callable[[Any, Any], Awaitable[T]], command: Any) -> T:
        async with runtime.unit_of_work() as uow:
            return await handler(command, uow)

    async def read(query: Callable[[Repository], Awaitable[T]]) -> T:
        async with runtime.pool.acquire() as connection:
            return await query(Repository(connection))

    # EPCIs

    @router.post("/epcis", status_code=201, dependencies=[agency], tags=["epcis"])
    async def register_epci(body: EpciIn) -> dict[str, Any]:
        epci = Epci(body.siren, body.name, body.population, body.communes)
        return _epci(await run(handlers.register_epci, handlers.RegisterEpci(epci)))

    @router.get("/epcis", tags=["epcis"])
    async def list_epcis(limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        page = await read(lambda r: r.epcis(limit=limit, offset=offset))
        return _page(page, limit, offset, _epci)

    @router.get("/epcis/{siren}", tags=["epcis"])
    async def get_epci(siren: str) -> dict[str, Any]:
        epci = await read(lambda r: r.epci(siren))
        if epci is None:
            raise Problem(404, "Not found", f"There is no EPCI with SIREN {siren}.")
        return _epci(epci)

    @router.patch("/epcis/{siren}", dependencies=[agency], tags=["epcis"])
    async def update_epci(siren: str, body: EpciPatch) -> dict[str, Any]:
        command = handlers.UpdateEpci(siren, body.name, body.population, body.communes)
        return _epci(await run(handlers.update_epci, command))

    # Applications

    @router.post(
        "/applications",
        status_code=201,
        tags=["applications"],
        summary="A centre asks to join (anonymous: rate-limited, its addresses must confirm)",
    )
    @problems(409, 429)
    async def submit_application(
        body: ApplicationIn, request: Request, actor: Annotated[Actor | None, maybe_actor]
    ) -> dict[str, Any]:
        submitter = actor
        if needs_confirmation(submitter):
            client = client_bucket(client_address(request, settings.trusted_proxies))
            await RateLimiter(runtime.pool).check(
                f"registry.applications:client:{client}",
                limit=settings.applications_per_client,
                per=settings.applications_client_window,
            )
        command = handlers.SubmitApplication(
            body.centre, body.animators, submitter=submitter, policy=policy
        )
        submitted = await run(handlers.submit_and_commit, command)
        return {
            **_application(submitted.application, submitted.centre),
            "animators": [_animator(a) for a in submitted.animators],
            "warnings": typology_warnings(submitted.centre.facts.typologie),
        }

    @router.get("/applications", dependencies=[agency], tags=["applications"])
    async def list_applications(
        status: ApplicationStatus | None = None,
        confirmation: Annotated[
            Confirmation | None,
            Query(description="`awaiting`: anonymous, no address confirmed yet."),
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
                items.append(_application(application, centre))
            return {"items": items, "total": page.total, "limit": limit, "offset": offset}

        return await read(query)

    @router.get("/applications/{application_id}", dependencies=[agency], tags=["applications"])
    async def get_application(application_id: UUID) -> dict[str, Any]:
        async def query(repository: Repository) -> dict[str, Any]:
            application = await repository.application(application_id)
            if application is None:
                raise Problem(404, "Not found", f"There is no application {application_id}.")
            centre = await repository.centre(application.centre_id)
            assert centre is not None
            animators = await repository.animators(centre.id)
            return {
                **_application(application, centre),
                "animators": [_animator(a) for a in animators],
            }

        return await read(query)

    @router.post("/applications/{application_id}/approve", tags=["applications"])
    async def approve(
        application_id: UUID,
        actor: Annotated[Actor, agency],
        body: Annotated[Decision | None, Body()] = None,
    ) -> dict[str, Any]:
        by = (body.by if body else None) or actor.label
        command = handlers.DecideApplication(
            application_id, MembershipAction.APPROVE, by, by=actor.ref
        )
        centre = await run(handlers.decide_application, command)
        return {"application_id": str(application_id), **_decision(centre)}

    @router.post(
        "/applications/approve",
        tags=["applications"],
        summary="Approve many applications at once (all or nothing)",
    )
    @problems(404, 409)
    async def approve_many(body: Approvals, actor: Annotated[Actor, agency]) -> dict[str, Any]:
        """Each application is approved as ``POST /applications/{id}/approve`` would, in one
        transaction: if one cannot be (unknown, decided, its centre has no animator), none is,
        and the refusal lists each of them."""
        command = bulk.ApproveApplications(
            body.application_ids, body.by or actor.label, by=actor.ref
        )
        centres = await run(bulk.approve_applications, command)
        return {"approved": len(centres), "items": [_decision(c) for c in centres]}

    @router.post("/applications/{application_id}/reject", tags=["applications"])
    async def reject(
        application_id: UUID, actor: Annotated[Actor, agency], body: Reasoned
    ) -> dict[str, Any]:
        command = handlers.DecideApplication(
            application_id,
            MembershipAction.REJECT,
            body.by or actor.label,
            body.reason,
            by=actor.ref,
        )
        centre = await run(handlers.decide_application, command)
        return {"application_id": str(application_id), **_decision(centre)}

    # Centres

    @router.get("/centres", tags=["centres"])
    async def list_centres(
        status: MembershipStatus | None = None,
        epci_siren: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        statuses = None if status is None else [status]
        page = await read(
            lambda r: r.centres(
                statuses=statuses, epci_siren=epci_siren, limit=limit, offset=offset
            )
        )
        return _page(page, limit, offset, _centre)

    @router.get(
        "/centres/export.csv",
        tags=["centres"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
        summary="Member centres in the national standard's CSV",
    )
    async def export_centres() -> Response:
        page = await read(
            lambda r: r.centres(
                statuses=[MembershipStatus.MEMBER], epci_siren=None, limit=None, offset=0
            )
        )
        return Response(
            csv_io.render(page.items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="lieux-mediation-numerique.csv"'},
        )

    @router.post(
        "/centres/import",
        dependencies=[agency],
        tags=["centres"],
        status_code=201,
        summary="Rows of the national standard's CSV become pending applications",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
    )
    @problems(415, 422)
    async def import_centres(request: Request, response: Response, dry_run: bool = False) -> Any:
        if request.headers.get("content-type", "").startswith("multipart/"):
            raise Problem(
                415,
                "Unsupported media type",
                "Send the CSV file itself as the request body with Content-Type: text/csv"
                " (e.g. curl --data-binary @lieux.csv -H 'Content-Type: text/csv').",
            )
        content = await request.body()
        if not content.strip():
            raise Problem(422, "Invalid input", "The body is empty: send the CSV file.")
        try:
            rows, parse_errors = csv_io.parse(content)
        except csv_io.UnreadableFile as error:
            raise Problem(422, "Invalid input", f"The file cannot be read: {error}.") from error
        command = bulk.ImportCentres(
            [bulk.ImportRow(row.line, row.centre) for row in rows],
            dry_run=dry_run or bool(parse_errors),
        )
        report = await run(bulk.import_centres, command)
        errors = sorted([(error.line, error.reason) for error in parse_errors] + report.errors)
        if errors:
            lines = ", ".join(str(line) for line, _ in errors[:20])
            raise Problem(
                422,
                "Invalid input",
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

    @router.get("/centres/{centre_id}", tags=["centres"])
    async def get_centre(
        centre_id: UUID, actor: Annotated[Actor | None, maybe_actor]
    ) -> dict[str, Any]:
        """Public facts and history; the agency and the centre's animators also see who made
        each change and the animators."""
        personal = actor is not None and (actor.has(Role.AGENCY) or actor.animates(centre_id))

        async def query(repository: Repository) -> dict[str, Any]:
            centre = await repository.centre(centre_id)
            if centre is None:
                raise Problem(
                    404, "Not found", f"There is no centre {centre_id}: list them at /centres."
                )
            history = await repository.history(centre_id)
            body = _centre(centre)
            body["history"] = [_history(entry, personal) for entry in history]
            if personal:
                body["animators"] = [_animator(a) for a in await repository.animators(centre_id)]
            return body

        return await read(query)

    @router.patch("/centres/{centre_id}", tags=["centres"])
    async def update_centre(
        centre_id: UUID,
        actor: Annotated[Actor, agency_or_animator],
        changes: Annotated[
            dict[str, Any],
            Body(
                description="Any fields of the centre (those of POST /applications' centre)",
                examples=[{"workstations": 12}],
            ),
        ],
    ) -> dict[str, Any]:
        """The agency changes any field; an animator of the centre its own facts only
        (workstations, opening hours, services, contact and presentation fields)."""
        await for_centre(actor, centre_id)
        if not actor.has(Role.AGENCY):
            others = sorted(set(changes) - ANIMATOR_EDITABLE)
            if others:
                raise forbidden(
                    f"An animator changes the centre's own facts only; {', '.join(others)}"
                    " can be changed by the agency."
                )
        command = handlers.UpdateCentre(centre_id, changes, by=actor.ref)
        return _centre(await run(handlers.update_centre, command))

    for action in (MembershipAction.SUSPEND, MembershipAction.REINSTATE, MembershipAction.WITHDRAW):
        _membership_route(router, agency, run, action)

    # Animators

    @router.get("/centres/{centre_id}/animators", tags=["animators"])
    async def list_animators(
        centre_id: UUID, actor: Annotated[Actor, agency_or_animator]
    ) -> dict[str, Any]:
        await for_centre(actor, centre_id)

        async def query(repository: Repository) -> list[Animator]:
            if await repository.centre(centre_id) is None:
                raise Problem(404, "Not found", f"There is no centre {centre_id}.")
            return await repository.animators(centre_id)

        animators = await read(query)
        return {"items": [_animator(a) for a in animators], "total": len(animators)}

    @router.post(
        "/centres/{centre_id}/animators",
        status_code=201,
        tags=["animators"],
    )
    async def add_animator(
        centre_id: UUID, actor: Annotated[Actor, agency_or_animator], body: AnimatorDraft
    ) -> dict[str, Any]:
        """The agency, or an animator of the centre, adds a colleague."""
        await for_centre(actor, centre_id)
        command = handlers.AddAnimator(centre_id, body, by=actor.ref)
        animator = await run(handlers.add_animator, command)
        return _animator(animator)

    @router.post("/animators", status_code=201, tags=["animators"])
    @problems(404, 409)
    async def add_animators(body: Animators, actor: Annotated[Actor, agency]) -> dict[str, Any]:
        """The agency adds animators to many centres at once (all or nothing), as
        ``POST /centres/{id}/animators`` would for each."""
        command = bulk.AddAnimators(
            [bulk.NewAnimator(animator.centre_id, animator) for animator in body.animators],
            by=actor.ref,
        )
        added = await run(bulk.add_animators, command)
        return {
            "added": len(added),
            "items": [{**_animator(a), "centre_id": str(a.centre_id)} for a in added],
        }

    @router.patch(
        "/centres/{centre_id}/animators/{animator_id}",
        tags=["animators"],
    )
    async def update_animator(
        centre_id: UUID,
        animator_id: UUID,
        actor: Annotated[Actor, agency_or_animator],
        body: AnimatorPatch,
    ) -> dict[str, Any]:
        await for_centre(actor, centre_id)
        command = handlers.UpdateAnimator(
            centre_id, animator_id, body.name, body.email, by=actor.ref
        )
        return _animator(await run(handlers.update_animator, command))

    @router.delete(
        "/centres/{centre_id}/animators/{animator_id}",
        status_code=204,
        tags=["animators"],
    )
    async def remove_animator(
        centre_id: UUID, animator_id: UUID, actor: Annotated[Actor, agency_or_animator]
    ) -> Response:
        """The agency, or an animator of the centre, removes a colleague (not themselves)."""
        await for_centre(actor, centre_id)
        if not actor.has(Role.AGENCY):
            animators = await read(lambda r: r.animators(centre_id))
            if any(
                a.id == animator_id and str(person_id_for(a.email)) == actor.id for a in animators
            ):
                raise forbidden(
                    "An animator cannot remove themselves: ask a colleague or the agency."
                )
        command = handlers.RemoveAnimator(centre_id, animator_id, by=actor.ref)
        await run(handlers.remove_animator, command)
        return Response(status_code=204)

    @router.post(
        "/centres/{centre_id}/animators/{animator_id}/erasure",
        tags=["animators"],
    )
    async def erase_animator(
        centre_id: UUID, animator_id: UUID, actor: Annotated[Actor, agency]
    ) -> dict[str, Any]:
        """The agency erases an animator of a rejected, expired or withdrawn centre (RGPD): the
        registry keeps a pseudonym, and every service erases its copies on the event it
        publishes. Erasing again changes nothing."""
        command = erasure.EraseAnimator(centre_id, animator_id, by=actor.ref)
        erased = await run(erasure.erase_animator, command)
        return {
            "animator_id": str(erased.animator_id),
            "centre_id": str(erased.centre_id),
            "erased": True,
            "already": not erased.now,
        }

    return router


def _membership_route(
    router: APIRouter,
    agency: Any,
    run: Callable[[Any, Any], Awaitable[Any]],
    action: MembershipAction,
) -> None:
    async def change(
        centre_id: UUID, actor: Annotated[Actor, agency], body: Reasoned
    ) -> dict[str, Any]:
        command = handlers.ChangeMembership(
            centre_id, action, body.by or actor.label, body.reason, by=actor.ref
        )
        centre = await run(handlers.change_membership, command)
        return _decision(centre)

    router.add_api_route(
        f"/centres/{{centre_id}}/{action.value}",
        change,
        methods=["POST"],
        tags=["membership"],
        name=f"{action.value}_centre",
        summary=f"{action.value.capitalize()} a centre's membership",
    )


# Views


def _page(page: Page[T], limit: int, offset: int, view: Callable[[T], Any]) -> dict[str, Any]:
    return {
        "items": [view(item) for item in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


def _epci(epci: Epci) -> dict[str, Any]:
    return {
        "siren": epci.siren,
        "name": epci.name,
        "population": epci.population,
        "communes": epci.communes,
    }


def _centre(centre: Centre) -> dict[str, Any]:
    facts = centre.facts.model_dump(mode="json")
    return {
        "id": str(centre.id),
        "status": centre.status.value,
        **facts,
        "epci_siren": centre.epci_siren,
        "epci_name": centre.epci_name,
        "date_maj": centre.date_maj.isoformat(),
        "created_at": centre.created_at.isoformat(),
        "updated_at": centre.updated_at.isoformat(),
        "member_since": centre.member_since.isoformat() if centre.member_since else None,
    }


def _decision(centre: Centre) -> dict[str, Any]:
    return {"centre_id": str(centre.id), "status": centre.status.value, "centre": _centre(centre)}


def _application(application: Application, centre: Centre) -> dict[str, Any]:
    return {
        "id": str(application.id),
        "status": application.status,
        "centre_id": str(application.centre_id),
        "channel": application.channel,
        "submitted_at": application.submitted_at.isoformat(),
        "decided_at": application.decided_at.isoformat() if application.decided_at else None,
        "decided_by": application.decided_by,
        "reason": application.reason,
        "confirmation": application.confirmation.value,
        "expires_at": application.expires_at.isoformat() if application.expires_at else None,
        "centre": _centre(centre),
    }


def _animator(animator: Animator) -> dict[str, Any]:
    return {
        "id": str(animator.id),
        "name": animator.name,
        "email": animator.email,
        "confirmed": animator.confirmed,
        "confirmed_at": animator.confirmed_at.isoformat() if animator.confirmed_at else None,
    }


def _history(entry: HistoryEntry, personal: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "action": entry.action,
        "previous_status": entry.previous_status,
        "status": entry.status,
        "reason": entry.reason,
        "at": entry.at.isoformat(),
    }
    if personal:
        view["by"] = entry.actor
        view["by_actor"] = entry.actor_ref
    return view
