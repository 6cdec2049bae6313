"""End-to-end figures of the whole system: the four services as separate processes on the real
Kafka, PostgreSQL and mail catcher (``tests.e2e.system``), driven over HTTP only, read from their
APIs, their ``/metrics``, Kafka's committed offsets and the mailbox. Printed, never asserted.

1. seed: ``BENCH_E2E_MEMBERS`` member centres as an agency enters them (EPCIs with communes, a
   2026 budget, the places imported as CSV with an animator each, approved in bulk, by
   ``BENCH_E2E_BATCH``), timed until the budget shares them all and no consumer lags;
2. latency: ``BENCH_E2E_APPROVALS`` approvals at ``BENCH_E2E_RATE`` per second (50), each timed
   from the approve call returning to its welcome mail accepted by the mail catcher
   (``Created``); the budget versions they caused, the shares those moved and the budget's
   events (one ``dotations.changed`` a version, not one event per member); the
   services' spans, exported over OTLP to the bench's own receiver (:mod:`bench.otlp`;
   ``BENCH_E2E_TRACE=0`` exports none), give each approval's time per hop;
3. throughput: approvals one by one at each rate of ``BENCH_E2E_STEPS`` (25, 50, 100, 200) for
   ``BENCH_E2E_STEP_SECONDS`` (10); a step is sustained when the approve calls keep up with the
   rate and the consumers' lag (plus unpublished outbox rows) does not grow.

Then a table of the issue's end-to-end figures, each beside its baseline (the issue's "where it
stands") and its target. ``BENCH_E2E_WINDOW_SECONDS`` is the coalescing window of share-change
and new-member mails.
Run with ``CRNT_TOPIC_PREFIX=crnt-test`` inside ``crnt-stack with``, as ``make bench`` does:
``python -m bench.e2e``.
"""

import asyncio
import contextlib
import csv
import functools
import io
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from crnt_shared import samples

from bench.agency import Agency
from bench.figures import Figure, table
from bench.mailbox import kind_of
from bench.memory import cpu_seconds, peak_rss_mib
from bench.otlp import Receiver, hops
from bench.polling import Every
from tests.e2e.system import System, running_system

YEAR = 2026
PARTITIONS = 6
#: Which consumer group reads which of the system's topics (``<prefix>.<name>.events``).
GROUPS = {
    "budget": ("registry",),
    "programme": ("registry",),
    "notifications": ("registry", "programme"),
    "notifications-budget": ("budget",),
}
EPCIS, COMMUNES_PER_EPCI = 12, 8
BUDGET = samples.budget(300_000)
#: The budget's ``BUDGET_RECALCULATION_MAX_DELAY_SECONDS`` (its default): a steady stream of
#: approvals is recalculated at least that often.
RECALCULATION_MAX_DELAY_SECONDS = 5.0
#: A step is sustained only if its approvals returned at this share of its rate at least.
ACHIEVED_SHARE = 0.95
_METRIC = re.compile(r"^(crnt_[a-z_]+)\{[^}]*\}\s+(\S+)$")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    members: int = env_int("BENCH_E2E_MEMBERS", 1000)
    approvals: int = env_int("BENCH_E2E_APPROVALS", 500)
    rate: float = env_float("BENCH_E2E_RATE", 50.0)
    steps: tuple[float, ...] = tuple(
        float(step) for step in os.environ.get("BENCH_E2E_STEPS", "25,50,100,200").split(",")
    )
    step_seconds: float = env_float("BENCH_E2E_STEP_SECONDS", 10.0)
    window: float = env_float("BENCH_E2E_WINDOW_SECONDS", 60.0)
    #: A step is sustained when its backlog grows by at most this many events.
    lag_bound: int = env_int("BENCH_E2E_LAG_BOUND", 200)
    concurrency: int = env_int("BENCH_E2E_CONCURRENCY", 16)
    #: Centres per CSV import, animators and approvals per bulk request when seeding.
    batch: int = env_int("BENCH_E2E_BATCH", 500)
    #: Spans exported to the bench's own OTLP receiver for the per-hop breakdown (0: none).
    trace: bool = env_int("BENCH_E2E_TRACE", 1) == 1


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def with_check_digit(body: str) -> str:
    return next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))


def siret(seed: int) -> str:
    """A SIRET whose SIREN (its first nine digits) and whole number pass their Luhn checks."""
    siren = with_check_digit(f"{seed % 10**8:08d}")
    return with_check_digit(siren + f"{seed // 10**8 % 10**4:04d}")


def application(run: str, n: int, insee: str, email: str) -> dict[str, Any]:
    """The body of ``POST /applications`` for the ``n``-th place of a run (``run``: hex), in
    the commune ``insee``, with one animator at ``email``."""
    return samples.application(
        f"Lieu {run} n°{n}",
        [(f"Animatrice {n}", email)],
        commune=(f"Commune {insee}", "62500", insee),
        adresse=f"{n} rue de la Médiation",
        pivot=siret(int(run, 16) % 10**6 * 10**6 + n),
        workstations=1 + n % 12,
    )


def epci_body(
    index: int, name: str, communes: list[str], population: int | None = None
) -> dict[str, Any]:
    """The body of ``POST /epcis`` for a run's ``index``-th EPCI: a SIREN of its own (a valid
    one) and a population that differs from its neighbours'."""
    return {
        "siren": with_check_digit(f"2{index + 10:07d}"),
        "name": name,
        "population": 20_000 + 7_919 * index if population is None else population,
        "communes": communes,
    }


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 100))
    return ordered[int(rank) - 1]


def figures(values: list[float]) -> str:
    if not values:
        return "no sample"
    return (
        f"p50 {percentile(values, 50):6.2f} s   p95 {percentile(values, 95):6.2f} s   "
        f"p99 {percentile(values, 99):6.2f} s   max {max(values):6.2f} s"
    )


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Applicant:
    application_id: str
    email: str
    approved_at: datetime | None = None
    call_seconds: float | None = None
    approved_mono: float | None = None


@dataclass
class Mailbox:
    """Tails the mail catcher (newest first, down to the last ID seen): it keeps at most a few
    thousand messages, fewer than the bench sends, so mails are read as they come. The bench's
    own mails (recipients ending with ``marker``) are counted by kind and deleted by ID."""

    client: httpx.AsyncClient
    marker: str
    last_id: int = 0
    welcome: dict[str, datetime] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    recipients: dict[str, set[str]] = field(default_factory=dict)
    pending_delete: list[str] = field(default_factory=list)
    deleted: int = 0
    unseen_gaps: int = 0
    can_delete: bool = True
    _reader: Every | None = None

    async def start(self) -> None:
        newest = await self._page(0, 1)
        self.last_id = max((int(m["ID"]) for m in newest), default=0)
        self._reader = Every(0.5, self._read, "mail catcher", (httpx.HTTPError,))
        self._reader.start()

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
        await self.poll()
        await self.flush_deletions()

    async def _page(self, start: int, limit: int) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/v1/messages", params={"start": start, "limit": limit}
        )
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def _read(self) -> None:
        await self.poll()
        await self.flush_deletions()

    async def poll(self) -> None:
        fresh: dict[int, dict[str, Any]] = {}
        start, limit = 0, 200
        while True:
            page = await self._page(start, limit)
            reached = False
            for message in page:
                number = int(message["ID"])
                if number <= self.last_id:
                    reached = True
                    break
                fresh[number] = message
            if reached or len(page) < limit:
                if not reached and fresh and min(fresh) > self.last_id + 1 and self.last_id:
                    self.unseen_gaps += min(fresh) - self.last_id - 1
                break
            start += limit
        if not fresh:
            return
        self.last_id = max(fresh)
        for number in sorted(fresh):
            message = fresh[number]
            recipients = [a["Address"].lower() for a in message["To"]]
            if not any(r.endswith(self.marker) for r in recipients):
                continue
            kind = kind_of(message["Subject"])
            self.kinds[kind] += 1
            self.recipients.setdefault(kind, set()).update(recipients)
            if kind == "welcome":
                created = datetime.fromisoformat(message["Created"])
                for recipient in recipients:
                    self.welcome.setdefault(recipient, created)
            self.pending_delete.append(message["ID"])

    async def flush_deletions(self) -> None:
        if not self.can_delete or not self.pending_delete:
            return
        ids, self.pending_delete = self.pending_delete, []
        response = await self.client.request("DELETE", "/api/v1/messages", json={"IDs": ids})
        if response.status_code >= 400:
            self.can_delete = False  # a catcher that only clears everything: leave it alone
            return
        self.deleted += len(ids)


@dataclass
class Sample:
    at: float
    #: Per consumer group: records in its topics (end offsets) and records it handled
    #: (committed offsets).
    ends: dict[str, int]
    handled: dict[str, int]
    outbox: int
    mail_backlog: int

    @property
    def lag(self) -> dict[str, int]:
        return {group: self.ends[group] - self.handled[group] for group in self.ends}

    @property
    def backlog(self) -> int:
        return sum(self.lag.values()) + self.outbox


class Probe:
    """The system's backlog: consumer lag from Kafka (end offsets minus committed offsets of
    each group on this system's topics), outbox rows not yet published (``/metrics``) and the
    deliveries waiting to be sent (notifications' API)."""

    def __init__(
        self,
        system: System,
        client: httpx.AsyncClient,
        bootstrap: str,
        groups: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.system = system
        self.client = client
        self.groups = GROUPS if groups is None else groups
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.samples: list[Sample] = []
        self._sampler = Every(1.0, self._sample, "probe")  # one failure must not stop the bench

    def partitions(self, name: str) -> list[TopicPartition]:
        topic = f"{self.system.prefix}.{name}.events"
        return [TopicPartition(topic, p) for p in range(PARTITIONS)]

    async def start(self) -> None:
        await self.admin.start()
        await self.consumer.start()
        self._sampler.start()

    async def stop(self) -> None:
        await self._sampler.stop()
        await self.consumer.stop()
        await self.admin.close()

    async def _sample(self) -> None:
        self.samples.append(await self.sample())

    async def offsets(self) -> tuple[dict[str, int], dict[str, int]]:
        """Per group: the end offsets and the committed offsets, summed over its partitions."""
        topics = {name for names in self.groups.values() for name in names}
        wanted = [tp for name in topics for tp in self.partitions(name)]
        ends = await self.consumer.end_offsets(wanted)
        produced: dict[str, int] = {}
        handled: dict[str, int] = {}
        for group, names in self.groups.items():
            partitions = [tp for name in names for tp in self.partitions(name)]
            committed = await self.admin.list_consumer_group_offsets(group, partitions=partitions)
            produced[group] = sum(ends[tp] for tp in partitions)
            handled[group] = sum(
                max(0, committed[tp].offset) if tp in committed else 0 for tp in partitions
            )
        return produced, handled

    async def outbox(self) -> int:
        total = 0.0
        for service in self.system.services.values():
            response = await self.client.get(f"{service.url}/metrics")
            for line in response.text.splitlines():
                match = _METRIC.match(line)
                if match and match[1] == "crnt_outbox_pending_rows":
                    total += float(match[2])
        return int(total)

    async def mail_backlog(self) -> int:
        total = 0
        for status in ("pending", "retrying"):
            response = await self.client.get(
                self.system.url("notifications", "/deliveries"),
                params={"status": status, "limit": 1},
                headers=self.system.agency,
            )
            response.raise_for_status()
            total += int(response.json()["total"])
        return total

    async def sample(self) -> Sample:
        (ends, handled), outbox, mails = await asyncio.gather(
            self.offsets(), self.outbox(), self.mail_backlog()
        )
        return Sample(time.monotonic(), ends, handled, outbox, mails)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]


class Bench(Agency):
    def __init__(self, system: System, client: httpx.AsyncClient, config: Config) -> None:
        super().__init__(system, client, config.concurrency)
        self.config = config
        self.sequence = 0

    async def register_epcis(self) -> None:
        async def register(index: int) -> None:
            communes = [f"62{index * COMMUNES_PER_EPCI + c + 1:03d}" for c in range(8)]
            body = epci_body(index, f"Communauté bench {index + 1}", communes)
            await self.call("POST", "registry", "/epcis", json=body)

        await self.gather(functools.partial(register, i) for i in range(EPCIS))

    async def apply(self) -> Applicant:
        self.sequence += 1
        n = self.sequence
        epci, commune = divmod(n % (EPCIS * COMMUNES_PER_EPCI), COMMUNES_PER_EPCI)
        insee = f"62{epci * COMMUNES_PER_EPCI + commune + 1:03d}"
        email = f"animation.{n:05d}{self.marker}"
        # Entered by the agency: an anonymous application is rate-limited and its address must
        # confirm before any mail (crnt_registry.domain.needs_confirmation).
        created = await self.call(
            "POST",
            "registry",
            "/applications",
            json=application(self.run, n, insee, email),
        )
        return Applicant(created["id"], email)

    async def applicants(self, count: int) -> list[Applicant]:
        return await self.gather(self.apply for _ in range(count))

    async def approve(self, applicant: Applicant) -> None:
        started = time.perf_counter()
        approved = await self.call(
            "POST", "registry", f"/applications/{applicant.application_id}/approve"
        )
        applicant.approved_at = clock()
        applicant.approved_mono = time.monotonic()
        applicant.call_seconds = time.perf_counter() - started
        assert approved["status"] == "member", approved

    def places_csv(self, start: int, count: int) -> bytes:
        """``count`` places of the national standard (:data:`crnt_registry.csv_io.COLUMNS`) in
        the bench's communes, numbered from ``start``."""
        from crnt_registry.csv_io import COLUMNS

        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for n in range(start, start + count):
            insee = f"62{n % (EPCIS * COMMUNES_PER_EPCI) + 1:03d}"
            values = {
                "id": f"bench-{self.run}-{n}",
                "pivot": siret(int(self.run, 16) % 10**6 * 10**6 + n),
                "nom": f"Lieu {self.run} n°{n}",
                "commune": f"Commune {insee}",
                "code_postal": "62500",
                "code_insee": insee,
                "adresse": f"{n} rue de la Médiation",
                "typologie": "EPN",
                "date_maj": "2026-01-15",
            }
            writer.writerow([values.get(column, "") for column in COLUMNS])
        return buffer.getvalue().encode()

    async def import_applicants(self, count: int) -> list[Applicant]:
        """Applications of ``count`` new places with an animator each, in bulk: CSV imports of
        ``batch`` places (``POST /centres/import``), then their animators (``POST /animators``)."""
        batch = self.config.batch

        async def one_file(start: int) -> list[Applicant]:
            size = min(batch, count - start)
            n = self.sequence + start
            report = await self.call(
                "POST",
                "registry",
                "/centres/import",
                content=self.places_csv(n, size),
                headers={"Content-Type": "text/csv"},
            )
            placed = report["applications"]
            emails = [f"animation.{n + i:05d}{self.marker}" for i in range(len(placed))]
            team = [
                {"centre_id": a["centre_id"], "name": f"Animateur {n + i}", "email": email}
                for i, (a, email) in enumerate(zip(placed, emails, strict=True))
            ]
            await self.call("POST", "registry", "/animators", json={"animators": team})
            return [
                Applicant(a["application_id"], email)
                for a, email in zip(placed, emails, strict=True)
            ]

        files = await self.gather(
            functools.partial(one_file, start) for start in range(0, count, batch)
        )
        self.sequence += count
        return [applicant for found in files for applicant in found]

    async def approve_all(self, applicants: list[Applicant]) -> None:
        """Approve in bulk, ``batch`` applications a request (``POST /applications/approve``)."""
        batch = self.config.batch

        async def one(chunk: list[Applicant]) -> None:
            ids = [a.application_id for a in chunk]
            decided = await self.call(
                "POST", "registry", "/applications/approve", json={"application_ids": ids}
            )
            assert decided["approved"] == len(chunk), decided

        await self.gather(
            functools.partial(one, applicants[i : i + batch])
            for i in range(0, len(applicants), batch)
        )

    async def approve_at(self, applicants: list[Applicant], rate: float) -> float:
        """Approve each at a steady ``rate``, calls overlapping if one is slow; returns the
        achieved rate (approvals that returned per second of the schedule)."""
        started = time.monotonic()
        tasks = []
        for index, applicant in enumerate(applicants):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.approve(applicant)))
        await asyncio.gather(*tasks)
        return len(applicants) / max(time.monotonic() - started, len(applicants) / rate)

    async def versions(self) -> list[dict[str, Any]]:
        try:
            found = await self.call("GET", "budget", f"/budgets/{YEAR}/versions", headers={})
        except RuntimeError:  # no budget yet
            return []
        items: list[dict[str, Any]] = found["items"]
        return items

    async def member_count(self) -> int:
        versions = await self.versions()
        return int(versions[-1]["member_count"]) if versions else 0

    async def recalculations(self, since: int) -> tuple[int, int, int]:
        """(versions after version ``since``, share changes they published, latest version)."""
        newer = [v for v in await self.versions() if v["version"] > since]
        latest = max((v["version"] for v in newer), default=since)
        return len(newer), sum(int(v["changed_centres"]) for v in newer), latest

    async def welcome_deliveries(self) -> dict[str, tuple[datetime, datetime | None]]:
        """Each welcome delivery's recipient → (queued, sent) as the notifications service saw
        them: the consumer's transaction, then the sender's after the SMTP server's answer."""
        found: dict[str, tuple[datetime, datetime | None]] = {}
        offset = 0
        while True:
            page = await self.call(
                "GET",
                "notifications",
                "/deliveries",
                params={"kind": "membership_welcome", "limit": 500, "offset": offset},
            )
            for item in page["items"]:
                sent = item["sent_at"]
                found[item["recipient"]] = (
                    datetime.fromisoformat(item["created_at"]),
                    datetime.fromisoformat(sent) if sent else None,
                )
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return found


async def wait_for(
    what: str, condition: Callable[[], Awaitable[bool]], timeout: float, interval: float = 1.0
) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        await asyncio.sleep(interval)


async def settle(bench: Bench, probe: Probe, timeout: float) -> tuple[float, float]:
    """Until no consumer lags and every outbox row is published, then until the coalescing
    window of anything noticed meanwhile has closed and every mail is sent. Returns when the
    consumers caught up and when the last mail went (monotonic)."""

    async def quiet() -> bool:
        return (await probe.sample()).backlog == 0

    await wait_for("the consumers to catch up", quiet, timeout)
    caught_up = time.monotonic()
    await asyncio.sleep(bench.config.window + 1.5)

    async def sent() -> bool:
        sample = await probe.sample()
        return sample.backlog == 0 and sample.mail_backlog == 0

    await wait_for("every mail to be sent", sent, timeout)
    return caught_up, time.monotonic()


def step_sizes(config: Config) -> list[int]:
    return [round(rate * config.step_seconds) for rate in config.steps]


@dataclass
class Seeding:
    """When each part of the seeding ended, in seconds from its start."""

    applications: float
    approvals: float
    shared: float
    idle: float
    mailed: float


async def seed(bench: Bench, probe: Probe, mailbox: Mailbox) -> tuple[list[Applicant], Seeding]:
    """The network as an agency enters one (EPCIs, a budget, a CSV import of the places, their
    animators, approvals in bulk), timed until the budget shares every member and no consumer
    lags; then, untimed, the applications the measured phases approve one by one."""
    config = bench.config
    started = time.monotonic()
    await bench.register_epcis()
    await bench.call("PUT", "budget", f"/budgets/{YEAR}", json=BUDGET)
    applicants = await bench.import_applicants(config.members)
    submitted = time.monotonic()
    await bench.approve_all(applicants)
    approved = time.monotonic()

    async def all_members() -> bool:
        return await bench.member_count() >= config.members

    await wait_for(f"{config.members} members in the shares", all_members, 600, interval=0.25)
    shared = time.monotonic()

    async def quiet() -> bool:
        return (await probe.sample()).backlog == 0

    await wait_for("the consumers to catch up", quiet, 600, interval=0.25)
    idle = time.monotonic()
    later = await bench.import_applicants(config.approvals + sum(step_sizes(config)))
    _, done = await settle(bench, probe, 600)
    seeding = Seeding(
        submitted - started, approved - started, shared - started, idle - started, done - started
    )
    print(
        f"seeded {config.members} members in {seeding.idle:.1f} s: EPCIs, budget and "
        f"{config.members} places imported with their animators {seeding.applications:.1f} s, "
        f"approved (in requests of {config.batch}) at {seeding.approvals:.1f} s, all in the "
        f"budget's shares at {seeding.shared:.1f} s, no consumer lagging at {seeding.idle:.1f} s; "
        f"then {len(later)} more applications for the next phases, the window closed and every "
        f"mail sent at {seeding.mailed:.0f} s; " + load_average()
    )
    print(f"  mails: {', '.join(f'{k} {v}' for k, v in mailbox.kinds.most_common())}")
    return later, seeding


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def cpu_of(pids: list[int]) -> float:
    """CPU seconds of the processes still running among ``pids``."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def stack_processes() -> dict[str, list[int]]:
    """The stack's Kafka, PostgreSQL (the postmaster and its backends, which live as long as the
    services' pools) and mail catcher, from their pid files (``crnt-stack``'s state folder)."""
    state = Path(os.environ.get("CRNT_STATE_DIR") or Path(__file__).parents[1] / ".local")
    found: dict[str, list[int]] = {}
    for name, pid_file in (
        ("kafka", state / "kafka" / "kafka.pid"),
        ("mail catcher", state / "mailcatcher" / "mailcatcher.pid"),
        ("postgresql", state / "pg" / "data" / "postmaster.pid"),
    ):
        with contextlib.suppress(OSError, ValueError):
            found[name] = [int(pid_file.read_text().split()[0])]
    if "postgresql" in found:
        postmaster = found["postgresql"][0]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    found["postgresql"].append(int(stat.parent.name))
    return found


@dataclass
class Latency:
    """The figures of the latency phase."""

    achieved: float
    welcome: list[float]
    calls: list[float]
    versions: int
    share_changes: int
    #: Records appended to the budget's topic per second while the approvals came in (and
    #: for the recalculator's longest delay after them).
    budget_records_per_second: float
    share_changes_per_second: float
    hops: dict[str, list[float]]
    traced: list[float]
    traces: int
    #: CPU time each process used per approval while they came in (ms).
    cpu_per_approval: dict[str, float]


async def latency(
    bench: Bench,
    probe: Probe,
    mailbox: Mailbox,
    applicants: list[Applicant],
    receiver: Receiver | None,
    log_dir: Path,
) -> Latency:
    config = bench.config
    before = Counter(mailbox.kinds)
    version = (await bench.versions())[-1]["version"]
    if receiver is not None:
        receiver.recording = True
    processes = {name: [p.pid] for name, p in bench.system.processes.processes.items()}
    processes.update(stack_processes())
    processes["bench"] = [os.getpid()]
    cpu_before = {name: cpu_of(pids) for name, pids in processes.items()}
    first = await probe.sample()
    started = time.monotonic()
    achieved = await bench.approve_at(applicants, config.rate)
    approving = time.monotonic() - started
    await asyncio.sleep(RECALCULATION_MAX_DELAY_SECONDS + 1)
    last = await probe.sample()
    cpu = {
        name: (cpu_of(pids) - cpu_before[name]) * 1000 / len(applicants)
        for name, pids in processes.items()
    }
    budget_records = sum(
        last.ends[g] - first.ends[g] for g in ("notifications-budget",) if g in last.ends
    )
    budget_rate = budget_records / max(last.at - first.at, 1e-9)

    async def arrived() -> bool:
        return all(a.email in mailbox.welcome for a in applicants)

    try:
        await wait_for("every welcome mail", arrived, 150, interval=0.5)
    except TimeoutError as error:
        print(f"  ({error})")
    window = probe.between(started, time.monotonic())
    recalculations, changes, _ = await bench.recalculations(version)
    deliveries = await bench.welcome_deliveries()
    total, consumed, queued, calls = [], [], [], []
    for a in applicants:
        if a.approved_at is None or a.call_seconds is None:
            continue
        calls.append(a.call_seconds)
        if a.email in mailbox.welcome:
            total.append(seconds(mailbox.welcome[a.email], a.approved_at))
        if a.email in deliveries:
            created, sent = deliveries[a.email]
            consumed.append(seconds(created, a.approved_at))
            if sent is not None:
                queued.append(seconds(sent, created))
    during = Counter(mailbox.kinds)
    during.subtract(before)
    print(
        f"latency: {len(applicants)} approvals at {config.rate:g}/s over {approving:.0f} s "
        f"(achieved {achieved:.2f}/s); {len(total)}/{len(applicants)} welcome mails arrived; "
        + load_average()
    )
    for label, values in (
        ("approve returned → welcome mail accepted", total),
        ("  of which approve → delivery queued", consumed),
        ("  and queued → sent (sender, SMTP)", queued),
        ("the approve call itself", calls),
    ):
        print(f"  {label:<42} {figures(values)}")

    def notifications_lag(sample: Any) -> int:
        return int(sample.lag["notifications"] + sample.lag["notifications-budget"])

    def notifications_handled(sample: Any) -> int:
        return int(sample.handled["notifications"] + sample.handled["notifications-budget"])

    peak_lag = max((notifications_lag(s) for s in window), default=0)
    handled = (
        (notifications_handled(window[-1]) - notifications_handled(window[0]))
        / max(window[-1].at - window[0].at, 1e-9)
        if len(window) > 1
        else 0.0
    )
    peak_mail = max((s.mail_backlog for s in window), default=0)
    print(
        f"  meanwhile: {recalculations} budget recalculations published {changes} share "
        f"changes ({changes / max(last.at - first.at, 1e-9):.0f}/s; the budget's topic grew by "
        f"{budget_records} records, {budget_rate:.0f}/s, over the {last.at - first.at:.0f} s of "
        f"the approvals and the recalculator's longest delay after them); notifications handled "
        f"{handled:.0f} events/s, its lag peaked at {peak_lag}; the sender also "
        f"sent {during['share']} share and {during['new members']} new-member mails "
        f"(coalesced), its backlog peaked at {peak_mail}"
    )
    print(
        "  CPU per approval (ms, while they came in and for the recalculator's delay after): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())
        + f"; all but the bench {sum(v for k, v in cpu.items() if k != 'bench'):.1f} ms"
    )
    hop_durations: dict[str, list[float]] = {}
    traced: list[float] = []
    traces = 0
    if receiver is not None:
        await asyncio.sleep(2.0)  # the services' span processors export every 0.5 s
        receiver.recording = False
        receiver.dump(log_dir / "spans.jsonl")
        hop_durations, traced, traces = hops(receiver.spans)
        print(
            f"  per hop, from {len(traced)} complete traces of {traces} approvals "
            f"({receiver.received} spans received over OTLP, in {log_dir / 'spans.jsonl'}):"
        )
        for hop, values in hop_durations.items():
            print(f"    {hop:<46} {milliseconds(values)}")
        print(f"    {'total: approve request → SMTP 250':<46} {milliseconds(traced)}")
        receiver.spans.clear()
    return Latency(
        achieved,
        total,
        calls,
        recalculations,
        changes,
        budget_rate,
        changes / max(last.at - first.at, 1e-9),
        hop_durations,
        traced,
        traces,
        cpu,
    )


def compact_ms(values: list[float]) -> str:
    if not values:
        return "no sample"
    p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
    return f"p50 {p50:.1f} ms / p99 {p99:.1f} ms"


def milliseconds(values: list[float]) -> str:
    if not values:
        return "no sample"
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms   p99 {percentile(values, 99) * 1000:7.1f} ms"
    )


@dataclass
class Step:
    rate: float
    approvals: int
    achieved: float
    start: Sample
    end: Sample
    calls: list[float]
    recalculations: int
    changes: int

    def growth(self) -> int:
        return self.end.backlog - self.start.backlog

    def sustained(self, bound: int) -> bool:
        """The approvals went at (nearly) the rate asked, and the backlog did not grow."""
        return self.achieved >= ACHIEVED_SHARE * self.rate and self.growth() <= bound


def floor(samples: list[Sample], fallback: Sample) -> Sample:
    """The least backlogged sample: a recalculation publishes one event per centre at once, so a
    single sample may catch that burst in flight; the floor over a few seconds does not."""
    return min(samples, key=lambda s: s.backlog, default=fallback)


async def throughput(bench: Bench, probe: Probe, pool: list[Applicant]) -> list[Step]:
    config = bench.config
    print(
        "throughput (events: records of the registry's and budget's topics arrived for, and "
        "handled by, notifications)"
    )
    for line in TABLE_HEADER:
        print("".join(f" {title:>{width}}" for title, width in zip(line, WIDTHS, strict=True)))
    steps: list[Step] = []
    version = (await bench.versions())[-1]["version"]
    for rate, count in zip(config.steps, step_sizes(config), strict=True):
        batch, pool = pool[:count], pool[count:]
        began = time.monotonic()
        start = floor(probe.between(began - 3.5, began), await probe.sample())
        achieved = await bench.approve_at(batch, rate)
        ended = time.monotonic()
        await asyncio.sleep(3.5)  # the samples of the step's last seconds
        end = floor(probe.between(ended - 3.5, ended + 3.5), await probe.sample())
        recalculations, changes, version = await bench.recalculations(version)
        calls = [a.call_seconds for a in batch if a.call_seconds is not None]
        step = Step(rate, count, achieved, start, end, calls, recalculations, changes)
        steps.append(step)
        print_step(step, config.lag_bound)
    sustained = [s.rate for s in steps if s.sustained(config.lag_bound)]
    print(
        "most approvals per second sustained: "
        + (f"{max(sustained):g}/s" if sustained else f"none of {', '.join(map(str, config.steps))}")
    )
    return steps


TABLE_HEADER = (
    (
        "rate",
        "approvals",
        "achieved",
        "approve",
        "budget",
        "share",
        "events",
        "events",
        "backlog",
        "",
        "mail backlog",
        "sustained",
    ),
    (
        "",
        "",
        "",
        "p50",
        "versions",
        "changes",
        "arrived",
        "handled",
        "start → end",
        "growth",
        "start → end",
        "",
    ),
)
WIDTHS = (10, 9, 8, 8, 8, 8, 9, 9, 21, 8, 15, 9)


def print_step(step: Step, bound: int) -> None:
    elapsed = max(step.end.at - step.start.at, 1e-9)

    def per_second(values: dict[str, int], earlier: dict[str, int]) -> str:
        return f"{(values['notifications'] - earlier['notifications']) / elapsed:.0f}/s"

    cells = (
        f"{step.rate:g}/s",
        str(step.approvals),
        f"{step.achieved:.2f}/s",
        f"{percentile(step.calls, 50) if step.calls else 0:.3f} s",
        str(step.recalculations),
        str(step.changes),
        per_second(step.end.ends, step.start.ends),
        per_second(step.end.handled, step.start.handled),
        f"{step.start.backlog} → {step.end.backlog}",
        f"{step.growth():+d}",
        f"{step.start.mail_backlog} → {step.end.mail_backlog}",
        "yes" if step.sustained(bound) else "NO",
    )
    print("".join(f" {cell:>{width}}" for cell, width in zip(cells, WIDTHS, strict=True)))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1, 5, 15 min)"


def header(config: Config, log_dir: Path) -> None:
    rates = ", ".join(f"{rate:g}" for rate in config.steps)
    lines = [
        "end-to-end bench: the four services as separate processes on this machine's Kafka,",
        f"PostgreSQL and mail catcher, {os.cpu_count()} CPUs shared by all of them and this driver",
        f"  network     {config.members} member centres (one animator each, {EPCIS} EPCIs),",
        f"              a {YEAR} budget shared among them",
        f"  coalescing  share changes and new members are mailed per {config.window:g} s window",
        "              (production default 180 s): each window that closes queues one mail per",
        "              member's animator for each; welcomes (essential) are sent before them",
        f"  seeding     the {config.members} places imported as CSV, their animators added and",
        f"              their applications approved in requests of {config.batch}, until the",
        "              budget shares them all and no consumer lags",
        f"  latency     {config.approvals} approvals at {config.rate:g}/s, each from the",
        "              approve call returning to its welcome mail accepted by the catcher",
        "              (Created), split where the delivery's row was queued by the consumer;",
        "              nearest-rank percentiles; per hop from the services' spans"
        + (" (OTLP)" if config.trace else " (off)"),
        f"  throughput  {config.step_seconds:g} s at each of {rates} approvals/s; backlog =",
        "              consumer lag (Kafka: end - committed offsets of the groups budget,",
        "              programme, notifications, notifications-budget on this system's topics)",
        "              + unpublished outbox rows, the floor over each step's first and last",
        f"              3.5 s; sustained when it grows by at most {config.lag_bound} events",
        f"              and the approve calls kept up ({ACHIEVED_SHARE:.0%} of the rate or more).",
        "              The mail backlog (deliveries",
        "              waiting) is shown apart: every closing window swings it by thousands.",
        "              Steps follow each other without a pause, each inheriting the backlog of",
        "              the one before: events arrived vs handled per second is the rate to read.",
        f"  logs        {log_dir}",
        f"  machine     {load_average()}",
    ]
    print("\n".join(lines))


#: The figures of the issue's "where it stands" (``make bench`` before issue 15, 2 cores): the
#: baselines of this bench's table.
BEFORE = {
    "seeding": "283 s (443 s at a busier moment)",
    "welcome": "p50 70 ms / p99 2,490 ms at 5/s (p99 18.0 s busier)",
    "sustained": "20/s (none busier)",
    "share": "225/s at 5/s (22,499 in 100 s)",
}


def results(
    config: Config, seeding: Seeding, measured: Latency, steps: list[Step], rss: dict[str, float]
) -> list[Figure]:
    """The end-to-end lines of the issue's table."""
    sustained = [s.rate for s in steps if s.sustained(config.lag_bound)]
    best = max(sustained, default=0.0)
    top = max(steps, key=lambda s: s.rate, default=None)
    welcome_p50 = percentile(measured.welcome, 50) if measured.welcome else float("inf")
    welcome_p99 = percentile(measured.welcome, 99) if measured.welcome else float("inf")
    calls = measured.calls or [float("inf")]
    figures = [
        Figure(
            f"seeding {config.members} members (import, animators, approvals in bulk) "
            "until shared and no lag",
            f"{seeding.idle:.1f} s (shared at {seeding.shared:.1f} s)",
            BEFORE["seeding"],
            "< 15 s",
            seeding.idle < 15,
        ),
        Figure(
            f"welcome mail after the approve call, at {config.rate:g} approvals/s",
            f"p50 {welcome_p50 * 1000:,.0f} ms / p99 {welcome_p99 * 1000:,.0f} ms "
            f"(achieved {measured.achieved:.1f}/s; approve call p50 "
            f"{percentile(calls, 50) * 1000:,.0f} ms)",
            BEFORE["welcome"],
            "p50 ≤ 30 ms, p99 ≤ 100 ms",
            welcome_p50 <= 0.030 and welcome_p99 <= 0.100,
        ),
        Figure(
            "highest approval rate sustained (approve call included), steps "
            + ", ".join(f"{r:g}" for r in config.steps)
            + "/s",
            f"{best:g}/s"
            + (
                f" (at {top.rate:g}/s: achieved {top.achieved:.0f}/s, backlog {top.growth():+d})"
                if top is not None and top.rate != best
                else ""
            ),
            BEFORE["sustained"],
            "≥ 200/s",
            best >= 200,
        ),
        Figure(
            f"budget events/s at {config.rate:g} approvals/s (the budget topic's records)",
            f"{measured.budget_records_per_second:,.0f}/s ({measured.versions} versions moved "
            f"{measured.share_changes:,} shares, {measured.share_changes_per_second:,.0f}/s)",
            BEFORE["share"],
            f"not members × approvals ({config.members * config.rate:,.0f}/s)",
            measured.budget_records_per_second < config.members * config.rate / 10,
        ),
    ]
    for hop, values in measured.hops.items():
        figures.append(
            Figure(
                f"per hop at {config.rate:g}/s: {hop}",
                compact_ms(values),
                "—",
                "—",
                None,
            )
        )
    if measured.traced:
        figures.append(
            Figure(
                f"per hop at {config.rate:g}/s: total, approve request → SMTP 250",
                f"{compact_ms(measured.traced)} ({len(measured.traced)} of {measured.traces} "
                "approvals traced end to end)",
                "—",
                "—",
                None,
            )
        )
    system_cpu = sum(ms for name, ms in measured.cpu_per_approval.items() if name != "bench")
    figures.append(
        Figure(
            f"CPU per approval at {config.rate:g}/s, ms (what bounds the rate)",
            ", ".join(f"{name} {ms:.1f}" for name, ms in measured.cpu_per_approval.items())
            + f"; all but the bench {system_cpu:.1f} ms: at most "
            f"{(os.cpu_count() or 1) * 1000 / max(system_cpu, 1e-9):.0f}/s on "
            f"{os.cpu_count()} idle cores",
            "—",
            f"≤ {(os.cpu_count() or 1) * 1000 / 200:.0f} ms for 200/s on {os.cpu_count()} cores",
            system_cpu <= (os.cpu_count() or 1) * 1000 / 200,
        )
    )
    figures.append(
        Figure(
            "peak RSS per service process, MiB",
            ", ".join(f"{name} {mib:.0f}" for name, mib in rss.items()),
            "—",
            "< 300 each",
            bool(rss) and max(rss.values()) < 300,
        )
    )
    return figures


async def main() -> None:
    config = Config()
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    log_dir = Path(tempfile.mkdtemp(prefix="crnt-bench-e2e-"))
    header(config, log_dir)
    began = time.monotonic()
    receiver = Receiver() if config.trace else None
    tracing: dict[str, str] = {}
    if receiver is not None:
        await receiver.start()
        tracing = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "OTEL_BSP_MAX_QUEUE_SIZE": "200000",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096",
            "OTEL_SPAN_LINK_COUNT_LIMIT": "1000",
        }
    async with (
        running_system(
            bootstrap,
            admin_url,
            log_dir,
            replicas=1,
            mail_url=None,
            **{
                "NOTIFICATIONS_COALESCING_WINDOW_SECONDS": str(config.window),
                "LOG_LEVEL": "WARNING",
                **tracing,
            },
        ) as system,
        httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as client,
        httpx.AsyncClient(base_url=system.mail_url, timeout=30) as mail_client,
    ):
        print(f"system {system.prefix} ready in {time.monotonic() - began:.0f} s")
        bench = Bench(system, client, config)
        mailbox = Mailbox(mail_client, bench.marker)
        probe = Probe(system, client, bootstrap)
        await mailbox.start()
        await probe.start()
        rss: dict[str, float] = {}
        try:
            pool, seeding = await seed(bench, probe, mailbox)
            measured = await latency(
                bench, probe, mailbox, pool[: config.approvals], receiver, log_dir
            )
            steps = await throughput(bench, probe, pool[config.approvals :])
        finally:
            await probe.stop()
            await mailbox.stop()
            if receiver is not None:
                await receiver.stop()
            rss = {
                name: peak_rss_mib(process.pid)
                for name, process in system.processes.processes.items()
                if process.poll() is None
            }
            print(
                "peak RSS (target < 300 MiB each): "
                + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items())
                + f", bench {peak_rss_mib():.0f} MiB"
            )
            print(
                f"mailbox: {sum(mailbox.kinds.values())} bench mails read "
                f"({', '.join(f'{k} {v}' for k, v in mailbox.kinds.most_common())}), "
                + (
                    f"{mailbox.deleted} deleted by ID"
                    if mailbox.can_delete
                    else "not deleted (the catcher cannot delete by ID)"
                )
                + (
                    f"; {mailbox.unseen_gaps} messages evicted unread"
                    if mailbox.unseen_gaps
                    else ""
                )
                + (f"; retried HTTP errors {dict(bench.retried)}" if bench.retried else "")
            )
    print(f"total {time.monotonic() - began:.0f} s; " + load_average())
    print(table(results(config, seeding, measured, steps, rss), baseline="baseline (the issue)"))


if __name__ == "__main__":
    asyncio.run(main())
