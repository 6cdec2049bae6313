"""The shared rate limiter on the real PostgreSQL: counts, windows, replicas, hashed keys."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from crnt_shared.db import create_pool
from crnt_shared.ratelimit import RATE_LIMITS_SQL, RateLimiter, TooManyRequests, hash_key

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    async with pool.acquire() as connection:
        await connection.execute(RATE_LIMITS_SQL)
        await connection.execute(RATE_LIMITS_SQL)  # idempotent: a second service may include it
    yield pool
    await pool.close()


async def test_the_limit_admits_that_many_then_refuses_with_the_time_left(
    pool: asyncpg.Pool,
) -> None:
    limiter = RateLimiter(pool)
    for _ in range(3):
        await limiter.check("k:a", limit=3, per=timedelta(minutes=10))
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check("k:a", limit=3, per=timedelta(minutes=10))
    assert 590 <= refused.value.retry_after <= 600
    # Another key has its own count.
    await limiter.check("k:b", limit=3, per=timedelta(minutes=10))


async def test_refusals_do_not_extend_the_window_and_it_reopens(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter(pool)
    await limiter.check("k:short", limit=1, per=timedelta(seconds=1))
    for _ in range(5):
        with pytest.raises(TooManyRequests) as refused:
            await limiter.check("k:short", limit=1, per=timedelta(seconds=1))
        assert refused.value.retry_after == 1
    await asyncio.sleep(1.1)
    await limiter.check("k:short", limit=1, per=timedelta(seconds=1))
    with pytest.raises(TooManyRequests):
        await limiter.check("k:short", limit=1, per=timedelta(seconds=1))


async def test_replicas_share_the_count(pool: asyncpg.Pool, database_url: str) -> None:
    other = await create_pool(database_url)
    try:
        replicas = [RateLimiter(pool), RateLimiter(other)]

        async def attempt(index: int) -> bool:
            try:
                await replicas[index % 2].check("k:shared", limit=7, per=timedelta(minutes=1))
                return True
            except TooManyRequests:
                return False

        admitted = await asyncio.gather(*(attempt(index) for index in range(40)))
    finally:
        await other.close()
    assert sum(admitted) == 7


async def test_keys_are_stored_hashed_and_ended_windows_purged(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter(pool)
    await limiter.check("applications:email:someone@example.org", limit=2, per=timedelta(hours=1))
    await limiter.check("k:brief", limit=2, per=timedelta(milliseconds=200))
    async with pool.acquire() as connection:
        stored = await connection.fetch("SELECT key_hash::text AS key FROM rate_limits")
        assert all("someone" not in row["key"] for row in stored)
        assert await connection.fetchval(
            "SELECT count(*) FROM rate_limits WHERE key_hash = $1",
            hash_key("applications:email:someone@example.org"),
        )
    await asyncio.sleep(0.3)
    assert await limiter.purge() == 1
    # The live window of the other key was kept: its second request passes, its third not.
    email = "applications:email:someone@example.org"
    await limiter.check(email, limit=2, per=timedelta(hours=1))
    with pytest.raises(TooManyRequests):
        await limiter.check(email, limit=2, per=timedelta(hours=1))


@pytest.mark.parametrize(("limit", "per"), [(0, timedelta(minutes=1)), (1, timedelta(0))])
async def test_a_limit_must_admit_something(pool: asyncpg.Pool, limit: int, per: timedelta) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        await RateLimiter(pool).check("k", limit=limit, per=per)
