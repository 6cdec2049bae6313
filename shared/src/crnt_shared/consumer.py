"""Consuming events: inbox, bounded retries with backoff, dead letters, commit after the work.

What one fetch returns is handled partition by partition, in order:

1. Decode each message against the consumer's catalog. A message that is not a valid event goes
   to ``<topic>.dlq`` at once; a valid event of a type this consumer does not handle is skipped.
2. In one transaction for the partition's events (``max_transaction`` at most): record their
   ids in the inbox with one statement (those already there are duplicates, skipped) and run
   the handler of each new one; their state changes and outbox rows commit together with those
   records. One transaction per event made its commit the bound (~950 events/s); one per fetch
   spreads it over a hundred.
   A :class:`Bulk` handler takes the consecutive events it handles together, whatever their
   types among its own (one statement for many rather than a round trip to the database per
   event).
3. Should one of them fail, the transaction rolls back and the partition's events are replayed
   one by one, each in its own transaction with bounded retries: only the poison is
   dead-lettered, the others are handled once.
4. Only then commit the Kafka offset (``AckPolicy.MANUAL``: never before the work is done).
   The commit names the handled offset explicitly and runs in the background: the offsets of
   the events handled while a commit is in flight go together in the next one. A crash between
   the transaction and the commit redelivers events that the inbox then skips.

Failures never nack the message (FastStream would re-read it at once, ag2ai/faststream#1721):
the retry happens here, with exponential backoff. A transient failure (the database or the
network unreachable: :func:`is_transient`) is retried until it succeeds and never
dead-lettered; any other failure is retried ``max_attempts`` times, then dead-lettered with the
error in its headers.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from crnt_shared.context import set_correlation_id
from crnt_shared.db import Connection, EventHandler, Pool, UnitOfWork
from crnt_shared.events import Event, EventCatalog, EventDecodeError
from crnt_shared.metrics import (
    CONSUMER_LAG,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    EVENTS_HANDLED,
    HANDLER_RETRIES,
)
from crnt_shared.retry import Backoff
from crnt_shared.topics import Topics, dead_letter_topic
from crnt_shared.tracing import committing, handling, handling_together
from crnt_shared.transient import is_transient

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Received:
    """A Kafka record as the consumer needs it."""

    value: bytes
    key: bytes | None
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 0.2
    backoff_max_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        return Backoff(self.backoff_seconds, self.backoff_max_seconds).delay(attempt)


DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]


@dataclass(frozen=True)
class Bulk:
    """A handler that takes consecutive events together, in their order, those of every type it
    is the handler of (one SQL statement for many rather than one round trip to the database
    per event)."""

    handle: Callable[[Sequence[Any], UnitOfWork], Awaitable[None]]


#: What a consumer runs for a contract: a handler of one event, or of many at once.
Handler = EventHandler | Bulk

#: Publishing a dead letter is retried until Kafka has it.
DEAD_LETTER_BACKOFF = Backoff(0.4, 30.0)

#: Records taken from one fetch at most.
MAX_BATCH = 500

#: Events handled in one transaction at most: the fewer transactions the better, but a row
#: updated by each event of a transaction keeps every version of it until the commit, which
#: each update walks (at 500 a transaction the per-event updates of one row cost 25 % more
#: than at 100).
MAX_TRANSACTION = 100


class _BatchFailed(Exception):
    """The handler of the ``index``-th event of a batch raised ``error``."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class EventConsumer:
    """One consumer group: the handlers it runs, by contract class."""

    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[type[Event], Handler],
        pool: Pool,
        repository_factory: Callable[[Connection], Any] | None = None,
        publish_to: Topics | None = None,
        on_publish: Sequence[Callable[[], None]] = (),
        on_commit: Sequence[Callable[[], None]] = (),
        retry: RetryPolicy | None = None,
        max_batch: int = MAX_BATCH,
        max_transaction: int = MAX_TRANSACTION,
    ) -> None:
        self.service = service
        self.group_id = group_id
        self.topics = tuple(topics)
        self._handlers = {contract.event_type(): handler for contract, handler in handlers.items()}
        self.catalog = EventCatalog(handlers)
        self._pool = pool
        self._repository_factory = repository_factory
        self._publish_to = publish_to
        self._on_publish = on_publish
        self._on_commit = on_commit
        self._retry = retry or RetryPolicy()
        self._max_batch = max_batch
        self._max_transaction = max_transaction
        self._committer = OffsetCommitter(group_id)

    async def flush(self) -> None:
        """Wait for the offsets of handled events to be committed (before a clean stop)."""
        await self._committer.flush()

    def register(self, broker: KafkaBroker) -> None:
        """Subscribe to the broker: batches, manual commits, from the earliest offset of a new
        group."""
        subscriber = broker.subscriber(
            *self.topics,
            group_id=self.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self._max_batch,
            decoder=_undecoded,
            title=f"{self.group_id}",
            description=f"Handles: {', '.join(self.catalog.types)}",
        )

        async def sink(letter: DeadLetter) -> None:
            await _publish_until_sent(broker, letter)

        async def on_batch(message: KafkaMessage) -> None:
            records = message.raw_message
            assert isinstance(records, tuple)
            consumer = getattr(message, "consumer", None)
            partitions: dict[tuple[str, int], list[Received]] = {}
            for r in records:
                partitions.setdefault((r.topic, r.partition), []).append(
                    Received(r.value, r.key, r.topic, r.partition, r.offset)
                )
            for (topic, partition), received in partitions.items():
                await self.handle_batch(received, dead_letter=sink)
                if consumer is not None:
                    last = received[-1].offset
                    self._committer.handled(consumer, topic, partition, last)
                    self._record_lag(consumer, topic, partition, last)

        subscriber(on_batch)

    async def handle_batch(
        self, records: Sequence[Received], *, dead_letter: DeadLetterSink
    ) -> None:
        """The records of one partition, in order, in one transaction per ``max_transaction``
        events when all goes well: everything but the offset commit."""
        decoded: list[tuple[Received, Event]] = []
        for record in records:
            event = await self._decode(record, dead_letter)
            if isinstance(event, Event):
                decoded.append((record, event))
        size = self._max_transaction
        for start in range(0, len(decoded), size):
            await self._handle_in_one_transaction(decoded[start : start + size], dead_letter)

    async def _handle_in_one_transaction(
        self, decoded: list[tuple[Received, Event]], dead_letter: DeadLetterSink
    ) -> None:
        """These events in one transaction; should one fail, each alone."""
        if len(decoded) == 1:
            await self._handle_alone(*decoded[0], dead_letter)
            return
        transient = 0
        while decoded:
            try:
                await self._handle_together([event for _, event in decoded])
                return
            except _BatchFailed as failure:
                if is_transient(failure.error):
                    transient += 1
                    await self._pause_transient(transient, failure.error)
                    continue
                failed_at, error = failure.index, failure.error
            except Exception as error_:
                if is_transient(error_):
                    transient += 1
                    await self._pause_transient(transient, error_)
                    continue
                failed_at, error = -1, error_
            log.warning(
                "batch failed, replaying its events one by one",
                error=repr(error),
                events=len(decoded),
                group=self.group_id,
            )
            # The failed attempt counts as the first of the event whose handler raised.
            HANDLER_RETRIES.labels(self.service, self.group_id, "failure").inc()
            for index, (record, event) in enumerate(decoded):
                previous = (1, error) if index == failed_at else (0, None)
                await self._handle_alone(record, event, dead_letter, previous)
            return

    async def _decode(self, record: Received, dead_letter: DeadLetterSink) -> Event | Outcome:
        try:
            event = self.catalog.decode(record.value)
        except EventDecodeError as error:
            return await self._send_to_dlq(record, "invalid", error, dead_letter)
        return Outcome.IGNORED if event is None else event

    async def _send_to_dlq(
        self, record: Received, reason: str, error: BaseException, dead_letter: DeadLetterSink
    ) -> Outcome:
        EVENTS_DEAD_LETTERED.labels(self.service, self.group_id, reason).inc()
        log.error(
            "message dead-lettered",
            reason=reason,
            error=str(error),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self.group_id,
        )
        await dead_letter(
            DeadLetter(
                topic=dead_letter_topic(record.topic),
                key=record.key,
                value=record.value,
                headers={
                    "dlq-reason": reason,
                    "dlq-error": f"{type(error).__name__}: {error}"[:4000],
                    "dlq-original-topic": record.topic,
                    "dlq-original-partition": str(record.partition),
                    "dlq-original-offset": str(record.offset),
                    "dlq-consumer-group": self.group_id,
                    "dlq-failed-at": datetime.now(UTC).isoformat(),
                },
            )
        )
        return Outcome.DEAD_LETTERED

    async def _pause_transient(self, attempt: int, error: BaseException) -> None:
        HANDLER_RETRIES.labels(self.service, self.group_id, "transient").inc()
        delay = self._retry.delay(min(attempt, 16))
        log.warning(
            "transient failure, retrying", error=repr(error), retry_in=delay, group=self.group_id
        )
        await asyncio.sleep(delay)

    async def _handle_alone(
        self,
        record: Received,
        event: Event,
        dead_letter: DeadLetterSink,
        previous: tuple[int, BaseException | None] = (0, None),
    ) -> Outcome:
        """One event in its own transaction, retried; ``previous`` failures already counted."""
        set_correlation_id(event.correlationid)
        bound = log.bind(event_id=str(event.id), event_type=event.type, group=self.group_id)
        failures, last_error = previous
        transient = 0
        while True:
            if last_error is not None:
                if failures >= self._retry.max_attempts:
                    return await self._send_to_dlq(
                        record, "handler-failed", last_error, dead_letter
                    )
                delay = self._retry.delay(failures)
                bound.warning("handler failed, retrying", error=repr(last_error), retry_in=delay)
                await asyncio.sleep(delay)
            try:
                outcome = await self._handle_once(event)
            except Exception as error:
                if is_transient(error):
                    transient += 1
                    await self._pause_transient(transient, error)
                    last_error = None
                    continue
                failures += 1
                last_error = error
                HANDLER_RETRIES.labels(self.service, self.group_id, "failure").inc()
                continue
            self._count(event, outcome)
            return outcome

    def _count(self, event: Event, outcome: Outcome) -> None:
        if outcome is Outcome.DUPLICATE:
            EVENTS_DUPLICATE.labels(self.service, self.group_id).inc()
        else:
            EVENTS_HANDLED.labels(self.service, self.group_id, event.type).inc()

    def _unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self._pool,
            repository_factory=self._repository_factory,
            topics=self._publish_to,
            on_publish=self._on_publish,
            on_commit=self._on_commit,
        )

    async def _handle_once(self, event: Event) -> Outcome:
        async with self._unit_of_work() as uow:
            first_time = await uow.connection.fetchval(
                "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING true",
                self.group_id,
                event.id,
                event.type,
            )
            if not first_time:
                return Outcome.DUPLICATE
            handler = self._handlers[event.type]
            with handling(event.type, event.traceparent, self.group_id, event.id):
                if isinstance(handler, Bulk):
                    await handler.handle([event], uow)
                else:
                    await handler(event, uow)
                await uow.commit()
        return Outcome.HANDLED

    async def _handle_together(self, events: Sequence[Event]) -> None:
        """Every event in one transaction, the inbox rows written by one statement; raises
        :class:`_BatchFailed` when a handler fails (and nothing commits)."""
        async with self._unit_of_work() as uow:
            rows = await uow.connection.fetch(
                "INSERT INTO inbox (consumer, event_id, event_type)"
                " SELECT $1, id, type FROM unnest($2::uuid[], $3::text[]) AS t(id, type)"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                self.group_id,
                [event.id for event in events],
                [event.type for event in events],
            )
            new = {row["event_id"] for row in rows}
            fresh: list[tuple[int, Event]] = []
            for index, event in enumerate(events):
                if event.id in new:  # otherwise in the inbox already, or twice in this batch
                    new.discard(event.id)
                    fresh.append((index, event))
            for run in _runs(fresh, self._handlers):
                handler = self._handlers[run[0][1].type]
                set_correlation_id(run[0][1].correlationid)
                try:
                    if isinstance(handler, Bulk):
                        together = [event for _, event in run]
                        traceparents = [event.traceparent for event in together]
                        with handling_together(run[0][1].type, traceparents, self.group_id):
                            await handler.handle(together, uow)
                    else:
                        first = run[0][1]
                        with handling(first.type, first.traceparent, self.group_id, first.id):
                            await handler(first, uow)
                except Exception as error:
                    # Which event of a bulk failed is unknown: none has a failure counted yet.
                    raise _BatchFailed(
                        -1 if isinstance(handler, Bulk) else run[0][0], error
                    ) from error
            with committing([event.traceparent for _, event in fresh], self.group_id):
                await uow.commit()
        if len(fresh) < len(events):
            EVENTS_DUPLICATE.labels(self.service, self.group_id).inc(len(events) - len(fresh))
        for event_type, count in Counter(event.type for _, event in fresh).items():
            EVENTS_HANDLED.labels(self.service, self.group_id, event_type).inc(count)

    def _record_lag(self, consumer: Any, topic: str, partition: int, offset: int) -> None:
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        end = highwater(TopicPartition(topic, partition))
        if end is not None:
            CONSUMER_LAG.labels(self.service, self.group_id, topic).set(max(0, end - offset - 1))


class OffsetCommitter:
    """Commits handled offsets in the background, coalescing those handled meanwhile."""

    def __init__(self, group_id: str) -> None:
        self._group_id = group_id
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None

    def handled(self, consumer: Any, topic: str, partition: int, offset: int) -> None:
        """``offset`` was handled (its transaction committed): the next to read is after it."""
        self._consumer = consumer
        self._pending[TopicPartition(topic, partition)] = offset + 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._commit_pending())

    async def flush(self) -> None:
        if self._task is not None:
            await self._task

    async def _commit_pending(self) -> None:
        while self._pending:
            offsets, self._pending = self._pending, {}
            try:
                await self._consumer.commit(offsets)
            except Exception as error:  # a rebalance: the inbox absorbs the redelivery
                log.warning("offset commit failed", error=repr(error), group=self._group_id)


async def _undecoded(message: StreamMessage[Any]) -> None:
    """FastStream's decoder would parse each record's JSON only to throw it away: the handler
    reads the raw records and :class:`EventCatalog` decodes them."""


def _runs(
    events: Sequence[tuple[int, Event]], handlers: Mapping[str, Handler]
) -> list[list[tuple[int, Event]]]:
    """Consecutive events that one :class:`Bulk` handler takes together; every other event
    alone."""
    runs: list[list[tuple[int, Event]]] = []
    for item in events:
        handler = handlers[item[1].type]
        previous = handlers[runs[-1][-1][1].type] if runs else None
        if previous is handler and isinstance(handler, Bulk):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


async def _publish_until_sent(broker: KafkaBroker, letter: DeadLetter) -> None:
    """The offset is committed after this: keep trying until Kafka has the dead letter."""
    attempt = 0
    while True:
        try:
            await broker.publish(
                letter.value, topic=letter.topic, key=letter.key, headers=letter.headers
            )
            return
        except Exception as error:
            attempt += 1
            delay = DEAD_LETTER_BACKOFF.delay(attempt)
            log.warning("dead-letter publish failed, retrying", error=repr(error), retry_in=delay)
            await asyncio.sleep(delay)
