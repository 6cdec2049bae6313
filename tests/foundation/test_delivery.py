"""Outbox → Kafka → consumer with inbox, on the real broker and database."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from crnt_shared.consumer import RetryPolicy
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, migrate
from crnt_shared.testing import wait_until
from faststream.kafka import KafkaBroker

from tests.foundation.contracts import PingData, Pinged, ping_consumer, record_effect

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("worker.py")
EVENTS = 1000


def _ping(topic: str, sequence: int) -> Pinged:
    return Pinged.create(
        source="/tests", subject=f"agg-{sequence % 17}", data=PingData(sequence=sequence)
    )


class Worker:
    def __init__(self, role: str, database_url: str, bootstrap: str, topic: str) -> None:
        self.args = [sys.executable, str(WORKER), role, database_url, bootstrap, topic]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.args, env=env)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


async def _count(pool: asyncpg.Pool, sql: str) -> int:
    async with pool.acquire() as connection:
        value = await connection.fetchval(sql)
    return int(value)


async def test_every_event_has_its_effect_exactly_once_through_kills_and_restarts(
    pool: asyncpg.Pool, database_url: str, kafka_bootstrap: str, topic: str
) -> None:
    """1,000 events in four waves; the consumer and the relay are SIGKILLed between and
    during them, then restarted."""

    async def write_wave(wave: int) -> None:
        size = EVENTS // 4
        async with UnitOfWork(pool) as uow:
            events = [_ping(topic, n) for n in range(wave * size, (wave + 1) * size)]
            await uow.publish_many(events, topic=topic)
            await uow.commit()

    async def effects() -> int:
        return await _count(pool, "SELECT count(*) FROM effects")

    consumer = Worker("consumer", database_url, kafka_bootstrap, topic)
    relay = Worker("relay", database_url, kafka_bootstrap, topic)
    try:
        consumer.start()
        relay.start()
        await write_wave(0)
        await wait_until(lambda: _at_least(effects, 100), timeout=90, message="first effects")
        consumer.kill()  # in the middle of the first wave
        await write_wave(1)
        relay.kill()  # while it publishes the second wave
        relay.start()
        consumer.start()
        await write_wave(2)
        await wait_until(lambda: _at_least(effects, 600), timeout=90, message="third wave")
        consumer.kill()
        relay.kill()
        await write_wave(3)  # written while neither runs
        relay.start()
        consumer.start()
        await wait_until(lambda: _at_least(effects, EVENTS), timeout=120, message="all effects")
        await asyncio.sleep(2)  # a late duplicate would show now
    finally:
        consumer.stop()
        relay.stop()
    assert await _count(pool, "SELECT count(*) FROM effects") == EVENTS
    assert await _count(pool, "SELECT count(DISTINCT sequence) FROM effects") == EVENTS
    assert await _count(pool, "SELECT total FROM counter") == EVENTS
    assert await _count(pool, "SELECT count(*) FROM inbox") == EVENTS
    assert await _count(pool, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def _at_least(counter: object, target: int) -> bool:
    assert callable(counter)
    return bool(await counter() >= target)


async def _consume_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 30.0
) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(records) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                records.extend(messages)
    finally:
        await consumer.stop()
    return records


@pytest.fixture
async def running_consumer(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> AsyncIterator[KafkaBroker]:
    retry = RetryPolicy(max_attempts=3, backoff_seconds=0.05, backoff_max_seconds=2.0)
    broker = ping_consumer(kafka_bootstrap, pool, topic, retry=retry)
    await broker.start()
    yield broker
    await broker.stop()


async def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=b"agg-1")
    finally:
        await producer.stop()


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_next_one_is_handled(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str, running_consumer: KafkaBroker
) -> None:
    good = _ping(topic, 7)
    wrong_data = _ping(topic, 8).model_dump(mode="json") | {"data": {"sequence": "eight"}}
    import json

    await _produce(
        kafka_bootstrap, topic, b"\xff not json", json.dumps(wrong_data).encode(), good.to_json()
    )
    await wait_until(
        lambda: _at_least(lambda: _count(pool, "SELECT count(*) FROM effects"), 1),
        message="the good event",
    )
    letters = await _consume_all(kafka_bootstrap, f"{topic}.dlq", expected=2)
    assert len(letters) == 2
    headers = [{k: v.decode() for k, v in letter.headers} for letter in letters]
    assert letters[0].value == b"\xff not json"
    assert headers[0]["dlq-original-topic"] == topic
    assert headers[0]["dlq-consumer-group"] == f"{topic}.consumer"
    assert headers[0]["dlq-original-offset"] == "0"
    assert "not a valid CloudEvent" in headers[0]["dlq-error"]
    assert "sequence" in headers[1]["dlq-error"]
    async with pool.acquire() as connection:
        assert await connection.fetchval("SELECT sequence FROM effects") == 7


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_bounded_retries(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    calls = 0

    async def failing(event: Pinged, uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        if event.data.sequence == 1:
            raise ValueError("this ping cannot be handled")
        await record_effect(event, uow)

    retry = RetryPolicy(max_attempts=3, backoff_seconds=0.05, backoff_max_seconds=0.2)
    broker = ping_consumer(kafka_bootstrap, pool, topic, handler=failing, retry=retry)
    await broker.start()
    try:
        await _produce(kafka_bootstrap, topic, _ping(topic, 1).to_json(), _ping(topic, 2).to_json())
        await wait_until(
            lambda: _at_least(lambda: _count(pool, "SELECT count(*) FROM effects"), 1),
            message="the second event",
        )
    finally:
        await broker.stop()
    letters = await _consume_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
    assert len(letters) == 1
    headers = {k: v.decode() for k, v in letters[0].headers}
    assert headers["dlq-reason"] == "handler-failed"
    assert "this ping cannot be handled" in headers["dlq-error"]
    assert calls == 4  # three attempts for the first, one for the second


async def test_the_consumer_waits_while_postgres_is_down_and_resumes(
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    topic: str,
    running_consumer: KafkaBroker,
    postgres_outage: Callable[[float], Coroutine[Any, Any, None]],
) -> None:
    await _produce(kafka_bootstrap, topic, _ping(topic, 1).to_json())
    await wait_until(lambda: _at_least(lambda: _count(pool, "SELECT count(*) FROM effects"), 1))
    outage = asyncio.create_task(postgres_outage(4.0))
    await asyncio.sleep(1.0)  # PostgreSQL is down now
    await _produce(kafka_bootstrap, topic, _ping(topic, 2).to_json(), _ping(topic, 3).to_json())
    await outage
    await wait_until(
        lambda: _at_least(lambda: _count(pool, "SELECT count(*) FROM effects"), 3),
        timeout=60,
        message="the events sent during the outage",
    )
    assert await _count(pool, "SELECT count(*) FROM effects") == 3
    assert await _consume_all(kafka_bootstrap, f"{topic}.dlq", expected=1, timeout=3) == []


async def test_a_redelivered_event_is_handled_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str, running_consumer: KafkaBroker
) -> None:
    event = _ping(topic, 3)
    await _produce(
        kafka_bootstrap, topic, event.to_json(), event.to_json(), _ping(topic, 4).to_json()
    )
    await wait_until(
        lambda: _at_least(lambda: _count(pool, "SELECT count(*) FROM inbox"), 2),
        message="two events",
    )
    await asyncio.sleep(1)
    assert await _count(pool, "SELECT count(*) FROM effects") == 2


async def test_two_replicas_migrating_at_once_apply_each_migration_once(
    database_url: str,
) -> None:
    first, second = await asyncio.gather(
        asyncpg.connect(database_url), asyncpg.connect(database_url)
    )
    try:
        sources = [MigrationSource("shared", SHARED_MIGRATIONS)]
        applied = await asyncio.gather(migrate(first, sources), migrate(second, sources))
        rows = await first.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await first.close()
        await second.close()
    shared = len([entry for entry in SHARED_MIGRATIONS.iterdir() if entry.name.endswith(".sql")])
    assert shared >= 1
    assert sorted(len(names) for names in applied) == [0, shared]
    assert rows == shared


async def test_migrations_applied_twice_change_nothing(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        before = await connection.fetch("SELECT * FROM schema_migrations ORDER BY version")
        applied = await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS)])
        after = await connection.fetch("SELECT * FROM schema_migrations ORDER BY version")
    assert applied == []
    assert before == after
