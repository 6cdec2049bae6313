"""What the programme's tests share: the API's prefix and the types of their fixtures."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
from crnt_shared.events import Event

API = "/api/v1"

#: ``seed_centre``: ``(name, status="member") → centre id``.
Seed = Callable[..., Awaitable[UUID]]
#: ``registry_event``: ``(centre_id, name, status, previous) → event``.
Membership = Callable[[UUID, str, str, str], Event]
#: ``new_action``: ``(lead, *participants, **changes) → body``.
ActionBody = Callable[..., dict[str, Any]]
Headers = dict[str, str]


async def propose(
    client: httpx.AsyncClient, agency: Headers, body: dict[str, Any], year: int = 2025
) -> dict[str, Any]:
    """``POST /programmes/{year}/actions``, which must create the action: its body."""
    response = await client.post(f"{API}/programmes/{year}/actions", json=body, headers=agency)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
