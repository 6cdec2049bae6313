"""``/centres/{id}/suspend``, ``reinstate`` and ``withdraw``: the agency changes a member
centre's membership, saying why."""

from typing import Any
from uuid import UUID

from crnt_shared.callers import Agency
from fastapi import APIRouter

from crnt_registry import commands, handlers
from crnt_registry.api.applications import Reasoned
from crnt_registry.api.common import Runtime
from crnt_registry.api.views import decision_out
from crnt_registry.domain import MembershipAction

router = APIRouter(tags=["membership"])


def _membership_route(action: MembershipAction) -> None:
    async def change(
        centre_id: UUID, actor: Agency, body: Reasoned, runtime: Runtime
    ) -> dict[str, Any]:
        command = commands.ChangeMembership(
            centre_id, action, body.by or actor.label, body.reason, actor=actor.ref
        )
        return decision_out(await runtime.run(handlers.change_membership, command))

    router.add_api_route(
        f"/centres/{{centre_id}}/{action.value}",
        change,
        methods=["POST"],
        name=f"{action.value}_centre",
        summary=f"{action.value.capitalize()} a centre's membership",
    )


for _action in (MembershipAction.SUSPEND, MembershipAction.REINSTATE, MembershipAction.WITHDRAW):
    _membership_route(_action)
