"""The registry's runtime: the shared one (pool, migrations, relay), its consumer of the
notifications' confirmations, and the expirer."""

from importlib.resources import files

from crnt_shared.contracts.notifications import AddressConfirmed
from crnt_shared.contracts.registry import REGISTRY_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.runtime import ServiceRuntime, Subscription

from crnt_registry.handlers import ConfirmationPolicy, confirm_address
from crnt_registry.settings import RegistrySettings
from crnt_registry.workers import ApplicationExpirer

SERVICE = "registry"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_registry") / "migrations")


class RegistryRuntime(ServiceRuntime):
    def __init__(self, settings: RegistrySettings) -> None:
        super().__init__(
            service=SERVICE,
            settings=settings,
            migrations=MIGRATIONS,
            subscriptions=[
                Subscription(
                    settings.consumer_group,
                    [settings.notifications_topic],
                    {AddressConfirmed: confirm_address},
                )
            ],
            published=REGISTRY_EVENTS,
        )
        self.policy = ConfirmationPolicy(
            expire_after_days=settings.unconfirmed_application_days,
            resend_after=settings.confirmation_resend_after,
        )
        self.expirer = ApplicationExpirer(
            self, policy=self.policy, poll_seconds=settings.expiry_poll_seconds
        )

    async def start(self) -> None:
        await super().start()
        self.expirer.start()

    async def stop(self) -> None:
        await self.expirer.stop()
        await super().stop()
