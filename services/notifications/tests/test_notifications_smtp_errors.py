"""SMTP answers: 4xx is retried, 5xx fails at once and can be retried by the agency; each
outcome is published (outbox → Kafka)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from crnt_notifications.settings import NotificationsSettings
from crnt_shared.contracts.notifications import NOTIFICATIONS_EVENTS, DeliveryFailed, DeliverySent
from crnt_shared.contracts.registry import MembershipSuspended
from crnt_shared.events import EventCatalog
from crnt_shared.testing import Record, reading, wait_until

from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    LocalSmtpServer,
    Publish,
    Topics,
    animators,
    centre,
    deliveries,
    make_settings,
    membership,
)

pytestmark = pytest.mark.integration


class PickyServer(LocalSmtpServer):
    """An SMTP server that refuses ``bounce…`` for good (550) and greylists ``grey…`` once
    (451) — until told to accept everyone."""

    def __init__(self) -> None:
        super().__init__()
        self.greylisted: set[str] = set()
        self.accept_all = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if not self.accept_all and address.startswith("bounce"):
            return "550 5.1.1 No such user here"
        if address.startswith("grey") and address not in self.greylisted:
            self.greylisted.add(address)
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def to(self, address: str) -> list[Envelope]:
        return [envelope for envelope in self.received if address in envelope.rcpt_tos]


@pytest.fixture
async def picky() -> AsyncIterator[PickyServer]:
    async with PickyServer() as server:
        yield server


@pytest.fixture
def settings(  # this module's service talks to the picky server
    database_url: str, kafka_bootstrap: str, topics: Topics, picky: PickyServer, window: float
) -> NotificationsSettings:
    return make_settings(database_url, kafka_bootstrap, topics, picky.port, window)


@pytest.fixture
async def published(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[list[Record]]:
    """The events the service publishes on its (per-test) topic, with their keys."""
    catalog = EventCatalog(NOTIFICATIONS_EVENTS)
    async with reading(kafka_bootstrap, topics.notifications, catalog) as records:
        yield records


async def test_4xx_is_retried_5xx_fails_at_once_and_the_agency_can_retry(
    publish: Publish,
    picky: PickyServer,
    client: httpx.AsyncClient,
    agency: dict[str, str],
    published: list[Record],
) -> None:
    people = animators("ok@aire.example", "grey@aire.example", "bounce@aire.example")
    event = membership(
        MembershipSuspended,
        centre("Cyber-base d'Aire", status="suspended"),
        people,
        previous="member",
    )
    await publish.registry(event)

    async def settled() -> Any:
        page = await deliveries(client, agency, event=str(event.id))
        by_recipient = {item["recipient"]: item for item in page["items"]}
        done = all(item["status"] in ("sent", "failed") for item in page["items"])
        return by_recipient if page["total"] == 4 and done else None

    outcome = await wait_until(settled, timeout=30, message="every delivery sent or failed")
    assert (outcome["ok@aire.example"]["status"], outcome["ok@aire.example"]["attempts"]) == (
        "sent",
        1,
    )
    assert (outcome["grey@aire.example"]["status"], outcome["grey@aire.example"]["attempts"]) == (
        "sent",
        2,
    )
    bounced = outcome["bounce@aire.example"]
    assert (bounced["status"], bounced["attempts"]) == ("failed", 1)
    assert "550" in bounced["last_error"]
    assert len(picky.to("grey@aire.example")) == 1
    assert picky.to("bounce@aire.example") == []

    async def outcomes_published() -> bool:
        return len(published) >= 4

    await wait_until(outcomes_published, message="delivery events on Kafka")
    assert all(key == event.subject.encode() for key, event in published)
    events = [event for _, event in published]
    failed = [e for e in events if isinstance(e, DeliveryFailed)]
    assert [(e.data.recipient, e.data.permanent) for e in failed] == [("bounce@aire.example", True)]
    assert failed[0].subject == bounced["id"]
    assert failed[0].data.event_id == event.id
    sent = {e.data.recipient for e in events if isinstance(e, DeliverySent)}
    assert sent == {"ok@aire.example", "grey@aire.example", AGENCY_EMAIL}

    # A sent delivery cannot be retried; the failed one can, and now gets through.
    refused = await client.post(
        f"/api/v1/deliveries/{outcome['ok@aire.example']['id']}/retry", headers=agency
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    picky.accept_all = True
    retried = await client.post(f"/api/v1/deliveries/{bounced['id']}/retry", headers=agency)
    assert retried.status_code == 202
    assert retried.json()["status"] in ("pending", "sent")

    async def delivered() -> bool:
        return len(picky.to("bounce@aire.example")) == 1

    await wait_until(delivered, message="the retried delivery")

    # The sender records the outcome after the SMTP server's answer, in the batch's transaction.
    async def recorded() -> bool:
        response = await client.get(f"/api/v1/deliveries/{bounced['id']}", headers=agency)
        return bool(response.json()["status"] != "pending")

    await wait_until(recorded, message="the retried delivery's outcome")
    detail = (await client.get(f"/api/v1/deliveries/{bounced['id']}", headers=agency)).json()
    assert (detail["status"], detail["attempts"]) == ("sent", 1)
    assert detail["subject"] == "Adhésion suspendue\u202f: Cyber-base d'Aire"
    assert "Motif" in detail["body_text"]
