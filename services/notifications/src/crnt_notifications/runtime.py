"""The service's runtime: the shared one (pool, migrations, relay, consumers) plus the sender."""

import functools
from datetime import timedelta
from importlib.resources import files

from crnt_shared.contracts.notifications import NOTIFICATIONS_EVENTS
from crnt_shared.db import MigrationSource
from crnt_shared.runtime import ServiceRuntime, Subscription

from crnt_notifications.domain import Backoff
from crnt_notifications.erasure import delivery_purge
from crnt_notifications.handlers import (
    Notifier,
    budget_handlers,
    programme_handlers,
    registry_handlers,
)
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.mailer import Mailer, sender_domain
from crnt_notifications.sender import DeliverySender
from crnt_notifications.settings import NotificationsSettings
from crnt_notifications.templates import Renderer

SERVICE = "notifications"
MIGRATIONS = MigrationSource(SERVICE, files("crnt_notifications") / "migrations")


class NotificationsRuntime(ServiceRuntime):
    def __init__(self, settings: NotificationsSettings) -> None:
        self.links = UnsubscribeLinks(
            settings.unsubscribe_secret.get_secret_value(), settings.public_base_url
        )
        self.confirmations = ConfirmationLinks(
            settings.unsubscribe_secret.get_secret_value(), settings.public_base_url
        )
        self.notifier = Notifier(
            renderer=Renderer(agency=settings.agency_name, contact=settings.contact),
            links=self.links,
            confirmations=self.confirmations,
            agency_emails=tuple(settings.agency_emails),
            window=timedelta(seconds=settings.coalescing_window_seconds),
            message_domain=sender_domain(settings.smtp_from),
            web_url=settings.web_url,
            new_members_listed_at_most=settings.new_members_listed_at_most,
        )
        super().__init__(
            service=SERVICE,
            settings=settings,
            migrations=MIGRATIONS,
            # Two consumer groups: a recalculation of the budget publishes one share event per
            # centre (thousands at once); a group of its own keeps them from holding back the
            # welcome of a new member or a suspension, which arrive on the registry's topic.
            subscriptions=[
                Subscription(
                    settings.consumer_group,
                    [settings.registry_topic, settings.programme_topic],
                    {**registry_handlers(self.notifier), **programme_handlers(self.notifier)},
                ),
                Subscription(
                    f"{settings.consumer_group}-budget",
                    [settings.budget_topic],
                    budget_handlers(self.notifier),
                ),
            ],
            published=NOTIFICATIONS_EVENTS,
        )
        self.mailer = Mailer(settings)
        self.sender = DeliverySender(
            # Its own commits must not wake it again: that would be a busy loop.
            unit_of_work=functools.partial(self.unit_of_work, wake_workers=False),
            notifier=self.notifier,
            build=self.mailer.build,
            send=self.mailer.send,
            backoff=Backoff(
                settings.delivery_backoff_seconds, settings.delivery_backoff_max_seconds
            ),
            max_attempts=settings.delivery_max_attempts,
            poll_seconds=settings.sender_poll_seconds,
            concurrency=settings.sender_concurrency,
            topic=settings.notifications_topic,
        )
        self.commit_hooks.append(self.sender.wake)
        self.purges["deliveries"] = delivery_purge(timedelta(days=settings.delivery_retention_days))

    async def start(self) -> None:
        await super().start()
        self.sender.start()

    async def stop(self) -> None:
        await self.sender.stop()
        await self.mailer.close()
        await super().stop()
