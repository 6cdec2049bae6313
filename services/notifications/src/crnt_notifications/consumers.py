"""The notifications service's consumers: the events a person must hear about, where they come
from, and the handler of each (``handler(event, uow, notifier)``, bound here to the notifier).

Two consumer groups: a recalculation of the budget changes every member's share at once (a
statement per version, thousands of notice items); a group of its own keeps it from holding
back the welcome of a new member or a suspension, which arrive on the registry's topic.

The membership decisions are taken together (:class:`Bulk`): what a fetch brings of them in a
row (a bulk approval makes hundreds) is recorded and mailed with a statement for each kind of
row, not several per decision.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from crnt_shared.consumer import Bulk, Handler
from crnt_shared.contracts.budget import DotationsChanged, ParticipationExceeded
from crnt_shared.contracts.programme import ActionStatusChanged, ProgrammeValidated
from crnt_shared.contracts.registry import (
    AnimatorAdded,
    AnimatorRemoved,
    AnimatorUpdated,
    ApplicationAddressConfirmed,
    ApplicationSubmitted,
    CentreUpdated,
    EpciRegistered,
    EpciUpdated,
    PersonErased,
)
from crnt_shared.db import EventHandler, UnitOfWork
from crnt_shared.events import Event
from crnt_shared.runtime import Subscription

from crnt_notifications import handlers
from crnt_notifications.handlers import Notifier
from crnt_notifications.settings import NotificationsSettings

E = TypeVar("E", bound=Event)


def subscriptions(settings: NotificationsSettings, notifier: Notifier) -> list[Subscription]:
    topics = settings.topics
    return [
        Subscription(
            settings.consumer_group,
            [topics.registry, topics.programme],
            {**registry_handlers(notifier), **programme_handlers(notifier)},
        ),
        Subscription(
            f"{settings.consumer_group}-budget", [topics.budget], budget_handlers(notifier)
        ),
    ]


def registry_handlers(notifier: Notifier) -> dict[type[Event], Handler]:
    decisions = _bind_bulk(handlers.on_membership_decisions, notifier)
    return {
        EpciRegistered: _bind(handlers.on_epci, notifier),
        EpciUpdated: _bind(handlers.on_epci, notifier),
        ApplicationSubmitted: _bind(handlers.on_application_submitted, notifier),
        ApplicationAddressConfirmed: _bind(handlers.on_address_confirmed, notifier),
        **dict.fromkeys(handlers.DECISION_KIND, decisions),
        CentreUpdated: _bind(handlers.on_centre_updated, notifier),
        AnimatorAdded: _bind(handlers.on_animator_changed, notifier),
        AnimatorUpdated: _bind(handlers.on_animator_changed, notifier),
        AnimatorRemoved: _bind(handlers.on_animator_removed, notifier),
        PersonErased: _bind(handlers.on_person_erased, notifier),
    }


def budget_handlers(notifier: Notifier) -> dict[type[Event], Handler]:
    return {
        # A version's shares, every member's at once (centre.share.changed says no more).
        DotationsChanged: _bind(handlers.on_dotations_changed, notifier),
        ParticipationExceeded: _bind(handlers.on_participation_exceeded, notifier),
    }


def programme_handlers(notifier: Notifier) -> dict[type[Event], EventHandler]:
    return {
        ProgrammeValidated: _bind(handlers.on_programme_validated, notifier),
        ActionStatusChanged: _bind(handlers.on_action_status_changed, notifier),
    }


def _bind(
    handler: Callable[[E, UnitOfWork, Notifier], Awaitable[None]], notifier: Notifier
) -> EventHandler:
    async def handle(event: Any, uow: UnitOfWork) -> None:
        await handler(event, uow, notifier)

    return handle


def _bind_bulk(
    handler: Callable[[Sequence[Any], UnitOfWork, Notifier], Awaitable[None]], notifier: Notifier
) -> Bulk:
    async def handle(events: Sequence[Any], uow: UnitOfWork) -> None:
        await handler(events, uow, notifier)

    return Bulk(handle)
