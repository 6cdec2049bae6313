"""Sending: an SMTP server down for a while delays mail and loses none, and sends none twice."""

import asyncio

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.testing import wait_until

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    Publish,
    deliveries,
    suspensions,
)

pytestmark = pytest.mark.integration


async def test_smtp_down_then_up_every_mail_arrives_once(
    publish: Publish, mail: MailCatcher, client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await mail.stop()
    people = [f"p{index}@outage.example" for index in range(4)]
    events = suspensions(*([address] for address in people), reason="inventaire")
    await publish.registry(*events)

    async def outage_seen() -> bool:
        everything = await deliveries(client, agency)
        retrying = await deliveries(client, agency, status="retrying")
        return bool(everything["total"] == 8 and any(i["attempts"] >= 2 for i in retrying["items"]))

    await wait_until(outage_seen, timeout=30, message="deliveries retried while SMTP is down")
    await asyncio.sleep(2.0)  # the outage goes on a while
    assert mail.messages == []
    # The sender pauses while the server is unreachable instead of spending every
    # delivery's attempts: nothing is near its limit.
    page = await deliveries(client, agency)
    assert {item["status"] for item in page["items"]} <= {"pending", "retrying"}
    assert max(item["attempts"] for item in page["items"]) < 20
    await mail.start()  # the same port again

    async def all_sent() -> bool:
        return bool((await deliveries(client, agency, status="sent"))["total"] == 8)

    await wait_until(all_sent, timeout=30, message="every delivery sent after the outage")
    await asyncio.sleep(0.5)
    recipients = sorted(address["Address"] for message in mail.messages for address in message.to)
    assert recipients == sorted([*people, *[AGENCY_EMAIL] * 4])
    assert len({message.message_id for message in mail.messages}) == 8
    page = await deliveries(client, agency, status="sent")
    assert max(item["attempts"] for item in page["items"]) >= 2
    assert all(item["last_error"] is None for item in page["items"])
