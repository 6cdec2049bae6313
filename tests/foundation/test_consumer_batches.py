"""The consumer takes what one fetch returns in one transaction per partition, on the real broker
and database; a poison in a batch goes alone to the dead-letter topic."""

import asyncio
from collections.abc import Sequence

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from crnt_shared.consumer import MAX_TRANSACTION, Bulk, RetryPolicy
from crnt_shared.db import UnitOfWork
from crnt_shared.testing import wait_until
from jinja2 import TemplateNotFound

from tests.foundation.contracts import (
    EFFECTS_SQL,
    PingData,
    Pinged,
    ping_consumer,
    record_effect,
    record_effects,
)

pytestmark = pytest.mark.integration

TRANSACTIONS_SQL = "CREATE TABLE handled_in (sequence integer NOT NULL, txid bigint NOT NULL)"
RETRY = RetryPolicy(max_attempts=3, backoff_seconds=0.05, backoff_max_seconds=0.2)


@pytest.fixture
def schema() -> Sequence[str]:
    return (EFFECTS_SQL, TRANSACTIONS_SQL)


def _ping(sequence: int, subject: str | None = None) -> Pinged:
    return Pinged.create(
        source="/tests", subject=subject or f"agg-{sequence % 7}", data=PingData(sequence=sequence)
    )


async def _produce(bootstrap: str, topic: str, events: list[Pinged]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=event.to_json(), key=event.subject.encode())
            for event in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _count(pool: asyncpg.Pool, sql: str) -> int:
    async with pool.acquire() as connection:
        return int(await connection.fetchval(sql))


async def _dead_letters(bootstrap: str, topic: str, expected: int, timeout: float) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        f"{topic}.dlq", bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(values) < expected or asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            values.extend(record.value for records in batch.values() for record in records)
            if asyncio.get_running_loop().time() >= deadline:
                break
    finally:
        await consumer.stop()
    return values


async def _run_consumer(
    pool: asyncpg.Pool,
    bootstrap: str,
    topic: str,
    handler: object,
    until: str,
    target: int,
    max_transaction: int = MAX_TRANSACTION,
) -> None:
    broker = ping_consumer(
        bootstrap, pool, topic, handler=handler, retry=RETRY, max_transaction=max_transaction
    )
    await broker.start()
    try:

        async def reached() -> bool:
            return await _count(pool, until) >= target

        await wait_until(reached, timeout=60, message=until)
        await asyncio.sleep(1)  # a late duplicate or a stray retry would show now
    finally:
        await broker.stop()


async def record_with_transaction(event: Pinged, uow: UnitOfWork) -> None:
    await record_effect(event, uow)
    await uow.connection.execute(
        "INSERT INTO handled_in VALUES ($1, txid_current())", event.data.sequence
    )


async def test_what_one_fetch_returns_commits_in_one_transaction_per_partition(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    events = [_ping(n) for n in range(300)]
    await _produce(kafka_bootstrap, topic, [*events, events[10]])  # and one redelivered
    await _run_consumer(
        pool, kafka_bootstrap, topic, record_with_transaction, "SELECT count(*) FROM effects", 300
    )
    assert await _count(pool, "SELECT count(*) FROM effects") == 300
    assert await _count(pool, "SELECT count(DISTINCT sequence) FROM effects") == 300
    assert await _count(pool, "SELECT total FROM counter") == 300
    assert await _count(pool, "SELECT count(*) FROM inbox") == 300
    # Three partitions, 300 events read at once: a handful of transactions, not 300.
    assert await _count(pool, "SELECT count(DISTINCT txid) FROM handled_in") <= 30


async def test_a_transaction_holds_at_most_max_transaction_events(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    events = [_ping(n, subject="agg-one-partition") for n in range(50)]
    await _produce(kafka_bootstrap, topic, events)
    await _run_consumer(
        pool,
        kafka_bootstrap,
        topic,
        record_with_transaction,
        "SELECT count(*) FROM effects",
        50,
        max_transaction=8,
    )
    assert await _count(pool, "SELECT count(*) FROM effects") == 50
    assert await _count(pool, "SELECT total FROM counter") == 50
    largest = "SELECT max(n) FROM (SELECT count(*) AS n FROM handled_in GROUP BY txid) AS t"
    assert await _count(pool, largest) <= 8
    assert await _count(pool, "SELECT count(DISTINCT txid) FROM handled_in") >= 7
    in_order = (
        "SELECT bool_and(ordered) FROM (SELECT min(sequence) > lag(max(sequence), 1, -1)"
        " OVER (ORDER BY min(sequence)) AS ordered FROM handled_in GROUP BY txid) AS t"
    )
    assert await _count(pool, in_order) == 1


async def test_a_poison_in_a_batch_is_dead_lettered_alone_and_the_others_handled_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    calls: dict[int, int] = {}

    async def poisoned(event: Pinged, uow: UnitOfWork) -> None:
        sequence = event.data.sequence
        calls[sequence] = calls.get(sequence, 0) + 1
        if sequence == 50:
            raise ValueError("this ping cannot be handled")
        await record_with_transaction(event, uow)

    events = [_ping(n, subject="agg-one-partition") for n in range(100)]
    await _produce(kafka_bootstrap, topic, events)
    await _run_consumer(pool, kafka_bootstrap, topic, poisoned, "SELECT count(*) FROM effects", 99)
    assert await _count(pool, "SELECT count(*) FROM effects") == 99
    assert await _count(pool, "SELECT count(DISTINCT sequence) FROM effects") == 99
    assert await _count(pool, "SELECT count(*) FROM effects WHERE sequence = 50") == 0
    assert await _count(pool, "SELECT total FROM counter") == 99
    assert calls[50] == RETRY.max_attempts
    letters = await _dead_letters(kafka_bootstrap, topic, expected=1, timeout=3)
    assert [Pinged.model_validate_json(value).data.sequence for value in letters] == [50]


@pytest.mark.parametrize(
    "error",
    [TemplateNotFound("bienvenue.txt"), FileNotFoundError(2, "No such file", "/etc/crnt.key")],
    ids=["template-not-found", "missing-file"],
)
async def test_an_oserror_that_is_not_about_the_network_is_dead_lettered_not_retried_forever(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str, error: Exception
) -> None:
    calls = 0

    async def missing(event: Pinged, uow: UnitOfWork) -> None:
        nonlocal calls
        if event.data.sequence == 1:
            calls += 1
            raise error
        await record_effect(event, uow)

    await _produce(kafka_bootstrap, topic, [_ping(1, "agg-a"), _ping(2, "agg-a")])
    await _run_consumer(pool, kafka_bootstrap, topic, missing, "SELECT count(*) FROM effects", 1)
    letters = await _dead_letters(kafka_bootstrap, topic, expected=1, timeout=2)
    assert [Pinged.model_validate_json(value).data.sequence for value in letters] == [1]
    assert calls == RETRY.max_attempts


async def test_a_bulk_handler_takes_the_events_of_a_fetch_together_and_a_poison_alone(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    sizes: list[int] = []

    async def bulk(events: Sequence[Pinged], uow: UnitOfWork) -> None:
        sizes.append(len(events))
        if any(event.data.sequence == 120 for event in events):
            raise ValueError("this ping cannot be handled")
        await record_effects(events, uow)

    events = [_ping(n, subject="agg-one-partition") for n in range(200)]
    await _produce(kafka_bootstrap, topic, [*events, events[3]])
    await _run_consumer(
        pool, kafka_bootstrap, topic, Bulk(bulk), "SELECT count(*) FROM effects", 199
    )
    assert await _count(pool, "SELECT count(*) FROM effects") == 199
    assert await _count(pool, "SELECT count(DISTINCT sequence) FROM effects") == 199
    assert await _count(pool, "SELECT total FROM counter") == 199
    assert max(sizes) > 1
    letters = await _dead_letters(kafka_bootstrap, topic, expected=1, timeout=2)
    assert [Pinged.model_validate_json(value).data.sequence for value in letters] == [120]
