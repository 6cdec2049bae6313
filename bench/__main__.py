"""Foundation figures on the real broker and database, each beside its raw aiokafka baseline.

* relay: outbox rows committed → published with Kafka's ack (events/s), vs raw idempotent
  ``acks=all`` produce of the same payloads;
* consume with inbox: events handled in a transaction with their inbox row and an effect,
  offsets committed after each, vs a raw aiokafka consumer reading the same records.

Then the budget's figures (:mod:`bench.budget`). Sizes: ``BENCH_EVENTS`` here,
``BENCH_BUDGET_SIZES`` and ``BENCH_BUDGET_BURST`` there; the defaults keep ``make bench`` within
a few minutes on two cores.
"""

import asyncio
import os
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from crnt_shared.consumer import Bulk, EventConsumer
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.outbox import OutboxRelay, new_producer
from crnt_shared.testing import create_topics
from faststream.kafka import KafkaBroker

from bench import budget
from tests.foundation.contracts import EFFECTS_SQL, PingData, Pinged, record_effect, record_effects

EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))


def line(name: str, count: int, seconds: float, baseline: float | None = None) -> float:
    rate = count / seconds
    ratio = f"  ({rate / baseline:.2f} x raw)" if baseline else ""
    print(f"{name:<42} {count:>7} events in {seconds:6.2f} s = {rate:9.0f} events/s{ratio}")
    return rate


async def raw_produce(bootstrap: str, topic: str, payloads: list[bytes]) -> float:
    producer = new_producer(bootstrap, "bench-raw")
    await producer.start()
    started = time.perf_counter()
    futures = [
        await producer.send(topic, value=p, key=str(i % 97).encode())
        for i, p in enumerate(payloads)
    ]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return elapsed


async def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    while seen < count:
        batch = await consumer.getmany(timeout_ms=1000)
        seen += sum(len(records) for records in batch.values())
        await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return elapsed


async def relay_publish(
    pool: asyncpg.Pool, bootstrap: str, topic: str, events: list[Pinged]
) -> float:
    relay = OutboxRelay(pool, bootstrap_servers=bootstrap, service="bench", batch_size=500)
    async with UnitOfWork(pool) as uow:
        await uow.publish_many(events, topic=topic)
        await uow.commit()
    started = time.perf_counter()
    relay.start()
    while True:
        async with pool.acquire() as connection:
            pending = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL"
            )
        if pending == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await relay.stop()
    return elapsed


async def consume_with_inbox(
    pool: asyncpg.Pool,
    bootstrap: str,
    topic: str,
    count: int,
    max_batch: int,
    handler: Any = record_effect,
) -> float:
    broker = KafkaBroker(bootstrap, logger=None)
    EventConsumer(
        service="bench",
        group_id=f"bench-inbox-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handlers={Pinged: handler},
        pool=pool,
        max_batch=max_batch,
    ).register(broker)
    started = time.perf_counter()
    await broker.start()
    while True:
        async with pool.acquire() as connection:
            done = await connection.fetchval("SELECT count(*) FROM inbox")
        if done >= count:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    await broker.stop()
    return elapsed


async def foundation() -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await create_pool(f"{admin_url.rpartition('/')[0]}/{name}", max_size=4)
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS)])
            await connection.execute(EFFECTS_SQL)
        raw_topic, relay_topic = f"bench.raw.{name}", f"bench.relay.{name}"
        await create_topics(bootstrap, {raw_topic: 6, relay_topic: 6})
        events = [
            Pinged.create(source="/bench", subject=f"agg-{n % 97}", data=PingData(sequence=n))
            for n in range(EVENTS)
        ]
        print(
            f"foundation bench: {EVENTS} events of ~{len(events[0].to_json())} bytes, 6 partitions"
        )
        raw = line(
            "raw aiokafka produce (idempotent, acks=all)",
            EVENTS,
            await raw_produce(bootstrap, raw_topic, [e.to_json() for e in events]),
        )
        line(
            "outbox relay (commit -> Kafka ack)",
            EVENTS,
            await relay_publish(pool, bootstrap, relay_topic, events),
            raw,
        )
        raw = line(
            "raw aiokafka consume (commit per batch)",
            EVENTS,
            await raw_consume(bootstrap, relay_topic, EVENTS),
        )
        line(
            "consume with inbox (commits coalesced)",
            EVENTS,
            await consume_with_inbox(pool, bootstrap, relay_topic, EVENTS, 1),
            raw,
        )
        async with pool.acquire() as connection:
            await connection.execute("TRUNCATE inbox")
        line(
            "consume with inbox (batched, handler per event)",
            EVENTS,
            await consume_with_inbox(pool, bootstrap, relay_topic, EVENTS, 500),
            raw,
        )
        async with pool.acquire() as connection:
            await connection.execute("TRUNCATE inbox")
        line(
            "consume with inbox (batched, bulk handler)",
            EVENTS,
            await consume_with_inbox(
                pool, bootstrap, relay_topic, EVENTS, 500, Bulk(record_effects)
            ),
            raw,
        )
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    await foundation()
    print()
    await budget.main()


if __name__ == "__main__":
    asyncio.run(main())
