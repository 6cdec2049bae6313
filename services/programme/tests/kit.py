"""What the programme's tests share: the API's prefix, the types of their fixtures, and the
bodies and events they send."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from uuid import UUID

import httpx
from crnt_shared.contracts.registry import (
    MembershipApproved,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.events import Event
from crnt_shared.testing import centre_facts
from crnt_shared.testing import membership_event as membership_event_of

API = "/api/v1"

#: ``seed_centre``: ``(name, status="member") → centre id``.
Seed = Callable[..., Awaitable[UUID]]
Headers = dict[str, str]


async def propose(
    client: httpx.AsyncClient, agency: Headers, body: dict[str, Any], year: int = 2025
) -> dict[str, Any]:
    """``POST /programmes/{year}/actions``, which must create the action: its body."""
    response = await client.post(f"{API}/programmes/{year}/actions", json=body, headers=agency)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def new_action(lead: UUID, *participants: UUID, **changes: Any) -> dict[str, Any]:
    """The body of ``POST /programmes/{year}/actions`` for an action of 2025 that ``lead`` leads
    with ``participants``, with ``changes``."""
    body: dict[str, Any] = {
        "axis": "ateliers",
        "title": "Ateliers « premiers pas »",
        "description": "Huit ateliers d'initiation dans les centres du réseau.",
        "lead_centre_id": str(lead),
        "participant_ids": [str(centre) for centre in participants],
        "starts_on": date(2025, 3, 1).isoformat(),
        "ends_on": date(2025, 6, 30).isoformat(),
        "estimated_cost": "1500.00",
    }
    body.update(changes)
    return body


MEMBERSHIP_EVENT: dict[str, type[Event]] = {
    "member": MembershipApproved,
    "suspended": MembershipSuspended,
    "withdrawn": MembershipWithdrawn,
}


def membership_event(centre_id: UUID, name: str, status: str, previous: str) -> Event:
    """The registry's event for a centre's new membership status."""
    centre = centre_facts(
        name,
        status=status,
        id=centre_id,
        pivot="12345678900011",
        adresse="1 rue de la Paix",
        code_postal="62500",
        commune="Saint-Omer",
        code_insee="62765",
        workstations=8,
    )
    return membership_event_of(MEMBERSHIP_EVENT[status], centre, previous=previous)
