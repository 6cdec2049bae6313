"""What the registry's routers share: the runtime of the request, who may call, pages."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from crnt_shared.auth import OPTIONAL_ACTOR, Actor, Role, forbidden, require_centre
from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from crnt_registry.domain import MembershipStatus
from crnt_registry.repository import Page
from crnt_registry.runtime import RegistryRuntime

T = TypeVar("T")

MAX_PAGE = 500
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


def _runtime(request: Request) -> RegistryRuntime:
    runtime: RegistryRuntime = request.app.state.runtime
    return runtime


#: The registry's runtime, which serves the request.
Runtime = Annotated[RegistryRuntime, Depends(_runtime)]

MaybeActor = Annotated[Actor | None, OPTIONAL_ACTOR]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


async def for_centre(runtime: RegistryRuntime, actor: Actor, centre_id: UUID) -> None:
    """The agency, or an animator of this centre while it is a member (checked here, in the
    registry's own data, so that a withdrawn centre's animators are refused at once)."""
    if actor.has(Role.AGENCY):
        return
    require_centre(actor, centre_id, agency_too=False)
    centre = await runtime.read(lambda r: r.centre(centre_id))
    if centre is None or centre.status is not MembershipStatus.MEMBER:
        raise forbidden("Only the animators of a member centre act for it.")


def page(page: Page[T], limit: int, offset: int, view: Callable[[T], Any]) -> dict[str, Any]:
    return {
        "items": [view(item) for item in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }
