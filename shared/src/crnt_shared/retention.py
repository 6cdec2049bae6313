"""Retention periods (RGPD, storage limitation): a worker of every service that deletes or
pseudonymises what has been kept long enough, in small transactions, once an interval.

Every service purges its published outbox rows (``CRNT_OUTBOX_RETENTION_DAYS``): once on Kafka,
an event lives as long as its topic's retention, and the row is only a record of its sending.
A service adds its own purges (the notifications' deliveries) to ``ServiceRuntime.purges``.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import structlog
from asyncpg import Connection, Pool

from crnt_shared.events import utcnow
from crnt_shared.worker import Worker

log = structlog.get_logger(__name__)

#: One batch of a purge: ``(connection, now) -> rows purged``; the worker repeats it while it
#: returns a full batch.
Purge = Callable[[Connection, datetime], Awaitable[int]]
BATCH = 1000


def published_outbox_purge(retention: timedelta, batch: int = BATCH) -> Purge:
    """Delete the outbox rows published more than ``retention`` ago (never one unpublished, nor
    one set aside as refused: those wait for a person)."""

    async def purge(connection: Connection, now: datetime) -> int:
        rows = await connection.fetch(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < $1"
            " ORDER BY id LIMIT $2) RETURNING id",
            now - retention,
            batch,
        )
        return len(rows)

    return purge


async def run_purges(
    pool: Pool, purges: Mapping[str, Purge], now: datetime, batch: int = BATCH
) -> dict[str, int]:
    """Each purge, batch after batch (one transaction each) until one is not full."""
    done: dict[str, int] = {}
    for name, purge in purges.items():
        total = 0
        while True:
            async with pool.acquire() as connection, connection.transaction():
                count = await purge(connection, now)
            total += count
            if count < batch:
                break
        done[name] = total
    return done


class RetentionWorker(Worker):
    def __init__(
        self, pool: Callable[[], Pool], purges: Mapping[str, Purge], every_seconds: float
    ) -> None:
        super().__init__("retention")
        self._pool = pool
        self._purges = purges
        self._every = every_seconds

    async def run(self) -> None:
        while True:
            try:
                done = await run_purges(self._pool(), self._purges, utcnow())
                if any(done.values()):
                    log.info("retention purged", **done)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the next round tries again
                log.warning("retention purge failed", error=type(error).__name__)
            await self.sleep(self._every)
