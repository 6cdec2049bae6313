"""The budget's consumers: the events it reads, where from, and the handler of each.

Two consumer groups: ``budget`` reads the registry's topic, ``budget-programme`` the programme's
(``BUDGET_CONSUMER_GROUP`` and ``BUDGET_PROGRAMME_CONSUMER_GROUP``). Apart, each progresses at
its own pace (a burst of approvals does not hold a programme validation back, a failing
validation does not hold the memberships back) and has its own lag; both wake the same
recalculator, from the handler (before the commit: the lock the recalculator takes waits for
the handler's transaction).
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from crnt_shared.contracts.programme import ActionStatusChanged, ActionUpdated, ProgrammeValidated
from crnt_shared.contracts.registry import CentreUpdated, EpciRegistered, EpciUpdated
from crnt_shared.db import EventHandler, UnitOfWork
from crnt_shared.events import Event
from crnt_shared.runtime import Subscription

from crnt_budget import handlers
from crnt_budget.repository import BudgetUnitOfWork
from crnt_budget.settings import BudgetSettings

E = TypeVar("E", bound=Event)
Reaction = Callable[[E, BudgetUnitOfWork], Awaitable[bool]]

REGISTRY_REACTIONS: dict[type[Event], Reaction[Any]] = {
    **dict.fromkeys(handlers.JOINS, handlers.on_membership_changed),
    CentreUpdated: handlers.on_centre_updated,
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
            _waking(REGISTRY_REACTIONS, wake),
        ),
        Subscription(
            settings.programme_consumer_group,
            [settings.topics.programme],
            _waking(PROGRAMME_REACTIONS, wake),
        ),
    ]


def _waking(
    reactions: dict[type[Event], Reaction[Any]], wake: Callable[[], None]
) -> dict[type[Event], EventHandler]:
    def handler(reaction: Reaction[Any]) -> EventHandler:
        async def handle(event: Any, uow: UnitOfWork) -> None:
            if await reaction(event, uow):
                wake()

        return handle

    return {contract: handler(reaction) for contract, reaction in reactions.items()}
