"""Identity's consumer: the registry's events that tell who animates a member centre (and who
must be forgotten), and the handler of each. Identity reads its own keys and revocations from
its tables, not from its topic."""

from collections.abc import Mapping

from crnt_shared.contracts.registry import (
    MEMBERSHIP_EVENTS,
    AnimatorAdded,
    AnimatorRemoved,
    AnimatorUpdated,
    ApplicationSubmitted,
    CentreUpdated,
    PersonErased,
)
from crnt_shared.db import EventHandler
from crnt_shared.events import Event
from crnt_shared.runtime import Subscription

from crnt_identity.erasure import on_person_erased
from crnt_identity.handlers import on_animator_changed, on_centre_status
from crnt_identity.settings import IdentitySettings

REGISTRY_EVENTS: Mapping[type[Event], EventHandler] = {
    ApplicationSubmitted: on_centre_status,
    **dict.fromkeys(MEMBERSHIP_EVENTS, on_centre_status),
    CentreUpdated: on_centre_status,
    AnimatorAdded: on_animator_changed,
    AnimatorUpdated: on_animator_changed,
    AnimatorRemoved: on_animator_changed,
    PersonErased: on_person_erased,
}


def subscriptions(settings: IdentitySettings) -> list[Subscription]:
    return [Subscription(settings.consumer_group, [settings.topics.registry], REGISTRY_EVENTS)]
