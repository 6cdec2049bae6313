"""The retention worker on the real PostgreSQL: published outbox rows older than the retention
go, batch after batch; rows not yet published, or set aside as refused, stay."""

import uuid
from datetime import timedelta

import asyncpg
import pytest
from crnt_shared.events import utcnow
from crnt_shared.retention import RetentionWorker, published_outbox_purge, run_purges
from crnt_shared.testing import wait_until

pytestmark = pytest.mark.integration


async def _row(
    pool: asyncpg.Pool, published_ago: timedelta | None, rejected: bool = False
) -> uuid.UUID:
    event_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, published_at,"
        " rejected_at) VALUES ($1, 't', 'k', 'x', '\\x7b7d', now() - $2::interval,"
        " CASE WHEN $3 THEN now() END)",
        event_id,
        published_ago,
        rejected,
    )
    return event_id


async def _left(pool: asyncpg.Pool) -> set[uuid.UUID]:
    return {row["event_id"] for row in await pool.fetch("SELECT event_id FROM outbox")}


async def test_published_rows_past_the_retention_go_in_batches(pool: asyncpg.Pool) -> None:
    old = [await _row(pool, timedelta(days=8)) for _ in range(5)]
    recent = await _row(pool, timedelta(days=1))
    unpublished = await _row(pool, None)
    refused = await _row(pool, None, rejected=True)
    purges = {"outbox": published_outbox_purge(timedelta(days=7), batch=2)}

    assert await run_purges(pool, purges, utcnow(), batch=2) == {"outbox": 5}
    assert await _left(pool) == {recent, unpublished, refused}
    assert old  # five went, two by two
    assert await run_purges(pool, purges, utcnow(), batch=2) == {"outbox": 0}


async def test_the_worker_purges_at_start_and_every_interval(pool: asyncpg.Pool) -> None:
    kept = await _row(pool, timedelta(hours=1))
    await _row(pool, timedelta(days=2))
    worker = RetentionWorker(
        lambda: pool, {"outbox": published_outbox_purge(timedelta(days=1))}, every_seconds=0.1
    )
    worker.start()
    try:

        async def purged() -> bool:
            return await _left(pool) == {kept}

        await wait_until(purged, timeout=10, message="the old row purged")
        late = await _row(pool, timedelta(days=3))  # written after the first round
        await wait_until(purged, timeout=10, message="the next round")
        assert late not in await _left(pool)
    finally:
        await worker.stop()
