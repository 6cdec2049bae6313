"""The outbox relay: publishes outbox rows to Kafka, in order per key, until Kafka confirms.

* One relay per database publishes at a time (a session advisory lock), so that two replicas
  never interleave the events of one key.
* The producer is idempotent with ``acks=all``; a failed batch is retried whole after the
  producer is recreated, because aiokafka can stay stuck after a fatal producer error such as
  OutOfOrderSequenceNumber (aio-libs/aiokafka#1017). Retrying may publish a row twice, never
  zero times: consumers deduplicate with their inbox.
* It is woken in-process right after a commit that wrote rows (``wake``), and polls as a
  fallback for rows written by other processes. No NOTIFY: it takes a global lock at commit.
"""

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from crnt_shared.db import Connection, Pool, _lock_key
from crnt_shared.events import CONTENT_TYPE
from crnt_shared.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_PUBLISHED
from crnt_shared.worker import Worker

log = structlog.get_logger(__name__)

RETENTION = timedelta(days=7)
_TRANSIENT_DB_ERRORS = (OSError, asyncio.TimeoutError)


def new_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15_000,
        max_request_size=4 * 1024 * 1024,
    )


class OutboxRelay(Worker):
    def __init__(
        self,
        pool: Pool,
        *,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._pool = pool
        self._bootstrap_servers = bootstrap_servers
        self._service = service
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._producer: AIOKafkaProducer | None = None
        self._connection: Connection | None = None
        self._last_stats = 0.0
        self._last_cleanup = 0.0
        self.kafka_ok = False
        super().__init__(f"{service}-outbox-relay")

    async def stop(self) -> None:
        await super().stop()
        await self._close_producer()
        await self._release_connection()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                published = await self.publish_once()
                failures = 0
                if published < self._batch_size:
                    await self.sleep(self._poll_seconds)
            except asyncio.CancelledError:
                raise
            except (KafkaError, *_TRANSIENT_DB_ERRORS) as error:
                failures += 1
                await self._recover(error, failures)
            except Exception as error:  # asyncpg errors and the unexpected: log, retry
                failures += 1
                log.exception("outbox relay cycle failed", error=str(error))
                await self._recover(error, failures)

    async def _recover(self, error: BaseException, failures: int) -> None:
        self.kafka_ok = self.kafka_ok and not isinstance(error, KafkaError)
        delay = min(self._max_backoff, 0.1 * 2 ** min(failures, 10))
        log.warning("outbox relay retrying", error=repr(error), retry_in_seconds=delay)
        await self._close_producer()
        await self._release_connection()
        await asyncio.sleep(delay)

    async def publish_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        connection = await self._leader_connection()
        if connection is None:
            return 0
        rows = await connection.fetch(
            "SELECT id, topic, key, payload FROM outbox WHERE published_at IS NULL"
            " ORDER BY id LIMIT $1",
            self._batch_size,
        )
        await self._housekeeping(connection)
        if not rows:
            return 0
        producer = await self._ready_producer()
        headers = [("content-type", CONTENT_TYPE.encode())]
        futures = [
            await producer.send(
                row["topic"], value=row["payload"], key=row["key"].encode(), headers=headers
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
        await connection.execute(
            "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
            [row["id"] for row in rows],
        )
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _ready_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(self._bootstrap_servers, f"{self._service}-outbox")
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        self.kafka_ok = True
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _leader_connection(self) -> Connection | None:
        """The connection holding the relay lock, or ``None`` while another relay holds it."""
        if self._connection is None:
            connection = await self._pool.acquire()
            locked = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", _lock_key("crnt.outbox-relay")
            )
            if not locked:
                await self._pool.release(connection)
                return None
            self._connection = connection
        return self._connection

    async def _release_connection(self) -> None:
        """Give the leader connection back, even when cancelled meanwhile: a connection never
        released would keep the pool from closing. Releasing resets the session, which drops
        the advisory lock too."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with contextlib.suppress(Exception):
                await connection.execute(
                    "SELECT pg_advisory_unlock($1)", _lock_key("crnt.outbox-relay")
                )
        finally:
            with contextlib.suppress(Exception):
                await self._pool.release(connection)

    async def _housekeeping(self, connection: Connection) -> None:
        now = time.monotonic()
        if now - self._last_stats >= 1.0:
            self._last_stats = now
            row = await connection.fetchrow(
                "SELECT count(*) AS pending,"
                " coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS age"
                " FROM outbox WHERE published_at IS NULL"
            )
            OUTBOX_PENDING.labels(self._service).set(row["pending"])
            OUTBOX_OLDEST_AGE.labels(self._service).set(float(row["age"]))
        if now - self._last_cleanup >= 3600:
            self._last_cleanup = now
            await connection.execute(
                "DELETE FROM outbox WHERE published_at < clock_timestamp() - $1::interval",
                RETENTION,
            )
