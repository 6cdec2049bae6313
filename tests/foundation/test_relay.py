"""The outbox relay on the real broker and database: a row Kafka refuses is set aside, and the
rows behind it are published."""

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from crnt_shared.db import UnitOfWork
from crnt_shared.metrics import OUTBOX_REJECTED
from crnt_shared.outbox import OutboxRelay
from crnt_shared.testing import wait_until

from tests.foundation.contracts import PingData, Pinged

pytestmark = pytest.mark.integration


def _ping(sequence: int) -> Pinged:
    return Pinged.create(source="/tests", subject="agg-1", data=PingData(sequence=sequence))


async def _write(pool: asyncpg.Pool, topic: str, before: int, oversized: bytes, after: int) -> None:
    """``before`` pings, a row of ``oversized`` bytes, then ``after`` pings, all on one key."""
    async with UnitOfWork(pool) as uow:
        await uow.publish_many([_ping(n) for n in range(before)], topic=topic)
        await uow.connection.execute(
            "INSERT INTO outbox (event_id, topic, key, event_type, payload)"
            " VALUES ($1, $2, 'agg-1', 'fr.crnt.test.pinged.v1', $3)",
            uuid.uuid4(),
            topic,
            oversized,
        )
        await uow.publish_many([_ping(n) for n in range(before, before + after)], topic=topic)
        await uow.commit()


async def _read(bootstrap: str, topic: str, expected: int) -> list[int]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    sequences: list[int] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(sequences) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                sequences += [Pinged.model_validate_json(r.value).data.sequence for r in records]
    finally:
        await consumer.stop()
    return sequences


async def _relay_until_settled(pool: asyncpg.Pool, bootstrap: str) -> None:
    relay = OutboxRelay(
        pool, bootstrap_servers=bootstrap, service="test", batch_size=50, poll_seconds=0.1
    )
    relay.start()
    try:

        async def settled() -> bool:
            async with pool.acquire() as connection:
                pending = await connection.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL"
                )
            return bool(pending == 0)

        await wait_until(settled, timeout=60, message="every row published or set aside")
    finally:
        await relay.stop()


def _rejected(topic: str) -> float:
    value = OUTBOX_REJECTED.labels("test", topic)._value.get()
    return float(value)


async def _rejection(pool: asyncpg.Pool) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            "SELECT rejected_at, rejection, published_at FROM outbox WHERE rejected_at IS NOT NULL"
        )
    assert row is not None
    return row


async def test_an_event_larger_than_kafka_takes_is_set_aside_and_the_rows_behind_it_published(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic: str
) -> None:
    await _write(pool, topic, before=120, oversized=b"x" * (2 * 1024 * 1024), after=130)
    await _relay_until_settled(pool, kafka_bootstrap)
    assert await _read(kafka_bootstrap, topic, 250) == list(range(250))  # in order, none lost
    row = await _rejection(pool)
    assert row["published_at"] is None
    assert "MessageSizeTooLarge" in row["rejection"]
    assert _rejected(topic) == 1


async def test_a_row_the_topic_refuses_on_the_broker_side_is_found_and_set_aside(
    pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    """The producer's limit passes it, the topic's own ``max.message.bytes`` does not."""
    topic = f"test.small.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "100000"})]
        )
    finally:
        await admin.close()
    await _write(pool, topic, before=30, oversized=b"y" * 300_000, after=40)
    await _relay_until_settled(pool, kafka_bootstrap)
    assert await _read(kafka_bootstrap, topic, 70) == list(range(70))
    row = await _rejection(pool)
    assert "MessageSizeTooLarge" in row["rejection"] or "RecordListTooLarge" in row["rejection"]
    assert _rejected(topic) == 1
