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
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import places
from bench.e2e import BUDGET, YEAR, Mailbox, Probe, wait_for
from bench.figures import Figure, table
from bench.memory import peak_rss_mib
from tests.e2e.system import System, running_system

#: Every consumer group of the system, and the topics (``<prefix>.<name>.events``) it reads.
GROUPS = {
    "budget": ("registry",),
    "programme": ("registry",),
    "identity": ("registry",),
    "notifications": ("registry", "programme"),
    "notifications-budget": ("budget",),
}
TARGET_SECONDS = 300.0
TARGET_RSS_MIB = 300.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Config:
    places: int = _env_int("BENCH_NATIONAL_PLACES", 20_000)
    epcis: int = _env_int("BENCH_NATIONAL_EPCIS", 250)
    communes: int = _env_int("BENCH_NATIONAL_COMMUNES", 10_000)
    window: float = float(os.environ.get("BENCH_NATIONAL_WINDOW_SECONDS", "60"))
    file_bytes: int = _env_int("BENCH_NATIONAL_FILE_BYTES", 900_000)
    concurrency: int = _env_int("BENCH_NATIONAL_CONCURRENCY", 16)
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


class Driver:
    """The agency's calls, over HTTP with its token, a bounded number in flight, transport
    errors and 5xx retried (counted), anything else fatal."""

    def __init__(self, system: System, client: httpx.AsyncClient, config: Config) -> None:
        self.system = system
        self.client = client
        self.config = config
        self.run = uuid.uuid4().hex[:6]
        self.marker = f".{self.run}@example.org"
        self.retried: dict[str, int] = {}

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.system.agency, **kwargs.pop("headers", {})}
        for attempt in range(6):
            try:
                response = await self.client.request(
                    method, self.system.url(service, path), headers=headers, **kwargs
                )
            except httpx.TransportError as error:
                self._retry(type(error).__name__)
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code < 300:
                return response.json() if response.content else None
            if response.status_code < 500:
                raise RuntimeError(
                    f"{method} {path}: {response.status_code} {response.text[:2000]}"
                )
            self._retry(f"HTTP {response.status_code}")
            await asyncio.sleep(0.2 * 2**attempt)
        raise RuntimeError(f"{method} {path} kept failing")

    def _retry(self, reason: str) -> None:
        self.retried[reason] = self.retried.get(reason, 0) + 1

    async def gather(
        self, jobs: Iterable[Callable[[], Awaitable[Any]]], width: int | None = None
    ) -> list[Any]:
        gate = asyncio.Semaphore(width or self.config.concurrency)

        async def one(job: Callable[[], Awaitable[Any]]) -> Any:
            async with gate:
                return await job()

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    async def register_epcis(self, communes: list[places.Commune]) -> None:
        per_epci = -(-len(communes) // self.config.epcis)

        async def register(index: int) -> None:
            listed = communes[index * per_epci : (index + 1) * per_epci]
            await self.call(
                "POST",
                "registry",
                "/epcis",
                json={
                    "siren": places.with_check_digit(f"2{index + 10:07d}"),
                    "name": f"Communauté de communes n°{index + 1}",
                    "population": 5_000 + 7_919 * index % 200_000,
                    "communes": [c.code_insee for c in listed],
                },
            )

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

    async def add_animator(self, index: int, place: Place) -> None:
        await self.call(
            "POST",
            "registry",
            f"/centres/{place.centre_id}/animators",
            json={"name": f"Animatrice {index + 1}", "email": self.animator(index)},
        )

    def animator(self, index: int) -> str:
        return f"animation.{index:06d}{self.marker}"

    async def approve(self, place: Place) -> None:
        decided = await self.call(
            "POST", "registry", f"/applications/{place.application_id}/approve"
        )
        assert decided["status"] == "member", decided

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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a running process has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mailcatcher_pid() -> int | None:
    try:
        from crnt_devstack import mail
    except ImportError:
        return None
    return mail.running()


async def national(config: Config) -> list[Figure]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    log_dir = Path(tempfile.mkdtemp(prefix="crnt-bench-national-"))
    run = uuid.uuid4().hex[:6]
    agency_email = f"agence.{run}@example.org"
    print(
        f"national import bench: {config.places:,} places of the national standard in"
        f" {config.epcis} EPCIs ({config.communes:,} communes), one animator each, approved;"
        f" coalescing window {config.window:g} s; {os.cpu_count()} CPUs shared by the services,"
        f" Kafka, PostgreSQL, the mail catcher and this driver; logs in {log_dir}"
    )
    phases = Phases()
    settings = {
        "NOTIFICATIONS_COALESCING_WINDOW_SECONDS": str(config.window),
        "NOTIFICATIONS_AGENCY_EMAILS": agency_email,
        "LOG_LEVEL": "WARNING",
    }
    catcher = mailcatcher_pid()
    catcher_cpu = cpu_seconds(catcher) if catcher else 0.0
    async with (
        running_system(bootstrap, admin_url, log_dir, **settings) as system,
        httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as client,
        httpx.AsyncClient(base_url=system.mail_url, timeout=30) as mail_client,
    ):
        print(f"  system {system.prefix} ready in {phases.elapsed():.0f} s", flush=True)
        phases.began = time.monotonic()
        driver = Driver(system, client, config)
        driver.run, driver.marker = run, f".{run}@example.org"
        mailbox = Mailbox(mail_client, driver.marker)
        probe = Probe(system, client, bootstrap, GROUPS)
        await mailbox.start()
        await probe.start()
        cpu_before = {
            name: cpu_seconds(process.pid) for name, process in system.processes.processes.items()
        }
        try:
            async with phases.phase("EPCIs, communes and the budget"):
                territory = places.communes(config.communes)
                await driver.register_epcis(territory)
                await driver.call("PUT", "budget", f"/budgets/{YEAR}", json=BUDGET)
            async with phases.phase("CSV generated (standard-mediation-num)"):
                files = places.files(config.places, territory, max_bytes=config.file_bytes)
            size = sum(len(f) for f in files)
            print(
                f"    {len(files)} files, {size / 1e6:.1f} MB, {size / config.places:.0f} B a row"
            )
            async with phases.phase(f"imported ({len(files)} requests)"):
                imported = await driver.gather(
                    (functools.partial(driver.import_file, f) for f in files), 2
                )
            found = [place for batch in imported for place in batch]
            assert len(found) == config.places, len(found)
            async with phases.phase("an animator each"):
                await driver.gather(
                    functools.partial(driver.add_animator, i, p) for i, p in enumerate(found)
                )
            approving = time.monotonic()
            async with phases.phase("approved"):
                await driver.gather(functools.partial(driver.approve, p) for p in found)

            async def covered() -> bool:
                return await driver.member_count() >= config.places

            async with phases.phase("allocations cover them (budget version)"):
                await wait_for("the budget's allocations", covered, config.patience, interval=1.0)
            print(f"    {time.monotonic() - approving:.0f} s after the first approval")

            async def quiet() -> bool:
                return (await probe.sample()).backlog == 0

            async with phases.phase("every event handled (consumers idle)"):
                await wait_for("the consumers to catch up", quiet, config.patience)
            async with phases.phase("window closed, every mail sent"):
                closes = approving + config.window + 1.5
                await asyncio.sleep(max(0.0, closes - time.monotonic()))

                async def sent() -> bool:
                    sample = await probe.sample()
                    return sample.backlog == 0 and sample.mail_backlog == 0

                await wait_for("every mail to be sent", sent, config.patience)
                await mailbox.poll()
        finally:
            await probe.stop()
            await mailbox.stop()
        total = phases.elapsed()
        rss = {
            name: peak_rss_mib(process.pid)
            for name, process in system.processes.processes.items()
            if process.poll() is None
        }
        cpu = {
            name: cpu_seconds(process.pid) - cpu_before[name]
            for name, process in system.processes.processes.items()
            if process.poll() is None
        }
        news, largest = await driver.largest_new_members_mail()
        versions = await driver.versions()
    print(f"  total {total:.0f} s (target < {TARGET_SECONDS:.0f} s)")
    print(
        "  peak RSS (target < 300 MiB each): "
        + ", ".join(f"{name} {value:.0f} MiB" for name, value in rss.items())
        + f"; bench {peak_rss_mib():.0f} MiB"
    )
    catcher_used = cpu_seconds(catcher) - catcher_cpu if catcher else float("nan")
    print(
        "  CPU seconds during the load: "
        + ", ".join(f"{name} {value:.0f}" for name, value in cpu.items())
        + f"; mail catcher {catcher_used:.0f}; {os.cpu_count()} CPUs x {total:.0f} s ="
        f" {(os.cpu_count() or 1) * total:.0f}"
    )
    print(
        f"  mails read: {sum(mailbox.kinds.values())} "
        f"({', '.join(f'{k} {v}' for k, v in mailbox.kinds.most_common())})"
        + (f", {mailbox.unseen_gaps} evicted unread" if mailbox.unseen_gaps else "")
        + f"; {news} new-members deliveries, the largest {largest / 1024:.1f} KiB;"
        f" {versions} budget versions" + (f"; retried {driver.retried}" if driver.retried else "")
    )
    worst = max(rss, key=lambda name: rss[name])
    return [
        Figure(
            f"national import of {config.places:,} places, end to end",
            f"{total:.0f} s ({', '.join(f'{k} {v:.0f}' for k, v in phases.spans.items())})",
            "-",
            f"< {TARGET_SECONDS:.0f} s",
            total < TARGET_SECONDS,
        ),
        Figure(
            "peak RSS of the services during it, MiB",
            ", ".join(f"{name} {value:.0f}" for name, value in rss.items()),
            "-",
            f"< {TARGET_RSS_MIB:.0f} each",
            rss[worst] < TARGET_RSS_MIB,
        ),
        Figure(
            "largest new-members mail (text + HTML)",
            f"{largest / 1024:.1f} KiB",
            "a list of every place before (~150 KB at 999)",
            "a summary",
            largest < 16 * 1024,
        ),
    ]


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
