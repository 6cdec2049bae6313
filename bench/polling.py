"""How the benches wait for the system to be done: one query, asked again until its answer
says so (no timeout: a bench that never finishes is stopped by hand, and says where)."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

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


class Worker(Protocol):
    """What runs in the background from ``start`` to ``stop`` (a relay, a sender)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


async def drained(pool: asyncpg.Pool, worker: Worker, left: str, every: float) -> float:
    """Seconds from starting ``worker`` until ``left`` (a count, asked every ``every``
    seconds) is 0; the worker is stopped then."""
    started = time.perf_counter()
    worker.start()
    await polled(pool, left, until=lambda count: count == 0, every=every)
    elapsed = time.perf_counter() - started
    await worker.stop()
    return elapsed


class Every:
    """``step`` run every ``seconds`` in the background from :meth:`start` to :meth:`stop`; a
    step that fails with one of ``failures`` is told on stdout and the next one tries again."""

    def __init__(
        self,
        seconds: float,
        step: Callable[[], Awaitable[None]],
        what: str,
        failures: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self.seconds, self.step, self.what, self.failures = seconds, step, what, failures
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except self.failures as error:
                print(f"  ({self.what} failed: {error!r}; trying again)")
            await asyncio.sleep(self.seconds)
