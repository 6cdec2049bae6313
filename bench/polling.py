"""How the benches wait for the system to be done: one query, asked again until its answer
says so (no timeout: a bench that never finishes is stopped by hand, and says where)."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg


async def polled(
    pool: asyncpg.Pool, query: str, *args: Any, until: Callable[[Any], bool], every: float
) -> Any:
    """Run ``query`` (one value) every ``every`` seconds until ``until`` holds of its answer;
    that answer."""
    while True:
        async with pool.acquire() as connection:
            value = await connection.fetchval(query, *args)
        if until(value):
            return value
        await asyncio.sleep(every)
