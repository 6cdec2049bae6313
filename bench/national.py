"""A national import, end to end: ``BENCH_NATIONAL_PLACES`` places (20,000: about the national
cartography's) in the national standard's CSV (:mod:`bench.places`), imported through the
registry's HTTP API, given an animator each, approved, until the budget's allocations cover
them all and every mail is sent. The services run as separate processes on this machine's
Kafka, PostgreSQL and mail catcher (``tests.e2e.system``); the bench reads only their APIs,
Kafka's committed offsets and the mailbox. Printed, never asserted:

* the time of each phase and the total (target < 5 minutes for 20,000 places);
* each service process's peak resident memory (``VmHWM``, target < 300 MiB) and CPU time;
* the mails by kind, and the size of the largest new-members mail (a summary, not a list).

Sizes: ``BENCH_NATIONAL_PLACES`` (0 skips the bench), ``BENCH_NATIONAL_EPCIS`` and
``BENCH_NATIONAL_COMMUNES`` (the territory), ``BENCH_NATIONAL_WINDOW_SECONDS`` (the coalescing
window, 180 s in production), ``BENCH_NATIONAL_FILE_BYTES`` (each CSV request, under the
services' ``MAX_BODY_BYTES``), ``BENCH_NATIONAL_CONCURRENCY`` (requests in flight). Run with
``CRNT_TOPIC_PREFIX=crnt-test`` inside ``crnt-stack with``, as ``make bench`` does:
``python -m bench.national``.
"""

import asyncio
import contextlib
import functools
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import places
from bench.agency import Agency
from bench.e2e import BUDGET, YEAR, Mailbox, Probe, env_int, epci_body, wait_for
from bench.e2e import GROUPS as E2E_GROUPS
from bench.figures import Figure, table
from bench.memory import cpu_seconds, peak_rss_mib
from tests.e2e.system import System, running_system

#: Every consumer group of the system, and the topics (``<prefix>.<name>.events``) it reads.
GROUPS = {**E2E_GROUPS, "identity": ("registry",)}
TARGET_SECONDS = 300.0
TARGET_RSS_MIB = 300.0


@dataclass(frozen=True)
class Config:
    places: int = env_int("BENCH_NATIONAL_PLACES", 20_000)
    epcis: int = env_int("BENCH_NATIONAL_EPCIS", 250)
    communes: int = env_int("BENCH_NATIONAL_COMMUNES", 10_000)
    #: The production default: a bulk arrival within one window makes one mail per animator.
    window: float = float(os.environ.get("BENCH_NATIONAL_WINDOW_SECONDS", "180"))
    file_bytes: int = env_int("BENCH_NATIONAL_FILE_BYTES", 900_000)
    concurrency: int = env_int("BENCH_NATIONAL_CONCURRENCY", 2)
    #: Items per bulk request (approvals, animators), at most the registry's 1,000.
    batch: int = env_int("BENCH_NATIONAL_BATCH", 500)
    #: ``sink``: the bench's own SMTP server (:mod:`bench.mailbox`); ``catcher``: the stack's.
    mailbox: str = os.environ.get("BENCH_NATIONAL_MAILBOX", "sink")
    #: The longest the bench waits for one phase.
    patience: float = float(os.environ.get("BENCH_NATIONAL_PATIENCE_SECONDS", "1800"))


@dataclass
class Phases:
    """Each phase's duration, printed as it ends."""

    began: float = field(default_factory=time.monotonic)
    spans: dict[str, float] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def phase(self, name: str) -> AsyncIterator[None]:
        started = time.monotonic()
        yield
        self.spans[name] = time.monotonic() - started
        print(f"  {name:<44} {self.spans[name]:7.1f} s   (at {self.elapsed():6.1f} s)", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.began


@dataclass(frozen=True)
class Place:
    application_id: str
    centre_id: str


class Driver(Agency):
    """The agency's calls (:class:`bench.agency.Agency`) and what it does with them."""

    def __init__(self, system: System, client: httpx.AsyncClient, config: Config) -> None:
        super().__init__(system, client, config.concurrency)
        self.config = config

    async def register_epcis(self, communes: list[places.Commune]) -> None:
        per_epci = -(-len(communes) // self.config.epcis)

        async def register(index: int) -> None:
            listed = communes[index * per_epci : (index + 1) * per_epci]
            name = f"Communauté de communes n°{index + 1}"
            population = 5_000 + 7_919 * index % 200_000
            body = epci_body(index, name, [c.code_insee for c in listed], population)
            await self.call("POST", "registry", "/epcis", json=body)

        await self.gather(functools.partial(register, i) for i in range(self.config.epcis))

    async def import_file(self, content: bytes) -> list[Place]:
        report = await self.call(
            "POST",
            "registry",
            "/centres/import",
            content=content,
            headers={"Content-Type": "text/csv"},
        )
        return [Place(a["application_id"], a["centre_id"]) for a in report["applications"]]

    def animator(self, index: int) -> str:
        return f"animation.{index:06d}{self.marker}"

    async def add_animators(self, start: int, batch: list[Place]) -> None:
        team = [
            {
                "centre_id": p.centre_id,
                "name": f"Animatrice {start + n + 1}",
                "email": self.animator(start + n),
            }
            for n, p in enumerate(batch)
        ]
        added = await self.call("POST", "registry", "/animators", json={"animators": team})
        assert added["added"] == len(batch), added

    async def approve(self, batch: list[Place]) -> None:
        ids = [place.application_id for place in batch]
        decided = await self.call(
            "POST", "registry", "/applications/approve", json={"application_ids": ids}
        )
        assert decided["approved"] == len(batch), decided

    async def member_count(self) -> int:
        found = await self.call("GET", "budget", f"/budgets/{YEAR}/versions", headers={})
        versions = found["items"]
        return int(versions[-1]["member_count"]) if versions else 0

    async def versions(self) -> int:
        found = await self.call("GET", "budget", f"/budgets/{YEAR}/versions", headers={})
        return len(found["items"])

    async def largest_new_members_mail(self) -> tuple[int, int]:
        """(new-members deliveries, the largest one's bodies in bytes), from the API."""
        page = await self.call(
            "GET", "notifications", "/deliveries", params={"kind": "new_members", "limit": 20}
        )
        largest = 0
        for item in page["items"]:
            detail = await self.call("GET", "notifications", f"/deliveries/{item['id']}")
            size = len(detail["body_text"].encode()) + len(detail["body_html"].encode())
            largest = max(largest, size)
        return int(page["total"]), largest


@dataclass(frozen=True)
class Kind:
    mails: int
    recipients: int
    largest: int = 0


class Sink:
    """The bench's own mailbox (:mod:`bench.mailbox`), a process of its own."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.mailbox",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int(await self.process.stdout.readline())

    async def kinds(self) -> dict[str, Kind]:
        assert self.process is not None
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(b"\n")
        await stdin.drain()
        report = json.loads(await stdout.readline())
        return {name: Kind(**values) for name, values in report["kinds"].items()}

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


class Catcher:
    """The stack's mail catcher, read over its HTTP API as ``bench.e2e`` reads it."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def kinds(self) -> dict[str, Kind]:
        await self.mailbox.poll()
        return {
            name: Kind(count, len(self.mailbox.recipients.get(name, ())))
            for name, count in self.mailbox.kinds.items()
        }


def mailcatcher_pid() -> int | None:
    try:
        from crnt_devstack import mail
    except ImportError:
        return None
    return mail.running()


#: The mails every place's animator must have received (the agency hears of the imported
#: applications in a mail a window, at least one).
EXPECTED = {"welcome": 1, "new members": 1, "share": 1}
AGENCY = "imported applications"


async def national(config: Config) -> list[Figure]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    log_dir = Path(tempfile.mkdtemp(prefix="crnt-bench-national-"))
    run = uuid.uuid4().hex[:6]
    print(
        f"national import bench: {config.places:,} places of the national standard in"
        f" {config.epcis} EPCIs ({config.communes:,} communes), one animator each, all approved,"
        f" in requests of {config.batch} ({config.concurrency} at once); coalescing window"
        f" {config.window:g} s; mailbox: {config.mailbox}; {os.cpu_count()} CPUs shared by the"
        f" services, Kafka, PostgreSQL, the mailbox and this driver; logs in {log_dir}"
    )
    settings = {
        "NOTIFICATIONS_COALESCING_WINDOW_SECONDS": str(config.window),
        "NOTIFICATIONS_AGENCY_EMAILS": f"agence.{run}@example.org",
        "LOG_LEVEL": "WARNING",
    }
    sink = Sink()
    if config.mailbox == "sink":
        await sink.start()
        settings.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
    catcher = mailcatcher_pid() if config.mailbox == "catcher" else None
    catcher_cpu = cpu_seconds(catcher) if catcher else 0.0
    phases = Phases()
    try:
        async with (
            running_system(
                bootstrap, admin_url, log_dir, replicas=1, mail_url=None, **settings
            ) as system,
            httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=16)) as client,
            httpx.AsyncClient(base_url=system.mail_url, timeout=30) as mail_client,
        ):
            print(f"  system {system.prefix} ready in {phases.elapsed():.0f} s", flush=True)
            phases.began = time.monotonic()
            driver = Driver(system, client, config)
            driver.run, driver.marker = run, f".{run}@example.org"
            mailbox = Mailbox(mail_client, driver.marker)
            reader: Sink | Catcher = sink if config.mailbox == "sink" else Catcher(mailbox)
            probe = Probe(system, client, bootstrap, GROUPS)
            if config.mailbox == "catcher":
                await mailbox.start()
            await probe.start()
            processes = system.processes.processes
            cpu_before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
            try:
                await load(config, driver, probe, reader, phases)
            finally:
                await probe.stop()
                if config.mailbox == "catcher":
                    await mailbox.stop()
            total = phases.elapsed()
            alive = {name: p for name, p in processes.items() if p.poll() is None}
            rss = {name: peak_rss_mib(p.pid) for name, p in alive.items()}
            cpu = {name: cpu_seconds(p.pid) - cpu_before[name] for name, p in alive.items()}
            kinds = await reader.kinds()
            news, largest = await driver.largest_new_members_mail()
            versions = await driver.versions()
        bench_rss = peak_rss_mib()
        sink_rss = peak_rss_mib(sink.process.pid) if sink.process else float("nan")
        sink_cpu = cpu_seconds(sink.process.pid) if sink.process else float("nan")
    finally:
        await sink.stop()
    mail_cpu = cpu_seconds(catcher) - catcher_cpu if catcher else sink_cpu
    print(f"  total {total:.0f} s (target < {TARGET_SECONDS:.0f} s)")
    print(
        "  peak RSS (target < 300 MiB each): "
        + ", ".join(f"{name} {value:.0f} MiB" for name, value in rss.items())
        + f"; bench {bench_rss:.0f} MiB, its mailbox {sink_rss:.0f} MiB"
    )
    print(
        "  CPU seconds during the load: "
        + ", ".join(f"{name} {value:.0f}" for name, value in cpu.items())
        + f"; {config.mailbox} {mail_cpu:.0f}; the machine had {os.cpu_count()} CPUs x"
        f" {total:.0f} s = {(os.cpu_count() or 1) * total:.0f}"
    )
    print(
        "  mails: "
        + ", ".join(
            f"{name} {kind.mails} to {kind.recipients}"
            for name, kind in sorted(kinds.items(), key=lambda item: -item[1].mails)
        )
        + f"; {news} new-members deliveries, the largest {largest / 1024:.1f} KiB (text + HTML);"
        f" {versions} budget versions"
        + (f"; retried {dict(driver.retried)}" if driver.retried else "")
    )
    worst = max(rss.values())
    return [
        Figure(
            f"national import of {config.places:,} places, end to end",
            f"{total:.0f} s ("
            + ", ".join(f"{name} {seconds:.0f}" for name, seconds in phases.spans.items())
            + ")",
            "-",
            f"< {TARGET_SECONDS:.0f} s",
            total < TARGET_SECONDS,
        ),
        Figure(
            "peak RSS of each service during it, MiB",
            ", ".join(f"{name} {value:.0f}" for name, value in rss.items()),
            "-",
            f"< {TARGET_RSS_MIB:.0f} each",
            worst < TARGET_RSS_MIB,
        ),
        Figure(
            "largest new-members mail (text + HTML)",
            f"{largest / 1024:.1f} KiB",
            "every place listed before (~150 KB at 999)",
            "a summary",
            largest < 16 * 1024,
        ),
    ]


async def load(
    config: Config, driver: Driver, probe: Probe, mailbox: "Sink | Catcher", phases: Phases
) -> None:
    """The phases, each timed: the territory, the file, the import, the animators, the
    approvals, then waiting for the budget, the consumers and every mail."""
    async with phases.phase("EPCIs, communes and the budget"):
        territory = places.communes(config.communes)
        await driver.register_epcis(territory)
        await driver.call("PUT", "budget", f"/budgets/{YEAR}", json=BUDGET)
    async with phases.phase("CSV generated"):
        files = places.files(config.places, territory, max_bytes=config.file_bytes)
    size = sum(len(f) for f in files)
    print(f"    {len(files)} files, {size / 1e6:.1f} MB, {size / config.places:.0f} B a row")
    async with phases.phase("imported"):
        imported = await driver.gather(functools.partial(driver.import_file, f) for f in files)
    found = [place for batch in imported for place in batch]
    assert len(found) == config.places, len(found)
    batches = [
        (start, found[start : start + config.batch]) for start in range(0, len(found), config.batch)
    ]
    async with phases.phase("an animator each"):
        await driver.gather(functools.partial(driver.add_animators, s, b) for s, b in batches)
    approving = time.monotonic()
    async with phases.phase("approved"):
        await driver.gather(functools.partial(driver.approve, batch) for _, batch in batches)

    async def covered() -> bool:
        return await driver.member_count() >= config.places

    async with phases.phase("allocations cover them"):
        await wait_for("the budget's allocations", covered, config.patience)

    async def quiet() -> bool:
        return (await probe.sample()).backlog == 0

    async with phases.phase("every event handled"):
        await wait_for("the consumers to catch up", quiet, config.patience)
    idle = time.monotonic()

    async def delivered() -> bool:
        """Each animator has its welcome, its centre's share and the news of the others, the
        agency the summary of the imported applications; no delivery waits; no notice opened
        before the consumers went idle is still open; nothing arrived for three seconds."""
        kinds = await mailbox.kinds()
        everyone = kinds.get(AGENCY, Kind(0, 0)).mails >= 1 and all(
            kinds.get(name, Kind(0, 0)).mails >= config.places * least
            and kinds[name].recipients >= config.places
            for name, least in EXPECTED.items()
        )
        if not everyone or time.monotonic() < idle + config.window + 1.5:
            return False
        sample = await probe.sample()
        if sample.backlog or sample.mail_backlog:
            return False
        await asyncio.sleep(3.0)
        return sum(k.mails for k in (await mailbox.kinds()).values()) == sum(
            k.mails for k in kinds.values()
        )

    async with phases.phase("every mail sent"):
        await wait_for("every mail", delivered, config.patience)
    print(f"    {time.monotonic() - approving:.0f} s from the first approval to the last mail")


async def main() -> None:
    config = Config()
    if config.places <= 0:
        print("national import bench skipped (BENCH_NATIONAL_PLACES=0)")
        return
    figures = await national(config)
    print()
    print(table(figures))


if __name__ == "__main__":
    asyncio.run(main())
