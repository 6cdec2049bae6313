"""Faults under load, the way Kafka's own system tests bounce brokers: approvals at a steady
rate, the budget configured and mail flowing, while every service is killed once, a consumer is
frozen, Kafka and PostgreSQL are restarted and the SMTP server refuses connections. Then, from
the APIs, Kafka's offsets and the mailbox only: every approval's effects exactly once, nothing in
the dead-letter topics, no consumer lagging. The same with two replicas of every service, one of
each killed halfway.

Sizes (the defaults are what ``make test`` runs):
``FAULTS_APPROVALS`` approvals at ``FAULTS_RATE`` per second, ``FAULTS_REPLICA_APPROVALS`` at
``FAULTS_REPLICA_RATE`` for the replicas. Each fault's catch-up time is printed.
"""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from crnt_devstack.services import SERVICES

from tests.e2e.system import System, running_system
from tests.faults.harness import (
    Applicant,
    Load,
    Observer,
    PrivateInfra,
    SwitchableSmtp,
    private_infra,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

APPROVALS = int(os.environ.get("FAULTS_APPROVALS", "2000"))
RATE = float(os.environ.get("FAULTS_RATE", "10"))
REPLICA_APPROVALS = int(os.environ.get("FAULTS_REPLICA_APPROVALS", "400"))
REPLICA_RATE = float(os.environ.get("FAULTS_REPLICA_RATE", "10"))
FREEZE_SECONDS = 15.0
SMTP_REFUSAL_SECONDS = 30.0
#: How long the system may take to catch up after one fault (a frozen consumer's group
#: rebalances after its session times out; a sender retries on its backoff).
CATCH_UP_TIMEOUT = 300.0
#: The settings of the system under faults: share and new-member mails coalesced over 30 s (3 min
#: in production), the sender retrying every few seconds rather than every half-minute, so that
#: catch-up is measured, not waited.
SETTINGS = {
    "NOTIFICATIONS_COALESCING_WINDOW_SECONDS": "30",
    "NOTIFICATIONS_DELIVERY_BACKOFF_SECONDS": "1",
    "NOTIFICATIONS_DELIVERY_BACKOFF_MAX_SECONDS": "5",
    "NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS": "60",
    "NOTIFICATIONS_AGENCY_EMAILS": "agence@example.org",
}


@pytest.fixture(scope="module")
async def infra() -> AsyncIterator[PrivateInfra]:
    async with private_infra() as infra:
        yield infra


@pytest.fixture
async def smtp() -> AsyncIterator[SwitchableSmtp]:
    server = SwitchableSmtp()
    await server.accept()
    try:
        yield server
    finally:
        await server.close()


def report(capsys: pytest.CaptureFixture[str], lines: list[str]) -> None:
    """The figures, on the terminal of ``make test`` (not hidden by pytest's capture)."""
    with capsys.disabled():
        print("\n" + "\n".join(lines), flush=True)


@dataclass
class Fault:
    name: str
    #: Injects the fault and returns once it is over (the service restarted, the server back).
    act: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class CatchUp:
    name: str
    lasted: float
    caught_up_after: float

    def line(self) -> str:
        return (
            f"  {self.name:<44} lasted {self.lasted:5.1f} s, caught up "
            f"{self.caught_up_after:5.1f} s after"
        )


def faults(system: System, infra: PrivateInfra, smtp: SwitchableSmtp) -> list[Fault]:
    def kill(name: str) -> Fault:
        async def act() -> None:
            system.processes.kill(name)
            await asyncio.to_thread(system.restart, name)

        return Fault(f"SIGKILL {name}, restart", act)

    async def freeze() -> None:
        pid = system.processes.processes["notifications"].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(FREEZE_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)

    async def bounce_kafka() -> None:
        await infra.stop_kafka()
        await infra.start_kafka()

    async def bounce_postgres() -> None:
        await infra.stop_postgres()
        await infra.start_postgres()

    async def refuse_mail() -> None:
        await smtp.refuse()
        assert smtp.refuses()
        try:
            await asyncio.sleep(SMTP_REFUSAL_SECONDS)
        finally:
            await smtp.accept()

    return [
        *(kill(service.name) for service in SERVICES),
        Fault(f"SIGSTOP notifications {FREEZE_SECONDS:.0f} s, SIGCONT", freeze),
        Fault("stop Kafka, start it", bounce_kafka),
        Fault("restart PostgreSQL", bounce_postgres),
        Fault(f"SMTP refuses connections {SMTP_REFUSAL_SECONDS:.0f} s", refuse_mail),
    ]


async def inject(
    schedule: list[Fault],
    observer: Observer,
    say: Callable[[str], None],
) -> list[CatchUp]:
    """One fault after the other, each once the system has caught up with the previous one:
    caught up means every approval made before the fault ended has its welcome mail and its
    place in the budget."""
    results = []
    for fault in schedule:
        began = time.monotonic()
        await fault.act()
        ended = time.monotonic()
        approved = list(observer.load.approved)
        await wait_for(
            f"the system to catch up after {fault.name}",
            lambda approved=approved: observer.caught_up(approved),  # type: ignore[misc]
            CATCH_UP_TIMEOUT,
            interval=0.25,
            state=lambda approved=approved: observer.behind(approved),  # type: ignore[misc]
        )
        results.append(CatchUp(fault.name, ended - began, time.monotonic() - ended))
        say(results[-1].line())
        await asyncio.sleep(2.0)
    return results


@dataclass(frozen=True)
class Outcome:
    members: int
    lost: int
    duplicated: int
    resent: int
    dead_letters: dict[str, int]
    lag: dict[str, int]
    allocations_match: bool

    def lines(self) -> list[str]:
        return [
            f"  members {self.members}; lost {self.lost}; duplicated {self.duplicated}; "
            f"welcomes resent with the same Message-ID (at least once at the SMTP boundary) "
            f"{self.resent}",
            f"  dead letters {sum(self.dead_letters.values())}; consumer lag "
            f"{sum(self.lag.values())} over {len(self.lag)} groups; allocations equal a "
            f"recomputation from the members: {self.allocations_match}",
        ]


async def outcome(observer: Observer, applicants: list[Applicant]) -> Outcome:
    """Every approval's effects, counted once each."""
    welcomes = observer.welcomes()
    deliveries = await observer.welcome_deliveries()
    members = await observer.members()
    allocations = await observer.allocations()
    lost = sum(1 for a in applicants if a.email not in welcomes)
    lost += len({m["id"] for m in members} ^ set(allocations))
    distinct = {address: {m.message_id for m in mails} for address, mails in welcomes.items()}
    duplicated = sum(len(ids) - 1 for ids in distinct.values())
    duplicated += sum(count - 1 for count in deliveries.values() if count > 1)
    resent = sum(len(mails) - len(distinct[address]) for address, mails in welcomes.items())
    return Outcome(
        members=len(members),
        lost=lost,
        duplicated=duplicated,
        resent=resent,
        dead_letters=await observer.dead_letters(),
        lag=await observer.lag_back_to_zero(),
        allocations_match=allocations == await observer.recomputed(),
    )


def check(result: Outcome, applicants: list[Applicant]) -> None:
    assert result.members == len(applicants)
    assert result.lost == 0
    assert result.duplicated == 0
    assert len(result.dead_letters) == 5, result.dead_letters  # one per service, all read
    assert not any(result.dead_letters.values()), result.dead_letters
    assert len(result.lag) >= 5, result.lag  # every consumer group of the system was seen
    assert not any(result.lag.values()), result.lag
    assert result.allocations_match


@contextlib.asynccontextmanager
async def under_load(
    infra: PrivateInfra, smtp: SwitchableSmtp, logs: Path, count: int, replicas: int = 1
) -> AsyncIterator[tuple[System, Load, Observer, list[Applicant]]]:
    """The system on the suite's own Kafka and PostgreSQL, mailing to ``smtp``, with its network
    and budget set up and ``count`` applications waiting for approval."""
    async with (
        running_system(
            infra.bootstrap,
            infra.admin_url,
            logs,
            replicas=replicas,
            mail_url="",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            **SETTINGS,
        ) as system,
        httpx.AsyncClient(timeout=30) as client,
    ):
        load = Load(system, client, replicas=list(range(replicas)))
        await load.network()
        applicants = await load.applicants(count)
        observer = Observer(system, load, smtp, infra.bootstrap)
        await observer.start()
        try:
            yield system, load, observer, applicants
        finally:
            await observer.stop()


async def test_every_fault_under_load_leaves_each_effect_exactly_once(
    infra: PrivateInfra,
    smtp: SwitchableSmtp,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A first few hundred apply beforehand; the others apply on the way, each just before its
    # approval (as many as the approvals take: the set-up stays short).
    ahead = min(APPROVALS, round(RATE * 30))
    async with under_load(infra, smtp, tmp_path, ahead) as (system, load, observer, pool):
        started = time.monotonic()
        faults_over = asyncio.Event()
        approving = asyncio.create_task(load.approve_until(pool, APPROVALS, RATE, faults_over))
        await asyncio.sleep(5.0)  # the load first runs without a fault
        caught = await inject(
            faults(system, infra, smtp), observer, lambda line: report(capsys, [line])
        )
        faults_lasted = time.monotonic() - started
        faults_over.set()
        approved, took = await approving
        settled = await observer.settled(approved, CATCH_UP_TIMEOUT)
        result = await outcome(observer, approved)
    report(
        capsys,
        [
            f"faults under load: {len(approved)} approvals at {RATE:g}/s in {took:.0f} s "
            f"(achieved {len(approved) / took:.1f}/s), {len(caught)} faults injected over the "
            f"first {faults_lasted:.0f} s; settled {settled:.1f} s after the last approval; "
            f"calls repeated through the faults: {dict(load.retried) or 'none'}",
            *(c.line() for c in caught),
            *result.lines(),
        ],
    )
    assert len(approved) >= APPROVALS
    assert not load.errors, "a fault answered as an internal error, not as a 503:\n" + "\n".join(
        load.errors
    )
    check(result, approved)


async def published(client: httpx.AsyncClient, url: str) -> float:
    """The ``crnt_outbox_published_total`` of one service process: what its relay sent."""
    response = await client.get(f"{url}/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in response.text.splitlines()
        if line.startswith("crnt_outbox_published_total{")
    )


async def test_two_replicas_share_the_work_and_one_takes_over_when_the_other_dies(
    infra: PrivateInfra,
    smtp: SwitchableSmtp,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with under_load(infra, smtp, tmp_path, REPLICA_APPROVALS, replicas=2) as (
        system,
        load,
        observer,
        pool,
    ):
        half = len(pool) // 2
        await load.approve_at(pool[:half], REPLICA_RATE)
        (survivors, _), (doomed, doomed_processes) = system.replicas[1], system.replicas[0]
        before = {n: await published(load.client, s.url) for n, s in survivors.items()}
        for name in doomed:
            doomed_processes.kill(name)
        load.replicas = [1]
        took = await load.approve_at(pool[half:], REPLICA_RATE)
        settled = await observer.settled(pool, CATCH_UP_TIMEOUT)
        after = {n: await published(load.client, s.url) for n, s in survivors.items()}
        result = await outcome(observer, pool)
    took_over = sorted(name for name in after if after[name] > before[name])
    report(
        capsys,
        [
            f"two replicas of every service: {len(pool)} approvals at {REPLICA_RATE:g}/s, "
            f"the first replica of each killed (SIGKILL) after {half}; the survivors took the "
            f"rest in {took:.0f} s and settled {settled:.1f} s after the last approval; relays "
            f"that published after the kill: {', '.join(took_over)}",
            *result.lines(),
        ],
    )
    assert not load.errors, "a replica answered as an internal error:\n" + "\n".join(load.errors)
    check(result, pool)
    # The registry publishes every approval and the budget every version: their surviving
    # relays must have taken the leadership over.
    assert {"registry", "budget"} <= set(took_over), (before, after)
