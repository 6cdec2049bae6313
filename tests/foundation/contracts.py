"""A contract used only to prove the mechanics, nothing domain-specific: pings, their effects,
and a consumer of them with its inbox."""

from collections.abc import Sequence
from typing import Any, Literal

import asyncpg
from crnt_shared.consumer import EventConsumer
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Contract, Event
from faststream.kafka import KafkaBroker


class PingData(Contract):
    sequence: int


class Pinged(Event):
    type: Literal["fr.crnt.test.pinged.v1"] = "fr.crnt.test.pinged.v1"
    data: PingData


EFFECTS_SQL = """
CREATE TABLE IF NOT EXISTS effects (event_id uuid NOT NULL, sequence integer NOT NULL);
CREATE TABLE IF NOT EXISTS counter (id integer PRIMARY KEY, total integer NOT NULL);
INSERT INTO counter VALUES (1, 0) ON CONFLICT DO NOTHING;
"""


async def record_effect(event: Pinged, uow: UnitOfWork) -> None:
    """The effect of a ping, deliberately not idempotent: doing it twice would show."""
    await uow.connection.execute(
        "INSERT INTO effects (event_id, sequence) VALUES ($1, $2)", event.id, event.data.sequence
    )
    await uow.connection.execute("UPDATE counter SET total = total + 1 WHERE id = 1")


async def record_effects(events: Sequence[Pinged], uow: UnitOfWork) -> None:
    """The same effects for many pings at once: what a :class:`~crnt_shared.consumer.Bulk`
    handler does with the events of one fetch."""
    await uow.connection.executemany(
        "INSERT INTO effects (event_id, sequence) VALUES ($1, $2)",
        [(event.id, event.data.sequence) for event in events],
    )
    await uow.connection.execute("UPDATE counter SET total = total + $1 WHERE id = 1", len(events))


def ping_consumer(
    bootstrap: str,
    pool: asyncpg.Pool,
    topic: str,
    *,
    service: str = "test",
    group_id: str | None = None,
    handler: Any = record_effect,
    **options: Any,
) -> KafkaBroker:
    """A broker (to start) whose consumer handles ``topic``'s pings by ``handler``, with its
    inbox; ``options`` go to :class:`EventConsumer` (``max_batch``, ``retry``)."""
    broker = KafkaBroker(bootstrap, logger=None)
    EventConsumer(
        service=service,
        group_id=group_id or f"{topic}.consumer",
        topics=[topic],
        handlers={Pinged: handler},
        pool=pool,
        **options,
    ).register(broker)
    return broker
