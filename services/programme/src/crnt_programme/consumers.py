"""The programme's consumer: the registry's events it reads (which centres are members, hence
may lead or take part in an action) and the handler of each."""

from collections.abc import Mapping

from crnt_shared.contracts.registry import (
    MEMBERSHIP_EVENTS,
    ApplicationSubmitted,
    CentreUpdated,
    PersonErased,
)
from crnt_shared.db import EventHandler
from crnt_shared.events import Event
from crnt_shared.runtime import Subscription

from crnt_programme.handlers import on_centre_known, on_membership_changed, on_person_erased
from crnt_programme.settings import ProgrammeSettings

REGISTRY_EVENTS: Mapping[type[Event], EventHandler] = {
    ApplicationSubmitted: on_centre_known,
    CentreUpdated: on_centre_known,
    **dict.fromkeys(MEMBERSHIP_EVENTS, on_membership_changed),
    PersonErased: on_person_erased,
}


def subscriptions(settings: ProgrammeSettings) -> list[Subscription]:
    return [Subscription(settings.consumer_group, [settings.topics.registry], REGISTRY_EVENTS)]
