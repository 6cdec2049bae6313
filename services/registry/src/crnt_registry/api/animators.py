"""``/centres/{id}/animators`` and ``/animators``: a centre's animators (personal data: the
agency and the centre's animators read them), added, changed, removed and erased (RGPD)."""

from typing import Any
from uuid import UUID

from crnt_shared.auth import Role, forbidden, person_id_for
from crnt_shared.callers import Agency, AgencyOrAnimator
from crnt_shared.errors import NotFound
from crnt_shared.problems import problems
from fastapi import APIRouter, Response
from pydantic import EmailStr, Field, field_validator

from crnt_registry import commands, handlers
from crnt_registry.api.common import Runtime, Strict, for_centre
from crnt_registry.api.views import animator_out
from crnt_registry.domain import AnimatorDraft, Text
from crnt_registry.repository import Animator, Repository

router = APIRouter(tags=["animators"])


class CentreAnimator(AnimatorDraft):
    centre_id: UUID


class Animators(Strict):
    animators: list[CentreAnimator] = Field(min_length=1, max_length=commands.MAX_ITEMS)


class AnimatorPatch(Strict):
    name: Text | None = None
    email: EmailStr | None = None

    @field_validator("email")
    @classmethod
    def _lowercase(cls, email: str | None) -> str | None:
        return None if email is None else email.lower()


@router.get("/centres/{centre_id}/animators")
async def list_animators(
    centre_id: UUID, actor: AgencyOrAnimator, runtime: Runtime
) -> dict[str, Any]:
    await for_centre(runtime, actor, centre_id)

    async def query(repository: Repository) -> list[Animator]:
        if await repository.centre(centre_id) is None:
            raise NotFound(f"There is no centre {centre_id}.")
        return await repository.animators(centre_id)

    animators = await runtime.read(query)
    return {"items": [animator_out(a) for a in animators], "total": len(animators)}


@router.post("/centres/{centre_id}/animators", status_code=201)
async def add_animator(
    centre_id: UUID, actor: AgencyOrAnimator, body: AnimatorDraft, runtime: Runtime
) -> dict[str, Any]:
    """The agency, or an animator of the centre, adds a colleague."""
    await for_centre(runtime, actor, centre_id)
    command = commands.AddAnimator(centre_id, body, actor=actor.ref)
    return animator_out(await runtime.run(handlers.add_animator, command))


@router.post("/animators", status_code=201)
@problems(404, 409)
async def add_animators(body: Animators, actor: Agency, runtime: Runtime) -> dict[str, Any]:
    """The agency adds animators to many centres at once (all or nothing), as
    ``POST /centres/{id}/animators`` would for each."""
    command = commands.AddAnimators(
        [commands.NewAnimator(animator.centre_id, animator) for animator in body.animators],
        actor=actor.ref,
    )
    added = await runtime.run(handlers.add_animators, command)
    return {
        "added": len(added),
        "items": [{**animator_out(a), "centre_id": str(a.centre_id)} for a in added],
    }


@router.patch("/centres/{centre_id}/animators/{animator_id}")
async def update_animator(
    centre_id: UUID,
    animator_id: UUID,
    actor: AgencyOrAnimator,
    body: AnimatorPatch,
    runtime: Runtime,
) -> dict[str, Any]:
    await for_centre(runtime, actor, centre_id)
    command = commands.UpdateAnimator(
        centre_id, animator_id, body.name, body.email, actor=actor.ref
    )
    return animator_out(await runtime.run(handlers.update_animator, command))


@router.delete("/centres/{centre_id}/animators/{animator_id}", status_code=204)
async def remove_animator(
    centre_id: UUID, animator_id: UUID, actor: AgencyOrAnimator, runtime: Runtime
) -> Response:
    """The agency, or an animator of the centre, removes a colleague (not themselves)."""
    await for_centre(runtime, actor, centre_id)
    if not actor.has(Role.AGENCY):
        animators = await runtime.read(lambda r: r.animators(centre_id))
        if any(a.id == animator_id and str(person_id_for(a.email)) == actor.id for a in animators):
            raise forbidden("An animator cannot remove themselves: ask a colleague or the agency.")
    command = commands.RemoveAnimator(centre_id, animator_id, actor=actor.ref)
    await runtime.run(handlers.remove_animator, command)
    return Response(status_code=204)


@router.post("/centres/{centre_id}/animators/{animator_id}/erasure")
async def erase_animator(
    centre_id: UUID, animator_id: UUID, actor: Agency, runtime: Runtime
) -> dict[str, Any]:
    """The agency erases an animator of a rejected, expired or withdrawn centre (RGPD): the
    registry keeps a pseudonym, and every service erases its copies on the event it
    publishes. Erasing again changes nothing."""
    command = commands.EraseAnimator(centre_id, animator_id, actor=actor.ref)
    erased = await runtime.run(handlers.erase_animator, command)
    return {
        "animator_id": str(erased.animator_id),
        "centre_id": str(erased.centre_id),
        "erased": True,
        "already": not erased.now,
    }
