"""The outbox relay: publishes outbox rows to Kafka, in order per key, until Kafka confirms.

* One relay per database publishes at a time (a session advisory lock), so that two replicas
  never interleave the events of one key.
* The producer is idempotent with ``acks=all``; a failed batch is retried whole after the
  producer is recreated, because aiokafka can stay stuck after a fatal producer error such as
  OutOfOrderSequenceNumber (aio-libs/aiokafka#1017). Retrying may publish a row twice, never
  zero times: consumers deduplicate with their inbox.
* Several batches are in flight at once (``pipeline``): the next one is read and handed to the
  producer while Kafka confirms the previous ones, and each is marked published once Kafka has
  confirmed it and every batch before it. The producer keeps one request in flight per
  partition, so that order per key holds across batches as within one.
* A row Kafka refuses for good (an event larger than the broker accepts) is set aside
  (``rejected_at``, with the reason), logged as an error and counted
  (``crnt_outbox_rejected_total``), rather than retried forever in front of the rows behind it.
  The producer's limit is the broker's default (``MAX_EVENT_BYTES``), so that such an event is
  refused on this side, alone; should a topic accept less, the refused batch is sent again one
  row at a time to find the culprit.
* It is woken in-process right after a commit that wrote rows (``wake``), and polls as a
  fallback for rows written by other processes. No NOTIFY: it takes a global lock at commit.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from crnt_shared.db import Connection, Pool, _lock_key
from crnt_shared.events import CONTENT_TYPE
from crnt_shared.metrics import (
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
    OUTBOX_REJECTED,
)
from crnt_shared.retry import Backoff
from crnt_shared.tracing import published
from crnt_shared.transient import is_transient
from crnt_shared.worker import Worker

log = structlog.get_logger(__name__)

RETENTION = timedelta(days=7)

#: The largest event the relay hands to Kafka, envelope and headers included: the broker's
#: default ``message.max.bytes`` (1,048,588) less a record batch's overhead.
MAX_EVENT_BYTES = 1_048_576

#: What Kafka says of a row it will never take, however often it is sent.
_REFUSALS = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)

_HEADERS = [("content-type", CONTENT_TYPE.encode())]


def _headers(row: Any) -> list[tuple[str, bytes]]:
    """The record's headers: its content type, and its trace context (the CloudEvents Kafka
    binding carries extensions as ``ce_`` headers; ``traceparent`` is also what W3C-aware
    Kafka tooling reads)."""
    traceparent = row["headers"].get("traceparent") if row["headers"] else None
    if not traceparent:
        return _HEADERS
    return [*_HEADERS, ("traceparent", traceparent.encode())]


def new_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        # No lingering: the relay hands the producer every row of a cycle before it yields, so
        # they share a batch anyway; lingering only delayed a lone row (an approval's) by 5 ms.
        linger_ms=0,
        request_timeout_ms=15_000,
        max_request_size=MAX_EVENT_BYTES,
    )


@dataclass
class _Batch:
    """Rows handed to the producer, and Kafka's answer to come for each."""

    sent: list[tuple[Any, "asyncio.Future[Any]"]] = field(default_factory=list)
    refused: list[tuple[Any, BaseException]] = field(default_factory=list)
    #: When the rows were handed to the producer (wall clock, ns): their spans start there.
    sent_ns: int = field(default_factory=time.time_ns)


class _Refused(Exception):
    """Kafka refused rows of a batch on its side: which ones, only sending them alone tells."""

    def __init__(self, rows: Sequence[Any]) -> None:
        super().__init__(f"{len(rows)} rows refused by the broker")
        self.rows = rows


class OutboxRelay(Worker):
    def __init__(
        self,
        pool: Pool,
        *,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 500,
        pipeline: int = 4,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._pool = pool
        self._bootstrap_servers = bootstrap_servers
        self._service = service
        self._batch_size = batch_size
        self._pipeline = pipeline
        self.retry = Backoff(0.2, max_backoff_seconds)
        self._producer: AIOKafkaProducer | None = None
        self._connection: Connection | None = None
        self._last_stats = 0.0
        self._last_cleanup = 0.0
        self.kafka_ok = False
        super().__init__(f"{service}-outbox-relay", poll_seconds=poll_seconds)

    async def stop(self) -> None:
        await super().stop()
        await self._close_producer()
        await self._release_connection()

    async def round(self) -> float:
        """Publish what is pending; a full batch goes on at once, else the relay polls."""
        published = await self.publish_once()
        return self.poll_seconds if published < self._batch_size else 0.0

    async def failed(self, error: Exception, retry_in: float) -> None:
        self.kafka_ok = self.kafka_ok and not isinstance(error, KafkaError)
        if not isinstance(error, KafkaError) and not is_transient(error):
            # The unexpected: its traceback in the log, then retried like the others.
            log.exception("outbox relay cycle failed", error=str(error))
        log.warning("outbox relay retrying", error=repr(error), retry_in_seconds=retry_in)
        await self._close_producer()
        await self._release_connection()

    async def publish_once(self) -> int:
        """Publish the pending rows, up to ``pipeline`` batches in flight; returns how many
        rows were published or set aside."""
        connection = await self._leader_connection()
        if connection is None:
            return 0
        await self._housekeeping(connection)
        in_flight: deque[_Batch] = deque()
        done, after, more = 0, 0, True
        try:
            while more or in_flight:
                if more and len(in_flight) < self._pipeline:
                    rows = await connection.fetch(
                        "SELECT id, topic, key, event_id, event_type, payload, headers FROM outbox"
                        " WHERE published_at IS NULL AND rejected_at IS NULL AND id > $2"
                        " ORDER BY id LIMIT $1",
                        self._batch_size,
                        after,
                    )
                    # A cycle ends after 50 batches at most, so that housekeeping runs.
                    more = len(rows) == self._batch_size and done < 50 * self._batch_size
                    if rows:
                        after = rows[-1]["id"]
                        in_flight.append(await self._send(rows))
                        continue
                if in_flight:
                    try:
                        done += await self._settle(connection, in_flight.popleft())
                    except _Refused as refused:
                        # The batches behind are sent again by the next cycle, after these.
                        await self._close_producer()
                        return done + await self._publish_alone(connection, refused.rows)
        finally:
            for batch in in_flight:
                for _, future in batch.sent:
                    future.cancel()
        return done

    async def _send(self, rows: Sequence[Any]) -> _Batch:
        producer = await self._ready_producer()
        batch = _Batch()
        for row in rows:
            try:
                future = await producer.send(
                    row["topic"],
                    value=row["payload"],
                    key=row["key"].encode(),
                    headers=_headers(row),
                )
            except _REFUSALS as error:  # larger than the producer may send: refused here
                batch.refused.append((row, error))
                continue
            batch.sent.append((row, future))
        return batch

    async def _settle(self, connection: Connection, batch: _Batch) -> int:
        """Wait for Kafka's answer to a batch; mark what it took, set aside what it refused."""
        answers = await asyncio.gather(
            *(future for _, future in batch.sent), return_exceptions=True
        )
        if any(isinstance(answer, _REFUSALS) for answer in answers):
            # Those after a refused row in its partition fail too (OutOfOrderSequenceNumber):
            # mark what Kafka took, then find the culprit by sending the others alone.
            taken = [
                (row, future)
                for (row, future), answer in zip(batch.sent, answers, strict=True)
                if not isinstance(answer, BaseException)
            ]
            await self._mark_published(connection, taken)
            raise _Refused(
                [
                    row
                    for (row, _), answer in zip(batch.sent, answers, strict=True)
                    if isinstance(answer, BaseException)
                ]
            )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        for row, _ in batch.sent:
            traceparent = row["headers"].get("traceparent") if row["headers"] else None
            if traceparent:
                published(traceparent, row["topic"], batch.sent_ns)
        await self._set_aside(connection, batch.refused)
        await self._mark_published(connection, batch.sent)
        return len(batch.sent) + len(batch.refused)

    async def _mark_published(
        self, connection: Connection, sent: Sequence[tuple[Any, Any]]
    ) -> None:
        await connection.execute(
            "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
            [row["id"] for row, _ in sent],
        )
        OUTBOX_PUBLISHED.labels(self._service).inc(len(sent))

    async def _publish_alone(self, connection: Connection, rows: Sequence[Any]) -> int:
        """Send rows one at a time, waiting for each: those Kafka refuses are set aside."""
        for row in rows:
            batch = await self._send([row])
            for sent, future in batch.sent:
                try:
                    await future
                except _REFUSALS as error:
                    batch.refused, batch.sent = [(sent, error)], []
                    await self._close_producer()  # a fresh one for the rows after it
            await self._settle(connection, batch)
        return len(rows)

    async def _set_aside(
        self, connection: Connection, refused: list[tuple[Any, BaseException]]
    ) -> None:
        for row, error in refused:
            reason = f"{type(error).__name__}: {error}"[:2000]
            await connection.execute(
                "UPDATE outbox SET rejected_at = clock_timestamp(), rejection = $2 WHERE id = $1",
                row["id"],
                reason,
            )
            OUTBOX_REJECTED.labels(self._service, row["topic"]).inc()
            log.error(
                "outbox row refused by Kafka, set aside",
                outbox_id=row["id"],
                event_id=str(row["event_id"]),
                event_type=row["event_type"],
                topic=row["topic"],
                size=len(row["payload"]),
                error=reason,
            )

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
                " FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL"
            )
            OUTBOX_PENDING.labels(self._service).set(row["pending"])
            OUTBOX_OLDEST_AGE.labels(self._service).set(float(row["age"]))
        if now - self._last_cleanup >= 3600:
            self._last_cleanup = now
            await connection.execute(
                "DELETE FROM outbox WHERE coalesce(published_at, rejected_at)"
                " < clock_timestamp() - $1::interval",
                RETENTION,
            )
