"""The registry's runtime: the shared one (pool, migrations, relay, consumers), with the policy of
anonymous applications' confirmations and the expirer that applies it."""

from crnt_shared.contracts.registry import REGISTRY_EVENTS
from crnt_shared.runtime import ServiceDefinition, ServiceRuntime

from crnt_registry.commands import ConfirmationPolicy
from crnt_registry.consumers import subscriptions
from crnt_registry.repository import Repository
from crnt_registry.settings import RegistrySettings
from crnt_registry.workers import ApplicationExpirer

REGISTRY = ServiceDefinition("registry", Repository, REGISTRY_EVENTS)


class RegistryRuntime(ServiceRuntime[Repository]):
    settings: RegistrySettings

    def __init__(self, settings: RegistrySettings) -> None:
        super().__init__(REGISTRY, settings=settings, subscriptions=subscriptions(settings))
        self.policy = ConfirmationPolicy(
            expire_after_days=settings.unconfirmed_application_days,
            resend_after=settings.confirmation_resend_after,
        )
        self.expirer = ApplicationExpirer(
            self, policy=self.policy, poll_seconds=settings.expiry_poll_seconds
        )
        self.add_worker(self.expirer)
