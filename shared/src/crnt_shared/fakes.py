"""A unit of work in memory, for unit tests of handlers without PostgreSQL or Kafka.

It has the shape of :class:`crnt_shared.db.UnitOfWork` (an
:class:`~crnt_shared.db.AbstractUnitOfWork`): the service's repository (a fake of the service's
own, in memory), the events published and the commit. What a handler published is kept,
committed or not, so that a test can tell that a refused command left nothing behind.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Self

from typing_extensions import TypeVar

from crnt_shared.events import Event

R = TypeVar("R")


@dataclass(frozen=True)
class Published:
    event: Event
    topic: str | None = None


@dataclass
class FakeUnitOfWork(Generic[R]):
    """``repository``: the fake repository the handlers under test work on."""

    repository: R
    #: Every event published, in order, with the topic asked for (None: the publisher's).
    published: list[Published] = field(default_factory=list)
    commits: int = 0
    #: Whether it was left, as ``async with`` leaves it, without a commit (the real one rolls
    #: back then).
    rolled_back: bool = False

    @property
    def committed(self) -> bool:
        return self.commits > 0

    @property
    def untouched(self) -> bool:
        """Nothing published, nothing committed: what a refused command leaves."""
        return not self.published and not self.committed

    @property
    def events(self) -> list[Event]:
        return [item.event for item in self.published]

    async def publish(self, event: Event, *, topic: str | None = None) -> None:
        self.published.append(Published(event, topic))

    async def publish_many(self, events: Sequence[Event], *, topic: str | None = None) -> None:
        self.published.extend(Published(event, topic) for event in events)

    async def commit(self) -> None:
        self.commits += 1

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.rolled_back = not self.committed
