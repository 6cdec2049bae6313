"""The budget's consumers: the events it reads, where from, and the handler of each.

Two consumer groups: ``budget`` reads the registry's topic, ``budget-programme`` the programme's
(``BUDGET_CONSUMER_GROUP`` and ``BUDGET_PROGRAMME_CONSUMER_GROUP``). Apart, each progresses at
its own pace (a burst of approvals does not hold a programme validation back, a failing
validation does not hold the memberships back) and has its own lag; both wake the same
recalculator, from the handler (before the commit: the lock the recalculator takes waits for
the handler's transaction).

The membership decisions and the centres' updates are taken together (:class:`Bulk`): what one
fetch brings of them in a row is applied with a few statements, not several per event (a
national import approves thousands of centres in a minute).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from crnt_shared.consumer import Bulk, Handler
from crnt_shared.contracts.programme import ActionStatusChanged, ActionUpdated, ProgrammeValidated
from crnt_shared.contracts.registry import CentreUpdated, EpciRegistered, EpciUpdated
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event
from crnt_shared.runtime import Subscription

from crnt_budget import handlers
from crnt_budget.repository import BudgetUnitOfWork
from crnt_budget.settings import BudgetSettings

E = TypeVar("E", bound=Event)
Reaction = Callable[[E, BudgetUnitOfWork], Awaitable[bool]]
BulkReaction = Callable[[Sequence[Any], BudgetUnitOfWork], Awaitable[bool]]

#: The reactions that take the consecutive events of their types together.
REGISTRY_BULK_REACTIONS: dict[type[Event], BulkReaction] = dict.fromkeys(
    (*handlers.JOINS, CentreUpdated), handlers.on_centres_changed
)
REGISTRY_REACTIONS: dict[type[Event], Reaction[Any]] = {
    EpciRegistered: handlers.on_epci_changed,
    EpciUpdated: handlers.on_epci_changed,
}
PROGRAMME_REACTIONS: dict[type[Event], Reaction[Any]] = {
    ProgrammeValidated: handlers.on_programme_validated,
    ActionUpdated: handlers.on_action_changed,
    ActionStatusChanged: handlers.on_action_changed,
}


def subscriptions(settings: BudgetSettings, wake: Callable[[], None]) -> list[Subscription]:
    """``wake`` wakes the recalculator when a reaction made a year dirty."""
    return [
        Subscription(
            settings.consumer_group,
            [settings.topics.registry],
            _waking(REGISTRY_REACTIONS, wake, REGISTRY_BULK_REACTIONS),
        ),
        Subscription(
            settings.programme_consumer_group,
            [settings.topics.programme],
            _waking(PROGRAMME_REACTIONS, wake),
        ),
    ]


def _waking(
    reactions: dict[type[Event], Reaction[Any]],
    wake: Callable[[], None],
    together: dict[type[Event], BulkReaction] | None = None,
) -> dict[type[Event], Handler]:
    def handler(reaction: Reaction[Any]) -> Handler:
        async def handle(event: Any, uow: UnitOfWork) -> None:
            if await reaction(event, uow):
                wake()

        return handle

    def bulk(reaction: BulkReaction) -> Bulk:
        async def handle(events: Sequence[Any], uow: UnitOfWork) -> None:
            if await reaction(events, uow):
                wake()

        return Bulk(handle)

    # One Bulk per reaction: the consumer gives it the events of all its types in a row.
    bulks = {reaction: bulk(reaction) for reaction in set((together or {}).values())}
    return {
        **{contract: handler(reaction) for contract, reaction in reactions.items()},
        **{contract: bulks[reaction] for contract, reaction in (together or {}).items()},
    }
