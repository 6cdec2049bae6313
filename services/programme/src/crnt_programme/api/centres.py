"""``/centres``: the centres as the programme knows them from the registry's events."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from crnt_programme.api.common import Runtime
from crnt_programme.domain import Membership

router = APIRouter(tags=["centres"])


@router.get("/centres")
async def centres(
    runtime: Runtime,
    status: Annotated[Membership | None, Query(description="Only this status.")] = None,
) -> list[dict[str, Any]]:
    """The centres as the programme knows them from the registry's events."""
    value = None if status is None else status.value
    found = await runtime.read(lambda r: r.all_centres(value))
    return [{"id": str(c.id), "name": c.name, "status": c.status} for c in found]
