"""The deliveries API: the agency's token, filters, pages, and problems for bad input."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.testing import wait_until

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    Publish,
    suspensions,
)

pytestmark = pytest.mark.integration

API = "/api/v1"


async def test_deliveries_are_listed_filtered_and_paged(
    publish: Publish, mail: MailCatcher, client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    events = suspensions(*((f"x{n}@lieu.example", f"y{n}@lieu.example") for n in range(3)))
    await publish.registry(*events)

    async def all_sent() -> bool:
        page = await client.get(f"{API}/deliveries", params={"status": "sent"}, headers=agency)
        return bool(page.json()["total"] == 9)

    await wait_until(all_sent, message="9 deliveries sent")

    async def listed(**params: str | int) -> Any:
        response = await client.get(f"{API}/deliveries", params=params, headers=agency)
        assert response.status_code == 200, response.text
        return response.json()

    assert (await listed(recipient="X1@Lieu.example"))["total"] == 1
    assert (await listed(kind="agency_membership_changed"))["total"] == 3
    assert (await listed(kind="membership_suspended", status="sent"))["total"] == 6
    assert (await listed(status="failed"))["total"] == 0
    by_event = await listed(event=str(events[1].id))
    recipients = sorted(item["recipient"] for item in by_event["items"])
    assert recipients == [AGENCY_EMAIL, "x1@lieu.example", "y1@lieu.example"]
    first, second = await listed(limit=5), await listed(limit=5, offset=5)
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 9
    assert "body_text" not in first["items"][0]

    one = first["items"][0]["id"]
    detail = await client.get(f"{API}/deliveries/{one}", headers=agency)
    assert detail.status_code == 200
    body = detail.json()
    assert body["body_html"].startswith("<!DOCTYPE html>")
    assert body["message_id"].startswith(f"<{one}@")
    caught = {m.message_id for m in mail.messages}
    assert body["message_id"].strip("<>") in caught


async def test_bad_requests_are_problems(client: httpx.AsyncClient, agency: dict[str, str]) -> None:
    assert (await client.get(f"{API}/deliveries")).status_code == 401
    copil = {"Authorization": "Bearer test-copil-token"}
    assert (await client.get(f"{API}/deliveries", headers=copil)).status_code == 403
    for params in ({"status": "lost"}, {"kind": "spam"}, {"event": "x"}, {"limit": 0}):
        response = await client.get(f"{API}/deliveries", params=params, headers=agency)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    missing = await client.get(f"{API}/deliveries/{uuid4()}", headers=agency)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"{API}/deliveries/nope", headers=agency)).status_code == 422
    retry = await client.post(f"{API}/deliveries/{uuid4()}/retry", headers=agency)
    assert retry.status_code == 404
    assert (await client.post(f"{API}/deliveries/{uuid4()}/retry")).status_code == 401
