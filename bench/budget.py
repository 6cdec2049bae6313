"""Budget figures on the real PostgreSQL and Kafka (``python -m bench.budget``), each beside the
previous code's in the same run (:mod:`bench.previous`) and the target of issue 15.

* one recalculation of a year's shares for 1,000, 10,000 and 50,000 members, median of
  ``BENCH_BUDGET_ROUNDS``, now and before, with the same members: when one centre's
  workstations change (the envelope of the seeds, 30,000 €: a few hundred shares move), and
  when a centre is approved with an envelope of 500 € per member (then every share moves: the
  previous code published one ``centre.share.changed`` per member, this one a
  ``dotations.changed`` by class and an event for the approved centre); the bench checks that
  both codes give the same rows and prints how many events the last recalculation wrote;
* what a year of 50,000 members stores after 1,000 versions (:mod:`bench.budget_storage`);
* the time for the budget service to absorb a burst of approvals from Kafka: every event
  handled (inbox) and the shares recalculated, and how many recalculations that took; then,
  with those members, the time from a programme validation published on Kafka to the version
  whose financing plan uses it.

``make bench`` prints these after the foundation's figures and adds them to its table
(``bench/__main__.py``).
"""

import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from crnt_budget import domain
from crnt_budget.app import MIGRATIONS, create_app
from crnt_budget.handlers import ConfigureBudget, configure_budget, recalculate_dirty_year
from crnt_budget.repository import Repository
from crnt_budget.settings import BudgetSettings
from crnt_budget.testing import (
    CAPSO,
    CCPL,
    Programme,
    Registry,
    centre,
    epci_registered,
    membership,
    programme_validated,
)
from crnt_shared import db as shared_db
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.db import UnitOfWork
from crnt_shared.testing import create_topics

from bench import budget_storage, previous
from bench.figures import Figure
from bench.polling import polled
from tests.databases import fresh_database

SIZES = [int(n) for n in os.environ.get("BENCH_BUDGET_SIZES", "1000,10000,50000").split(",")]
ROUNDS = int(os.environ.get("BENCH_BUDGET_ROUNDS", "3"))
BURST = int(os.environ.get("BENCH_BUDGET_BURST", "5000"))
YEAR = datetime.now(UTC).year
TARGET_MS = 300
CONFIG = domain.config_from_json(
    {
        "envelope": "30000.00",
        "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
        "epci_key": "population",
    }
)


@asynccontextmanager
async def database_pool(admin_url: str, db: Any = shared_db) -> AsyncIterator[Any]:
    """A pool (by ``db``, the shared package of today's code or of the previous one) on a
    database of the bench's own, dropped after."""
    async with fresh_database(admin_url, "bench_budget") as url:
        pool = await db.create_pool(url)
        try:
            yield pool
        finally:
            await pool.close()


_CENTRE_COLUMNS = [
    "centre_id",
    "name",
    "epci_siren",
    "epci_name",
    "workstations",
    "status",
    "is_member",
    "as_of",
]


async def _seed(connection: asyncpg.Connection, members: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    member = ("member", True, now)
    await connection.copy_records_to_table(
        "centres",
        records=[
            (_new_id(rng), f"EPN {i}", (CCPL if i % 5 == 0 else CAPSO)[0], "EPCI", i % 13, *member)
            for i in range(members)
        ],
        columns=_CENTRE_COLUMNS,
    )
    # Each member's membership period (a year shares among the centres members in it).
    await connection.execute(
        "INSERT INTO memberships (centre_id, since) SELECT centre_id, as_of FROM centres"
    )
    for siren, name, population in (CAPSO, CCPL):
        await connection.execute(
            "INSERT INTO epcis VALUES ($1, $2, $3, true, now())", siren, name, population
        )


def _new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def _change(
    connection: asyncpg.Connection, scenario: str, round_: int, rng: random.Random
) -> None:
    """One round's change of the registry, and its pending cause."""
    if scenario == "workstations":
        await connection.execute(
            "UPDATE centres SET workstations = workstations + 40 WHERE centre_id ="
            " (SELECT centre_id FROM centres ORDER BY centre_id OFFSET $1 LIMIT 1)",
            round_,
        )
    else:
        centre_id = _new_id(rng)
        await connection.execute(
            "INSERT INTO centres (centre_id, name, epci_siren, epci_name, workstations, status,"
            " is_member, as_of) VALUES ($1, 'EPN approuvé', $2, 'EPCI', 4, 'member', true,"
            " now())",
            centre_id,
            CAPSO[0],
        )
        await connection.execute(
            "INSERT INTO memberships (centre_id, since) VALUES ($1, now())", centre_id
        )
    await connection.execute(
        "INSERT INTO pending_causes (year, event_id, event_type, subject)"
        " VALUES ($1, $2, 'bench', 'bench')",
        YEAR,
        uuid.uuid4(),
    )


@dataclass(frozen=True)
class Recalculation:
    median_ms: float
    changed: int  # centres whose share moved in the last one
    events: int  # the events the last one wrote to the outbox
    shares: list[tuple[Any, ...]]  # the last version's rows


async def _now(uow: UnitOfWork, config: domain.BudgetConfig, first: bool) -> None:
    if first:
        await configure_budget(ConfigureBudget(YEAR, config, "bench"), uow, "bench.budget")
    else:
        await recalculate_dirty_year(uow, YEAR, "bench.budget")
        await uow.commit()


async def _before(uow: Any, config: domain.BudgetConfig, first: bool) -> None:
    """The same by the code of that time (:mod:`bench.previous`), in its unit of work."""
    handlers = previous.load().handlers
    if first:
        before_config = handlers.domain.config_from_json(domain.config_to_json(config))
        command = handlers.ConfigureBudget(YEAR, before_config, "bench")
        await handlers.configure_budget(command, uow, "bench.budget")
    else:
        await handlers.recalculate_dirty_year(uow, YEAR, "bench.budget")
        await uow.commit()


async def recalculations(admin_url: str, members: int, scenario: str, code: str) -> Recalculation:
    """``ROUNDS`` recalculations of a year of ``members`` members by the code of ``code``."""
    compute: Callable[[Any, domain.BudgetConfig, bool], Awaitable[None]]
    if code == "now":
        db: Any = shared_db
        migrations, repository, compute = MIGRATIONS, Repository, _now

        def unit_of_work(pool: Any) -> Any:
            return db.UnitOfWork(pool, repository_factory=Repository)
    else:
        before = previous.load()
        db, migrations, repository, compute = (
            before.db,
            before.migrations,
            before.repository.Repository,
            _before,
        )

        def unit_of_work(pool: Any) -> Any:
            return db.UnitOfWork(pool)  # the code of that time wrote its SQL itself

    config = CONFIG
    if scenario == "approval":
        config = domain.BudgetConfig(members * 50_000, CONFIG.centre_key, CONFIG.epci_key)
    rng = random.Random(f"bench budget {members}")
    async with database_pool(admin_url, db) as pool:
        async with pool.acquire() as connection:
            shared = db.MigrationSource("shared", db.SHARED_MIGRATIONS)
            await db.migrate(connection, [shared, migrations])
            await _seed(connection, members, rng)
        async with unit_of_work(pool) as uow:
            await compute(uow, config, True)
        times = []
        for round_ in range(ROUNDS):
            async with pool.acquire() as connection:
                await _change(connection, scenario, round_, rng)
                written = await connection.fetchval("SELECT count(*) FROM outbox")
            started = time.perf_counter()
            async with unit_of_work(pool) as uow:
                await compute(uow, config, False)
            times.append(time.perf_counter() - started)
        async with pool.acquire() as connection:
            latest = ROUNDS + 1
            version = await repository(connection).version(YEAR, latest)
            assert version is not None, "every round writes a version"
            shares = await repository(connection).centre_shares(YEAR, latest)
            events = await connection.fetchval("SELECT count(*) FROM outbox") - written
        rows = [astuple(share) for share in shares]
        median = statistics.median(times) * 1000
        return Recalculation(median, version.changed_centres, events, rows)


async def recalculation_figures(admin_url: str) -> list[Figure]:
    figures = []
    for scenario, label in (
        ("workstations", "one centre's workstations change"),
        ("approval", "an approval, 500 EUR per member"),
    ):
        for size in SIZES:
            now = await recalculations(admin_url, size, scenario, "now")
            before = await recalculations(admin_url, size, scenario, "before")
            if now.shares != before.shares:
                raise AssertionError(f"the shares differ from the previous code's ({label})")
            print(
                f"recalculation, {label}, {size:>6} members:"
                f" {now.median_ms:7.0f} ms ({now.median_ms * 1000 / size:6.1f} us/member),"
                f" before {before.median_ms:7.0f} ms ({before.median_ms * 1000 / size:6.1f}"
                f" us/member); {now.changed} shares moved, the same rows; {now.events:,} events"
                f" written, before {before.events:,}"
            )
            figures.append(
                Figure(
                    f"recalculation, {size:,} members, {label}, ms",
                    f"{now.median_ms:,.0f} ({now.median_ms * 1000 / size:.1f} us/member,"
                    f" {now.changed:,} shares moved, {now.events:,} events)",
                    f"before {before.median_ms:,.0f} ({before.median_ms * 1000 / size:.1f}"
                    f" us/member, {before.events:,} events)",
                    f"<= {TARGET_MS}" if size == 50_000 else "-",
                    now.median_ms <= TARGET_MS if size == 50_000 else None,
                )
            )
    return figures


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


async def storage_figures(admin_url: str) -> list[Figure]:
    storage = await budget_storage.measure(admin_url)
    versions, members = storage.versions, storage.members
    print(
        f"storage, {members:,} members after {versions:,} versions: {_mib(storage.now_bytes)}"
        f" ({storage.now_rows:,} rows of facts and classes), before"
        f" {_mib(storage.before_bytes)} ({storage.before_rows:,} rows, extrapolated from"
        f" {budget_storage.BEFORE_VERSIONS} versions)"
    )
    print(
        f"  an approval moved {storage.approvals_moving_all:.1%} of the shares on average;"
        f" storing the shares that moved would store {storage.moved_shares:,} rows"
        f" ({storage.moved_shares / (versions - 1):,.0f} per version)"
    )
    print(
        f"  reading a version's {members:,} shares: the last {storage.read_last_ms:.0f} ms,"
        f" version {versions // 2} {storage.read_middle_ms:.0f} ms;"
        f" before {storage.before_read_ms:.0f} ms"
    )
    per_version = (storage.now_bytes / versions, storage.before_bytes_per_version)
    return [
        Figure(
            f"budget storage, {members:,} members, {versions:,} versions",
            f"{_mib(storage.now_bytes)} ({per_version[0] / 1024:,.1f} KiB/version)",
            f"before {_mib(storage.before_bytes)} ({per_version[1] / 1024:,.0f} KiB/version)",
            "grows with changes",
            storage.now_bytes * 10 < storage.before_bytes,
        ),
        Figure(
            "budget storage: shares moved by the versions",
            f"{storage.moved_shares:,} (approval: {storage.approvals_moving_all:.0%})",
            "-",
            "-",
            None,
        ),
        Figure(
            f"read a version's {members:,} shares, ms",
            f"{storage.read_last_ms:,.0f} (last), {storage.read_middle_ms:,.0f} (middle)",
            f"before {storage.before_read_ms:,.0f}",
            "-",
            None,
        ),
    ]


async def burst(admin_url: str, bootstrap: str, count: int) -> None:
    async with fresh_database(admin_url, "bench_budget") as url:
        await _burst(url, bootstrap, count)


async def _burst(url: str, bootstrap: str, count: int) -> None:
    run = uuid.uuid4().hex[:8]
    topic, programme_topic = f"bench.registry.{run}", f"bench.programme.{run}"
    await create_topics(
        bootstrap,
        {
            topic: 6,
            f"{topic}.dlq": 1,
            f"{topic}.budget": 6,
            programme_topic: 6,
            f"{programme_topic}.dlq": 1,
        },
    )
    settings = BudgetSettings(
        _env_file=None,
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        agency_token="bench-agency-token",  # noqa: S106
        copil_token="bench-copil-token",  # noqa: S106
        log_json=False,
        log_level="WARNING",
        registry_topic=topic,
        programme_topic=programme_topic,
        budget_topic=f"{topic}.budget",
        consumer_group=f"bench-budget-{run}",
        programme_consumer_group=f"bench-budget-programme-{run}",
    )
    app = create_app(settings)
    registry = Registry(bootstrap, topic)
    programme = Programme(bootstrap, programme_topic)
    try:
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            async with runtime.unit_of_work() as uow:
                await configure_budget(
                    ConfigureBudget(YEAR, CONFIG, "bench"), uow, settings.publish_topic
                )
            # The EPCIs' populations first: without them the split by population waits.
            events = [epci_registered(CAPSO), epci_registered(CCPL)] + [
                membership(MembershipApproved, centre(workstations=i % 9), "pending", "member")
                for i in range(count)
            ]
            await registry.start()
            started = time.perf_counter()
            await registry.publish(events)
            while True:
                async with runtime.pool.acquire() as connection:
                    handled = await connection.fetchval("SELECT count(*) FROM inbox")
                    pending = await connection.fetchval("SELECT count(*) FROM pending_causes")
                    members = await connection.fetchval(
                        "SELECT member_count FROM versions WHERE year = $1"
                        " ORDER BY version DESC LIMIT 1",
                        YEAR,
                    )
                if handled == len(events) and pending == 0 and members == count:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            print(
                f"burst of {count} approvals absorbed in {elapsed:6.2f} s"
                f" ({count / elapsed:6.0f} events/s) with"
                f" {app.state.recalculator.runs} recalculation(s)"
            )
            await programme.start()
            started = time.perf_counter()
            await programme.publish([programme_validated(YEAR, 1, {"ateliers": "40000.00"})])
            status = await polled(
                runtime.pool,
                "SELECT financing->>'status' FROM versions WHERE year = $1"
                " ORDER BY version DESC LIMIT 1",
                YEAR,
                until=lambda status: status != "awaiting_programme",
                every=0.01,
            )
            elapsed = time.perf_counter() - started
            print(
                f"programme validation -> plan in a new version ({count} members):"
                f" {elapsed * 1000:6.0f} ms (financing plan {status})"
            )
    finally:
        await registry.stop()
        await programme.stop()


async def main() -> list[Figure]:
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    print(
        f"budget bench: recalculations of {', '.join(map(str, SIZES))} members"
        f" ({ROUNDS} rounds), storage, a burst of {BURST}"
    )
    figures = await recalculation_figures(admin_url)
    figures += await storage_figures(admin_url)
    await burst(admin_url, bootstrap, BURST)
    return figures


if __name__ == "__main__":
    from bench.figures import table

    print(table(asyncio.run(main())))
