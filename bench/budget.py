"""Budget figures on the real PostgreSQL and Kafka (``python -m bench.budget``).

* one recalculation of a year's shares for 100, 1,000, 10,000 and 50,000 members (the
  worst case: one centre's workstations change, so that every share moves and every centre
  gets an event), with its peak Python memory; it must grow linearly;
* the time for the budget service to absorb a burst of 5,000 approvals from Kafka: every event
  handled (inbox) and the shares recalculated, and how many recalculations that took;
* then, with those members, the time from a programme validation published on Kafka to the
  version whose financing plan uses it.

``make bench`` prints these after the foundation's figures (``bench/__main__.py``).
"""

import asyncio
import os
import time
import tracemalloc
import uuid
from datetime import UTC, datetime

import asyncpg
from crnt_budget import domain
from crnt_budget.app import MIGRATIONS, create_app
from crnt_budget.handlers import ConfigureBudget, configure_budget, recalculate_dirty_year
from crnt_budget.settings import BudgetSettings
from crnt_budget.testing import (
    CAPSO,
    CCPL,
    Programme,
    Registry,
    centre,
    membership,
    programme_validated,
)
from crnt_shared.contracts.registry import MembershipApproved
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.testing import create_topics

SIZES = [int(n) for n in os.environ.get("BENCH_BUDGET_SIZES", "100,1000,10000,50000").split(",")]
BURST = int(os.environ.get("BENCH_BUDGET_BURST", "5000"))
YEAR = datetime.now(UTC).year
CONFIG = domain.config_from_json(
    {
        "envelope": "30000.00",
        "centre_key": {"fixed_ratio": "0.5", "weight": "workstations"},
        "epci_key": "population",
    }
)


async def fresh_database(admin_url: str) -> str:
    name = f"bench_budget_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{admin_url.rpartition('/')[0]}/{name}"


async def drop_database(admin_url: str, url: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await admin.close()


async def one_recalculation(admin_url: str, members: int) -> None:
    url = await fresh_database(admin_url)
    pool = await create_pool(url)
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
            now = datetime.now(UTC)
            await connection.copy_records_to_table(
                "centres",
                records=[
                    (
                        uuid.uuid4(),
                        f"EPN {i}",
                        (CAPSO if i % 5 else CCPL)[0],
                        "EPCI",
                        i % 13,
                        "member",
                        True,
                        now,
                    )
                    for i in range(members)
                ],
                columns=[
                    "centre_id",
                    "name",
                    "epci_siren",
                    "epci_name",
                    "workstations",
                    "status",
                    "is_member",
                    "as_of",
                ],
            )
            # Each member's membership period (a year shares among the centres members in it).
            await connection.execute(
                "INSERT INTO memberships (centre_id, since) SELECT centre_id, as_of FROM centres"
            )
            for siren, name, population in (CAPSO, CCPL):
                await connection.execute(
                    "INSERT INTO epcis VALUES ($1, $2, $3, true, now())", siren, name, population
                )
        async with UnitOfWork(pool) as uow:
            await configure_budget(ConfigureBudget(YEAR, CONFIG, "bench"), uow, "bench.budget")
        async with pool.acquire() as connection:
            await connection.execute(
                "UPDATE centres SET workstations = workstations + 40"
                " WHERE centre_id = (SELECT centre_id FROM centres ORDER BY centre_id LIMIT 1)"
            )
            await connection.execute(
                "INSERT INTO pending_causes (year, event_id, event_type, subject)"
                " VALUES ($1, $2, 'bench', 'bench')",
                YEAR,
                uuid.uuid4(),
            )
        tracemalloc.start()
        started = time.perf_counter()
        async with UnitOfWork(pool) as uow:
            await recalculate_dirty_year(uow, YEAR, "bench.budget")
            await uow.commit()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        async with pool.acquire() as connection:
            events = await connection.fetchval("SELECT count(*) FROM outbox")
        print(
            f"recalculation, {members:>6} members: {elapsed * 1000:8.0f} ms"
            f"  ({elapsed / members * 1e6:6.1f} µs/member), peak {peak / 2**20:6.1f} MiB,"
            f" {events} outbox events in all"
        )
    finally:
        await pool.close()
        await drop_database(admin_url, url)


async def burst(admin_url: str, bootstrap: str, count: int) -> None:
    url = await fresh_database(admin_url)
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
            events = [
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
                if handled == count and pending == 0 and members == count:
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
            while True:
                async with runtime.pool.acquire() as connection:
                    status = await connection.fetchval(
                        "SELECT financing->>'status' FROM versions WHERE year = $1"
                        " ORDER BY version DESC LIMIT 1",
                        YEAR,
                    )
                if status != "awaiting_programme":
                    break
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            print(
                f"programme validation -> plan in a new version ({count} members):"
                f" {elapsed * 1000:6.0f} ms (financing plan {status})"
            )
    finally:
        await registry.stop()
        await programme.stop()
        await drop_database(admin_url, url)


async def main() -> None:
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    print(
        f"budget bench: recalculations of {', '.join(map(str, SIZES))} members, a burst of {BURST}"
    )
    for size in SIZES:
        await one_recalculation(admin_url, size)
    await burst(admin_url, bootstrap, BURST)


if __name__ == "__main__":
    asyncio.run(main())
