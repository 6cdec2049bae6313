"""Helpers of the notifications tests: settings, registry events as the registry makes them,
publishing them on Kafka, and reading the mail catcher's mailbox."""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from crnt_devstack.mailcatcher import CaughtMessage, MailCatcher
from crnt_notifications.settings import NotificationsSettings
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipChangeData
from crnt_shared.events import Event, utcnow
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN, wait_until
from fastapi import FastAPI

AGENCY_EMAIL = "crnt@agence.example"
CAPSO = ("200069037", "CA du Pays de Saint-Omer")
CCPL = ("246201016", "CC du Pays de Lumbres")


@dataclass(frozen=True)
class Topics:
    registry: str
    budget: str
    notifications: str
    programme: str


def make_settings(
    database_url: str, kafka_bootstrap: str, topics: Topics, smtp_port: int, window: float
) -> NotificationsSettings:
    return NotificationsSettings(
        _env_file=None,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        agency_token=AGENCY_TOKEN,
        copil_token=COPIL_TOKEN,
        env="test",
        log_json=False,
        log_level="WARNING",
        outbox_poll_seconds=0.2,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="CRNT <crnt@aud-stomer.example>",
        smtp_timeout_seconds=5.0,
        agency_emails=[AGENCY_EMAIL],
        coalescing_window_seconds=window,
        delivery_max_attempts=60,
        delivery_backoff_seconds=0.05,
        delivery_backoff_max_seconds=0.4,
        sender_poll_seconds=0.1,
        unsubscribe_secret="test-unsubscribe-secret",
        public_base_url="http://notifications.test",
        web_url="http://web.test",
        consumer_group=f"notifications-{uuid.uuid4().hex[:8]}",
        registry_topic=topics.registry,
        budget_topic=topics.budget,
        programme_topic=topics.programme,
        notifications_topic=topics.notifications,
    )


class Publish:
    """Produces events as their publishers do: CloudEvents JSON, keyed by the subject."""

    def __init__(self, producer: AIOKafkaProducer, topics: Topics) -> None:
        self._producer = producer
        self._topics = topics

    async def registry(self, *events: Event) -> None:
        await self._send(self._topics.registry, events)

    async def budget(self, *events: Event) -> None:
        await self._send(self._topics.budget, events)

    async def programme(self, *events: Event) -> None:
        await self._send(self._topics.programme, events)

    async def _send(self, topic: str, events: Sequence[Event]) -> None:
        for event in events:
            await self._producer.send(topic, event.to_json(), key=event.subject.encode())
        await self._producer.flush()


# Registry events, as the registry makes them


def centre(
    nom: str,
    *,
    status: str = "member",
    commune: str = "Arques",
    epci: tuple[str, str] = CAPSO,
) -> CentreFacts:
    return CentreFacts(
        id=uuid.uuid4(),
        status=status,
        nom=nom,
        pivot="43493312300029",
        adresse="2 rue des Tanneurs",
        code_postal="62510",
        commune=commune,
        code_insee="62040",
        epci_siren=epci[0],
        epci_name=epci[1],
        typologie=["EPN"],
        workstations=6,
    )


def animators(*emails: str) -> list[AnimatorFacts]:
    return [
        AnimatorFacts(id=uuid.uuid4(), name=email.split("@")[0].title(), email=email)
        for email in emails
    ]


def membership(
    contract: type[Event],
    facts: CentreFacts,
    people: list[AnimatorFacts],
    *,
    previous: str,
    reason: str | None = None,
) -> Event:
    data = MembershipChangeData(
        previous_status=previous,
        status=facts.status,
        reason=reason,
        by="agency",
        at=utcnow(),
        centre=facts,
        animators=people,
    )
    return contract.create(source="/crnt/registry", subject=str(facts.id), data=data)


def with_status(facts: CentreFacts, status: str) -> CentreFacts:
    return facts.model_copy(update={"status": status})


# Reading the mailbox and the API


def to(mail: MailCatcher, address: str) -> list[CaughtMessage]:
    return [m for m in mail.messages if any(a["Address"] == address for a in m.to)]


async def mails_to(
    mail: MailCatcher, address: str, count: int = 1, timeout: float = 20.0
) -> list[CaughtMessage]:
    """Wait for ``count`` emails to ``address``; returns those received so far."""

    async def arrived() -> bool:
        return len(to(mail, address)) >= count

    await wait_until(arrived, timeout=timeout, message=f"{count} email(s) to {address}")
    return to(mail, address)


async def handled(app: FastAPI, events: Sequence[Event], timeout: float = 60.0) -> None:
    """Wait until the service has handled every one of ``events`` (they are in its inbox)."""
    runtime = app.state.runtime
    ids = [event.id for event in events]

    async def all_in() -> bool:
        async with runtime.unit_of_work() as uow:
            count = await uow.connection.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
        return bool(count == len(ids))

    await wait_until(all_in, timeout=timeout, message=f"{len(ids)} event(s) handled")


async def close_windows(app: FastAPI) -> None:
    """Close every open coalescing window now, as if its time had run out, and wake the sender:
    it seals the notices as it does when a window ends, whatever the machine's speed."""
    runtime = app.state.runtime
    async with runtime.unit_of_work() as uow:
        await uow.connection.execute(
            "UPDATE notices SET open_until = clock_timestamp() WHERE sealed_at IS NULL"
        )
        await uow.commit()
    runtime.sender.wake()


async def settle(seconds: float = 0.5) -> None:
    """Give a wrong extra email the time to arrive before counting."""
    await asyncio.sleep(seconds)


async def deliveries(client: httpx.AsyncClient, agency: dict[str, str], **filters: Any) -> Any:
    response = await client.get("/api/v1/deliveries", params=filters, headers=agency)
    assert response.status_code == 200, response.text
    return response.json()
