"""What the fault suite needs beyond the end-to-end system: a Kafka and a PostgreSQL of its own
(so that stopping them harms no other test), an SMTP server it can make refuse connections, a
load of approvals at a steady rate that survives the faults, and the checks of the outcome, read
from the services' APIs, Kafka's offsets and the mailbox only.
"""

import asyncio
import contextlib
import email
import email.policy
import socket
import tempfile
import threading
import time
import uuid
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiosmtpd.smtp import SMTP, Envelope, Session
from crnt_budget import domain
from crnt_devstack import kafka, postgres
from crnt_devstack.ports import HOST, Ports
from crnt_shared import samples

from bench.e2e import application, epci_body
from tests.e2e.system import System, free_port, free_ports

YEAR = 2026
EPCIS, COMMUNES_PER_EPCI = 6, 8
BUDGET = samples.budget(300_000)
WELCOME = "Bienvenue dans le réseau"
#: Calls waiting at once at the most (the others wait their turn in the driver).
IN_FLIGHT = 32
#: How long one call keeps retrying through a fault (a restart of PostgreSQL, a killed service).
CALL_PATIENCE_SECONDS = 120.0


# The infrastructure of the suite's own


@dataclass
class PrivateInfra:
    """Kafka and PostgreSQL in a folder of their own, on free ports."""

    state: Path
    ports: Ports

    @classmethod
    def create(cls) -> "PrivateInfra":
        state = Path(tempfile.mkdtemp(prefix="crnt-faults-"))
        kafka_port, controller, postgres, smtp, mail_http = free_ports(5)
        ports = Ports(
            kafka=kafka_port,
            kafka_controller=controller,
            postgres=postgres,
            smtp=smtp,
            mail_http=mail_http,
        ).check_distinct()
        return cls(state, ports)

    @property
    def bootstrap(self) -> str:
        return kafka.bootstrap_servers(self.ports)

    @property
    def admin_url(self) -> str:
        return postgres.database_url(self.ports, postgres.ADMIN_DATABASE)

    async def start(self) -> None:
        await asyncio.to_thread(kafka.start, self.ports, self.state)
        await asyncio.to_thread(postgres.start, self.ports, self.state)

    async def stop(self) -> None:
        await asyncio.to_thread(kafka.stop, self.state)
        await asyncio.to_thread(postgres.stop, self.state)

    async def stop_kafka(self) -> None:
        await asyncio.to_thread(kafka.stop, self.state)

    async def start_kafka(self) -> None:
        await asyncio.to_thread(kafka.start, self.ports, self.state)

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(postgres.stop, self.state)

    async def start_postgres(self) -> None:
        await asyncio.to_thread(postgres.start, self.ports, self.state)


@contextlib.asynccontextmanager
async def private_infra() -> AsyncIterator[PrivateInfra]:
    infra = PrivateInfra.create()
    try:
        await infra.start()
        yield infra
    finally:
        await infra.stop()


# An SMTP server that can refuse


@dataclass(frozen=True)
class Mail:
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    received_at: float


class _Recorder:
    def __init__(self, mails: list[Mail]) -> None:
        self.mails = mails

    # aiosmtpd calls its hooks handle_<COMMAND>.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(
            raw if isinstance(raw, bytes) else raw.encode(), policy=email.policy.default
        )
        self.mails.append(
            Mail(
                recipients=tuple(address.lower() for address in envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                message_id=str(message.get("Message-ID", "")),
                received_at=time.monotonic(),
            )
        )
        return "250 OK"


class SwitchableSmtp:
    """An SMTP server that keeps every mail it accepts, on an event loop of its own in a thread
    (a busy test loop must not make it slow to greet); ``refuse()`` closes the listener and
    every open connection (a pooled one included), so that connecting fails until
    ``accept()``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="faults-smtp", daemon=True
        )
        self._thread.start()

    def _protocol(self) -> SMTP:
        session = SMTP(_Recorder(self.mails), hostname="faults.test", enable_SMTPUTF8=True)
        self._sessions.add(session)
        return session

    async def _in_thread(self, work: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        await asyncio.wrap_future(future)

    async def _listen(self) -> None:
        self._server = await self._loop.create_server(
            self._protocol, host=HOST, port=self.port, reuse_address=True
        )

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()

    async def accept(self) -> None:
        await self._in_thread(self._listen())

    async def refuse(self) -> None:
        await self._in_thread(self._close())

    async def close(self) -> None:
        await self.refuse()
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
        self._loop.close()

    def received(self) -> list[Mail]:
        return list(self.mails)

    def refuses(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex((HOST, self.port)) != 0


# The load


@dataclass
class Applicant:
    application_id: str
    email: str
    approved_at: float | None = None


@dataclass
class Load:
    """Applications and approvals over HTTP with the agency's token. A call that meets a fault
    (no answer, a 5xx) is repeated until it succeeds; an approval repeated after the first one
    went through finds the centre a member (409) and counts as done."""

    system: System
    client: httpx.AsyncClient
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    #: The replicas requests go to, in turn (all of them, until one is killed).
    replicas: list[int] = field(default_factory=lambda: [0])
    retried: Counter[str] = field(default_factory=Counter)
    #: The 5xx answers other than 503 (a fault must read as "unavailable, retry", never as an
    #: internal error): method, path, status and the start of the body.
    errors: list[str] = field(default_factory=list)
    #: Every applicant approved so far, in the order the approvals returned.
    approved: list[Applicant] = field(default_factory=list)
    _turn: int = 0
    _gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(IN_FLIGHT))

    @property
    def marker(self) -> str:
        return f".{self.run}@example.org"

    def _url(self, service: str, path: str) -> str:
        self._turn += 1
        replica = self.replicas[self._turn % len(self.replicas)]
        return self.system.url(service, path, replica)

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", self.system.agency)
        deadline = time.monotonic() + CALL_PATIENCE_SECONDS
        delay = 0.1
        while True:
            try:
                response = await self.client.request(
                    method, self._url(service, path), headers=headers, **kwargs
                )
            except httpx.TransportError as error:
                self.retried[type(error).__name__] += 1
            else:
                if response.status_code < 500:
                    return response
                self.retried[f"HTTP {response.status_code}"] += 1
                if response.status_code != 503:
                    self.errors.append(
                        f"{method} {path}: {response.status_code} {response.text[:300]}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} kept failing for {CALL_PATIENCE_SECONDS} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def ok(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.call(method, service, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def insee(self, index: int) -> str:
        return f"62{index + 1:03d}"

    async def network(self) -> None:
        """The EPCIs, their communes and the year's budget."""
        for epci in range(EPCIS):
            communes = [self.insee(epci * COMMUNES_PER_EPCI + c) for c in range(COMMUNES_PER_EPCI)]
            body = epci_body(epci, f"Communauté {self.run} {epci + 1}", communes)
            await self.ok("POST", "registry", "/epcis", json=body)
        await self.ok("PUT", "budget", f"/budgets/{YEAR}", json=BUDGET)

    async def apply(self, n: int) -> Applicant:
        insee = self.insee(n % (EPCIS * COMMUNES_PER_EPCI))
        address = f"animation.{n:05d}{self.marker}"
        created = await self.ok(
            "POST",
            "registry",
            "/applications",
            json=application(self.run, n, insee, address),
        )
        return Applicant(created["id"], address)

    async def applicants(self, count: int, concurrency: int = 8) -> list[Applicant]:
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> Applicant:
            async with gate:
                return await self.apply(n)

        return list(await asyncio.gather(*(one(n) for n in range(count))))

    async def approve(self, applicant: Applicant) -> Applicant:
        path = f"/applications/{applicant.application_id}/approve"
        response = await self.call("POST", "registry", path)
        if response.status_code == 409:  # the first attempt went through before the fault
            found = await self.ok("GET", "registry", f"/applications/{applicant.application_id}")
            assert found["centre"]["status"] == "member", found
        else:
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "member", response.text
        applicant.approved_at = time.monotonic()
        self.approved.append(applicant)
        return applicant

    async def apply_and_approve(self, n: int) -> Applicant:
        applicant = await self.apply(n)
        await self.approve(applicant)
        return applicant

    async def approve_until(
        self, applicants: list[Applicant], count: int, rate: float, over: asyncio.Event
    ) -> tuple[list[Applicant], float]:
        """At least ``count`` approvals at a steady ``rate``, until ``over`` is set: first of
        ``applicants``, then of centres that apply on the way. Returns every applicant
        approved and how long the load lasted."""
        started = time.monotonic()
        tasks: list[asyncio.Task[Applicant]] = []
        while len(tasks) < count or not over.is_set():
            n = len(tasks)
            job = self.approve(applicants[n]) if n < len(applicants) else self.apply_and_approve(n)
            tasks.append(await self._at(started + n / rate, job))
        approved = list(await asyncio.gather(*tasks))
        return approved, time.monotonic() - started

    async def _at(
        self, moment: float, job: Coroutine[Any, Any, Applicant]
    ) -> asyncio.Task[Applicant]:
        """Start ``job`` at ``moment``, or as soon as fewer than :data:`IN_FLIGHT` calls wait:
        a system slower than the schedule makes the load slip, not pile up without end."""
        delay = moment - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._gate.acquire()
        task = asyncio.create_task(job)
        task.add_done_callback(lambda _: self._gate.release())
        return task

    async def approve_at(self, applicants: list[Applicant], rate: float) -> float:
        """Each at its time on a steady schedule, calls overlapping when one waits out a fault;
        returns how long it took."""
        started = time.monotonic()
        tasks = [
            await self._at(started + index / rate, self.approve(applicant))
            for index, applicant in enumerate(applicants)
        ]
        await asyncio.gather(*tasks)
        return time.monotonic() - started


# What is observed


@dataclass
class Observer:
    """The outcome, from the APIs, Kafka's offsets and the mailbox."""

    system: System
    load: Load
    smtp: SwitchableSmtp
    bootstrap: str
    _consumer: AIOKafkaConsumer = field(init=False)
    _admin: AIOKafkaAdminClient = field(init=False)

    def welcomes(self) -> dict[str, list[Mail]]:
        found: dict[str, list[Mail]] = {}
        for mail in self.smtp.received():
            if not mail.subject.startswith(WELCOME):
                continue
            for recipient in mail.recipients:
                if recipient.endswith(self.load.marker):
                    found.setdefault(recipient, []).append(mail)
        return found

    async def budget_members(self) -> int:
        response = await self.load.call("GET", "budget", f"/budgets/{YEAR}/versions", headers={})
        if response.status_code == 404:
            return 0
        items = response.json()["items"]
        return int(items[-1]["member_count"]) if items else 0

    async def caught_up(self, approved: list[Applicant]) -> bool:
        """Every approval so far has its welcome mail and its place in the budget."""
        welcomes = self.welcomes()
        if any(a.email not in welcomes for a in approved):
            return False
        return await self.budget_members() >= len(approved)

    async def behind(self, approved: list[Applicant]) -> str:
        """What is still missing, for the message of a test that gave up waiting."""
        welcomes = self.welcomes()
        missing = sum(1 for a in approved if a.email not in welcomes)
        lag = {group: count for group, count in (await self.lag()).items() if count}
        return (
            f"{missing} of {len(approved)} welcome mails missing, the budget shares "
            f"{await self.budget_members()} members, {len(self.smtp.received())} mails received, "
            f"consumer lag {lag or 'none'}"
        )

    async def start(self) -> None:
        """One consumer (for metadata and end offsets) and one admin client for the whole run:
        they reconnect by themselves when Kafka comes back."""
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._consumer.start()
        await self._admin.start()

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def topics(self) -> list[str]:
        found = await self._consumer.topics()
        return sorted(t for t in found if t.startswith(f"{self.system.prefix}."))

    async def end_offsets(self, topics: list[str]) -> dict[TopicPartition, int]:
        described = await self._admin.describe_topics(topics)
        partitions = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]
        assert len({tp.topic for tp in partitions}) == len(topics), described
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(partitions)
        return ends

    async def dead_letters(self) -> dict[str, int]:
        dlqs = [t for t in await self.topics() if t.endswith(".dlq")]
        counts: Counter[str] = Counter()
        for partition, end in (await self.end_offsets(dlqs)).items():
            counts[partition.topic] += end
        return dict(counts)

    async def lag(self) -> dict[str, int]:
        """Per consumer group: records of its topics it has not committed yet. The committed
        offsets are read first and the end offsets after them, so that a record produced and
        handled meanwhile cannot make a lag negative."""
        topics = [t for t in await self.topics() if not t.endswith(".dlq")]
        partitions = list(await self.end_offsets(topics))
        groups = [group for group, _ in await self._admin.list_consumer_groups()]
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
            mine = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
            if mine:
                committed[group] = mine
        ends = await self.end_offsets(topics)
        lags: dict[str, int] = {}
        for group, mine in committed.items():
            read = {tp.topic for tp in mine}
            lags[group] = sum(end - mine.get(tp, 0) for tp, end in ends.items() if tp.topic in read)
        return lags

    async def lag_back_to_zero(self, timeout: float = 120.0) -> dict[str, int]:
        """The lag once it is back to zero, or as it is after ``timeout``: mail coalesced within
        a window goes out after the load, and its delivery events are read a moment later."""
        deadline = time.monotonic() + timeout
        while True:
            lag = await self.lag()
            if not any(lag.values()) or time.monotonic() > deadline:
                return lag
            await asyncio.sleep(0.5)

    async def members(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = await self.load.ok(
                "GET",
                "registry",
                "/centres",
                params={"status": "member", "limit": 200, "offset": len(found)},
            )
            found.extend(page["items"])
            if not page["items"] or len(found) >= page["total"]:
                return found

    async def allocations(self) -> dict[str, int]:
        shares = await self.load.ok("GET", "budget", f"/budgets/{YEAR}/shares", headers={})
        return {c["centre_id"]: domain.parse_cents(c["amount"]) for c in shares["centres"]}

    async def recomputed(self) -> dict[str, int]:
        """The dotations a recomputation from the registry's members gives."""
        members = [
            domain.Member(m["id"], m["epci_siren"], int(m["workstations"]))
            for m in await self.members()
        ]
        key = domain.CentreKey(
            domain.parse_ratio(samples.CENTRE_KEY["fixed_ratio"]),
            domain.CentreWeight.WORKSTATIONS,
        )
        return domain.centre_shares(domain.parse_cents(str(BUDGET["envelope"])), key, members)

    async def welcome_deliveries(self) -> Counter[str]:
        """How many welcome deliveries the notifications service holds per recipient."""
        counts: Counter[str] = Counter()
        offset = 0
        while True:
            page = await self.load.ok(
                "GET",
                "notifications",
                "/deliveries",
                params={"kind": "membership_welcome", "limit": 500, "offset": offset},
            )
            counts.update(item["recipient"] for item in page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return counts

    async def settled(self, applicants: list[Applicant], timeout: float) -> float:
        """Wait until every approval's effects are there and no consumer lags; returns the
        seconds it took."""
        started = time.monotonic()

        async def done() -> bool:
            if not await self.caught_up(applicants):
                return False
            return not any((await self.lag()).values())

        await wait_for("the system to settle", done, timeout, state=lambda: self.behind(applicants))
        return time.monotonic() - started


async def wait_for(
    what: str,
    condition: Callable[[], Awaitable[bool]],
    timeout: float,
    interval: float = 0.5,
    state: Callable[[], Awaitable[str]] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            seen = f": {await state()}" if state is not None else ""
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s{seen}")
        await asyncio.sleep(interval)
