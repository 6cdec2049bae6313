"""How a use case publishes: the service's source named once, the subject (the aggregate's id)
and the payload given, the event written in the unit of work's outbox with the state change.

A service holds one :class:`Publisher` (``publish = Publisher("/crnt/registry")``) and its
handlers call ``await publish(uow, CentreUpdated, centre.id, data)``; ``publish.event(...)``
builds the event alone, for ``uow.publish_many``."""

from dataclasses import dataclass
from typing import Any, TypeVar

from crnt_shared.db import AbstractUnitOfWork
from crnt_shared.events import Event

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Publisher:
    #: The CloudEvents ``source`` of every event the service publishes.
    source: str

    def event(
        self, contract: type[E], subject: object, data: Any, *, cause: Event | None = None
    ) -> E:
        """The event of ``contract`` about ``subject`` (its id, as text), caused by ``cause``
        (an event the service consumed) when there is one."""
        return contract.create(source=self.source, subject=str(subject), data=data, cause=cause)

    async def __call__(
        self,
        uow: AbstractUnitOfWork[object],
        contract: type[Event],
        subject: object,
        data: Any,
        *,
        cause: Event | None = None,
    ) -> None:
        await uow.publish(self.event(contract, subject, data, cause=cause))
