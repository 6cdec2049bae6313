"""Retention on the real PostgreSQL and Kafka: a delivery whose fate is settled keeps its
recipient and content for the configured days, then the retention worker pseudonymises it; one
still being tried is kept; the published outbox rows go after their own retention."""

from datetime import timedelta

import pytest
from crnt_shared.events import utcnow
from crnt_shared.retention import run_purges
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    Desk,
    suspensions,
)

pytestmark = pytest.mark.integration

OLD = "ancien@retention.example"
RECENT = "recent@retention.example"


async def test_old_settled_deliveries_are_pseudonymised_and_the_rest_kept(
    app: FastAPI, desk: Desk
) -> None:
    await desk.publish.registry(*suspensions([OLD], [RECENT], reason="inventaire"))

    await desk.all_sent(at_least=2, message="the suspensions mailed")
    runtime = app.state.runtime

    async def published() -> bool:
        count = await runtime.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
        )
        return bool(count)

    await wait_until(published, timeout=30, message="a delivery event published")
    async with runtime.pool.acquire() as connection:
        await connection.execute(
            "UPDATE deliveries SET created_at = now() - interval '400 days' WHERE recipient = $1",
            OLD,
        )
        # A delivery as old but still being tried keeps what it needs to be sent.
        await connection.execute(
            "INSERT INTO deliveries (id, event_id, recipient, kind, category, event_ids,"
            " subject, body_text, body_html, status, message_id, created_at)"
            " VALUES (gen_random_uuid(), gen_random_uuid(), 'retrying@retention.example',"
            " 'membership_suspended', 'membership', '{}', 's', 't', 'h', 'retrying', 'm',"
            " now() - interval '400 days')"
        )
        await connection.execute(
            "UPDATE outbox SET published_at = now() - interval '8 days'"
            " WHERE id = (SELECT min(id) FROM outbox WHERE published_at IS NOT NULL)"
        )
        outbox_before = await connection.fetchval("SELECT count(*) FROM outbox")

    done = await run_purges(runtime.pool, runtime.purges, utcnow(), batch=1)
    assert done == {"outbox": 1, "deliveries": 1}

    assert (await desk.deliveries(recipient=OLD))["total"] == 0
    assert (await desk.deliveries(recipient=RECENT))["total"] == 1
    everything = await desk.client.get("/api/v1/deliveries", headers=desk.agency)
    assert OLD not in everything.text
    assert "retrying@retention.example" in everything.text
    pseudonymised = [
        item for item in everything.json()["items"] if item["recipient"].endswith("erased.invalid")
    ]
    assert len(pseudonymised) == 1
    assert pseudonymised[0]["status"] == "sent"
    detail = await desk.client.get(
        f"/api/v1/deliveries/{pseudonymised[0]['id']}", headers=desk.agency
    )
    assert OLD not in detail.text
    assert "inventaire" not in detail.text
    async with runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM outbox") == outbox_before - 1

    again = await run_purges(runtime.pool, runtime.purges, utcnow() + timedelta(minutes=1))
    assert again == {"outbox": 0, "deliveries": 0}, "nothing is purged twice"
