"""Foundation figures on the real broker and database, each beside its baseline of the same run
and its target (issue 15), then a table of them all.

* relay: outbox rows committed → published with Kafka's ack (events/s), vs raw idempotent
  ``acks=all`` produce of the same payloads; both run ``BENCH_ROUNDS`` times, alternately, and
  the medians are compared (this machine's two cores are shared: one run says little);
* consume with inbox: events handled in a transaction with their inbox row and an effect
  (an insert and an update), offsets committed after, vs a raw aiokafka consumer reading the
  same records; one transaction per event (``max_batch=1``, what the consumer did before) vs
  one per partition and fetch, with a handler per event and with a :class:`Bulk` handler;
* mail: deliveries sent by the notifications sender to a loopback SMTP server, the mailer as it
  is vs the previous one (:mod:`bench.mail`);
* peak resident memory of this process and of the SMTP server's.

Then the budget's figures (:mod:`bench.budget`). Sizes: ``BENCH_EVENTS``,
``BENCH_PER_EVENT_EVENTS`` (the slow per-event baseline), ``BENCH_MAILS`` here,
``BENCH_BUDGET_SIZES`` and ``BENCH_BUDGET_BURST`` there; the defaults keep ``make bench``
within a few minutes on two cores.
"""

import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from crnt_shared.consumer import Bulk
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.outbox import OutboxRelay, new_producer
from crnt_shared.testing import create_topics

from bench import budget, mail
from bench.figures import Figure, table
from bench.memory import peak_rss_mib
from bench.polling import drained, polled
from tests.databases import fresh_database
from tests.foundation import contracts

EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
PER_EVENT_EVENTS = int(os.environ.get("BENCH_PER_EVENT_EVENTS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def line(name: str, count: int, seconds: float, baseline: float | None = None) -> float:
    rate = count / seconds
    ratio = f"  ({rate / baseline:.2f} x raw)" if baseline else ""
    print(f"{name:<50} {count:>7} events in {seconds:6.2f} s = {rate:9.0f} events/s{ratio}")
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
    pool: asyncpg.Pool, bootstrap: str, topic: str, events: list[contracts.Pinged]
) -> float:
    async with pool.acquire() as connection:
        await connection.execute("TRUNCATE outbox")
    relay = OutboxRelay(pool, bootstrap_servers=bootstrap, service="bench", batch_size=500)
    async with UnitOfWork(pool) as uow:
        await uow.publish_many(events, topic=topic)
        await uow.commit()
    unpublished = "SELECT count(*) FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL"
    return await drained(pool, relay, unpublished, every=0.02)


async def consume_with_inbox(
    pool: asyncpg.Pool,
    bootstrap: str,
    topic: str,
    count: int,
    max_batch: int,
    handler: Any = contracts.record_effect,
) -> float:
    """Time to handle the first ``count`` events of ``topic`` from a new group."""
    async with pool.acquire() as connection:
        await connection.execute("TRUNCATE inbox")
    group_id = f"bench-inbox-{uuid.uuid4().hex[:6]}"
    broker = contracts.ping_consumer(
        bootstrap,
        pool,
        topic,
        service="bench",
        group_id=group_id,
        handler=handler,
        max_batch=max_batch,
    )
    started = time.perf_counter()
    await broker.start()
    await polled(pool, "SELECT count(*) FROM inbox", until=lambda done: done >= count, every=0.02)
    elapsed = time.perf_counter() - started
    await broker.stop()
    return elapsed


async def foundation() -> list[Figure]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["CRNT_TEST_ADMIN_DATABASE_URL"]
    figures: list[Figure] = []
    async with fresh_database(admin_url, "bench") as url:
        name = url.rpartition("/")[2]
        pool = await create_pool(url, max_size=4)
        try:
            async with pool.acquire() as connection:
                await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS)])
                await connection.execute(contracts.EFFECTS_SQL)
            raw_topic, relay_topic = f"bench.raw.{name}", f"bench.relay.{name}"
            await create_topics(bootstrap, {raw_topic: 6, relay_topic: 6})
            events = [
                contracts.Pinged.create(
                    source="/bench", subject=f"agg-{n % 97}", data=contracts.PingData(sequence=n)
                )
                for n in range(EVENTS)
            ]
            payloads = [e.to_json() for e in events]
            print(
                f"foundation bench: {EVENTS} events of ~{len(payloads[0])} bytes, 6 partitions,"
                f" {ROUNDS} rounds of produce and relay"
            )
            raws, relays = [], []
            for _ in range(ROUNDS):
                raws.append(
                    line(
                        "raw aiokafka produce (idempotent, acks=all)",
                        EVENTS,
                        await raw_produce(bootstrap, raw_topic, payloads),
                    )
                )
                relays.append(
                    line(
                        "outbox relay (commit -> Kafka ack)",
                        EVENTS,
                        await relay_publish(pool, bootstrap, relay_topic, events),
                        raws[-1],
                    )
                )
            raw, relay = statistics.median(raws), statistics.median(relays)
            figures.append(
                Figure(
                    "outbox relay, events/s (median)",
                    f"{relay:,.0f} ({relay / raw:.2f} x raw)",
                    f"raw produce {raw:,.0f}",
                    ">= 0.5 x raw",
                    relay / raw >= 0.5,
                )
            )
            raw_rate = line(
                "raw aiokafka consume (commit per batch)",
                EVENTS,
                await raw_consume(bootstrap, relay_topic, EVENTS),
            )
            per_event = line(
                "consume with inbox, a transaction per event",
                PER_EVENT_EVENTS,
                await consume_with_inbox(pool, bootstrap, relay_topic, PER_EVENT_EVENTS, 1),
                raw_rate,
            )
            batched = line(
                "consume with inbox, batched, handler per event",
                EVENTS,
                await consume_with_inbox(pool, bootstrap, relay_topic, EVENTS, 500),
                raw_rate,
            )
            bulk = line(
                "consume with inbox, batched, bulk handler",
                EVENTS,
                await consume_with_inbox(
                    pool, bootstrap, relay_topic, EVENTS, 500, Bulk(contracts.record_effects)
                ),
                raw_rate,
            )
            baseline = f"per event {per_event:,.0f}; raw {raw_rate:,.0f}"
            figures += [
                Figure(
                    "consume with inbox, handler per event, ev/s",
                    f"{batched:,.0f}",
                    baseline,
                    ">= 10,000",
                    batched >= 10_000,
                ),
                Figure(
                    "consume with inbox, bulk handler, ev/s",
                    f"{bulk:,.0f}",
                    baseline,
                    ">= 10,000",
                    bulk >= 10_000,
                ),
            ]
        finally:
            await pool.close()
    rates = await mail.measure(admin_url)
    print(f"{'mail, previous mailer':<50} {rates['previous']:9.0f} mails/s")
    print(f"{'mail, pooled connections, messages as bytes':<50} {rates['now']:9.0f} mails/s")
    figures.append(
        Figure(
            "mail to a loopback SMTP server, mails/s",
            f"{rates['now']:,.0f}",
            f"previous mailer {rates['previous']:,.0f}",
            ">= 500",
            rates["now"] >= 500,
        )
    )
    figures.append(
        Figure(
            "peak RSS, MiB: bench process / SMTP server",
            f"{peak_rss_mib():.0f} / {rates['sink_rss_mib']:.0f}",
            "-",
            "< 300 each",
            max(peak_rss_mib(), rates["sink_rss_mib"]) < 300,
        )
    )
    return figures


async def main() -> None:
    figures = await foundation()
    print()
    figures += await budget.main()
    print()
    print(table(figures))


if __name__ == "__main__":
    asyncio.run(main())
