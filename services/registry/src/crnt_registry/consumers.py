"""The registry's consumer: the notifications' confirmations of applicants' addresses."""

from crnt_shared.contracts.notifications import AddressConfirmed
from crnt_shared.runtime import Subscription

from crnt_registry.handlers import confirm_address
from crnt_registry.settings import RegistrySettings


def subscriptions(settings: RegistrySettings) -> list[Subscription]:
    return [
        Subscription(
            settings.consumer_group,
            [settings.topics.notifications],
            {AddressConfirmed: confirm_address},
        )
    ]
