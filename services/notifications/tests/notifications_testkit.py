"""Helpers of the notifications tests: settings, registry events as the registry makes them,
publishing them on Kafka, and reading the mail catcher's mailbox."""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx
from aiokafka import AIOKafkaProducer
from aiosmtpd.smtp import SMTP, Envelope, Session
from crnt_devstack.mailcatcher import CaughtMessage, MailCatcher
from crnt_notifications.settings import NotificationsSettings
from crnt_shared.contracts.budget import (
    Cause,
    ChangedCentre,
    ClassDotation,
    DotationsChanged,
    DotationsChangedData,
)
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipSuspended
from crnt_shared.events import Event
from crnt_shared.testing import (
    centre_facts,
    membership_event,
    service_settings,
    wait_until,
)
from crnt_shared.testing import handled as handled
from fastapi import FastAPI

AGENCY_EMAIL = "crnt@agence.example"
CAPSO = ("200069037", "CA du Pays de Saint-Omer")
CCPL = ("246201016", "CC du Pays de Lumbres")


class LocalSmtpServer:
    """An aiosmtpd handler (``handle_DATA`` and the like, in a subclass) served on a free port of
    127.0.0.1 for the length of an ``async with``; it keeps what it received."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def protocol(self) -> SMTP:
        """One connection's SMTP session."""
        return SMTP(self, loop=asyncio.get_running_loop())

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted"

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.protocol, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass(frozen=True)
class Topics:
    registry: str
    budget: str
    notifications: str
    programme: str


def make_settings(
    database_url: str, kafka_bootstrap: str, topics: Topics, smtp_port: int, window: float
) -> NotificationsSettings:
    return service_settings(
        NotificationsSettings,
        database_url,
        kafka_bootstrap,
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


@dataclass(frozen=True)
class Desk:
    """What the tests act through: the events published, the mail caught, and the service's
    API as the agency calls it."""

    publish: Publish
    mail: MailCatcher
    client: httpx.AsyncClient
    agency: dict[str, str]

    async def deliveries(self, **filters: Any) -> Any:
        return await deliveries(self.client, self.agency, **filters)

    async def all_sent(self, *, at_least: int, message: str) -> None:
        await all_sent(self.client, self.agency, at_least=at_least, message=message)


# Registry events, as the registry makes them


def centre(
    nom: str,
    *,
    status: str = "member",
    commune: str = "Arques",
    epci: tuple[str, str] = CAPSO,
) -> CentreFacts:
    return centre_facts(nom, status=status, commune=commune, epci_siren=epci[0], epci_name=epci[1])


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
    now: str | None = None,
) -> Event:
    """``now``: the status the event leaves the centre in, when its facts still say the one
    before (an application approved or rejected)."""
    facts = facts if now is None else with_status(facts, now)
    return membership_event(contract, facts, people, previous=previous, reason=reason)


def suspensions(*teams: Sequence[str], reason: str | None = None) -> list[Event]:
    """One suspended centre per team of addresses (``Lieu 0``, ``Lieu 1``…), each its event."""
    return [
        membership(
            MembershipSuspended,
            centre(f"Lieu {index}", status="suspended"),
            animators(*team),
            previous="member",
            reason=reason,
        )
        for index, team in enumerate(teams)
    ]


def with_status(facts: CentreFacts, status: str) -> CentreFacts:
    return facts.model_copy(update={"status": status})


# Budget events, as the budget makes them


def dotations_changed(
    *,
    version: int,
    classes: dict[int, str],
    previous: dict[int, str],
    changed: Sequence[ChangedCentre] = (),
    year: int = 2026,
    types: tuple[str, ...] = (),
    part: tuple[int, int] = (1, 1),
    extra_through: dict[int, uuid.UUID] | None = None,
) -> DotationsChanged:
    """A version's dotations as the budget publishes them: each class's base (workstations →
    euros), now and before, and the centres listed as changed; ``extra_through``: the classes
    whose first members in id order get one cent more, through that id."""
    extra = extra_through or {}
    data = DotationsChangedData(
        year=year,
        version=version,
        part=part[0],
        parts=part[1],
        cause=Cause(kind="events", event_count=len(types) or 1, events=[], types=list(types)),
        classes=[
            ClassDotation(workstations=w, base=base, extra_through=extra.get(w))
            for w, base in classes.items()
        ],
        previous_classes=[ClassDotation(workstations=w, base=base) for w, base in previous.items()],
        changed=list(changed),
    )
    return DotationsChanged.create(source="/crnt/budget", subject=str(year), data=data)


def listed(
    facts: CentreFacts,
    *,
    workstations: int = 2,
    previous: str = "0.00",
    member: bool = True,
    causes: tuple[str, ...] = (),
) -> ChangedCentre:
    """A centre as a version lists it among those whose facts changed."""
    return ChangedCentre(
        centre_id=facts.id,
        centre_name=facts.nom,
        epci_siren=facts.epci_siren,
        workstations=workstations,
        member=member,
        previous=previous,
        causes=list(causes),
    )


def share_changed(
    facts: CentreFacts,
    *,
    version: int,
    amount: str,
    previous: str,
    year: int = 2026,
    causes: tuple[str, ...] = (),
) -> DotationsChanged:
    """One centre's share moving from ``previous`` to ``amount`` in ``version``: a version that
    lists it as changed (in a class of its own) and no class before, so that it moves no one
    else's share."""
    return dotations_changed(
        version=version,
        classes={2: amount},
        previous={},
        changed=[listed(facts, previous=previous, causes=causes)],
        year=year,
        types=causes,
    )


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


async def close_windows(app: FastAPI) -> None:
    """Close every open coalescing window now, as if its time had run out, and have the sender
    seal them at once, as it does when a window ends, whatever the machine's speed."""
    runtime = app.state.runtime
    async with runtime.unit_of_work() as uow:
        await uow.connection.execute(
            "UPDATE notices SET open_until = clock_timestamp() WHERE sealed_at IS NULL"
        )
        await uow.commit()
    runtime.sender.seal_soon()


async def settle(seconds: float = 0.5) -> None:
    """Give a wrong extra email the time to arrive before counting."""
    await asyncio.sleep(seconds)


async def deliveries(client: httpx.AsyncClient, agency: dict[str, str], **filters: Any) -> Any:
    response = await client.get("/api/v1/deliveries", params=filters, headers=agency)
    assert response.status_code == 200, response.text
    return response.json()


async def all_sent(
    client: httpx.AsyncClient, agency: dict[str, str], *, at_least: int, message: str
) -> None:
    """Wait until there are ``at_least`` deliveries and every one is sent."""

    async def sent() -> bool:
        page = await deliveries(client, agency)
        return bool(page["total"] >= at_least and all(i["status"] == "sent" for i in page["items"]))

    await wait_until(sent, timeout=30, message=message)
