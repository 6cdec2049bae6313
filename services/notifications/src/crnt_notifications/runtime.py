"""The service's runtime: the shared one (pool, migrations, relay, consumers), the notifier its
handlers share, and the sender of deliveries (its worker)."""

import functools
from datetime import timedelta

from crnt_shared.contracts.notifications import NOTIFICATIONS_EVENTS
from crnt_shared.retry import Backoff
from crnt_shared.runtime import ServiceDefinition, ServiceRuntime

from crnt_notifications.consumers import subscriptions
from crnt_notifications.handlers import Notifier
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.mailer import Mailer, sender_domain
from crnt_notifications.repository import NotificationsRepository, Repository, delivery_purge
from crnt_notifications.repository.wakeup import Due, take_due
from crnt_notifications.settings import NotificationsSettings
from crnt_notifications.templates import Renderer
from crnt_notifications.workers import DeliverySender

NOTIFICATIONS: ServiceDefinition[NotificationsRepository] = ServiceDefinition(
    "notifications", Repository, NOTIFICATIONS_EVENTS
)
#: Its migrations, which the mail bench applies without the rest of the runtime.
MIGRATIONS = NOTIFICATIONS.migrations


class NotificationsRuntime(ServiceRuntime[NotificationsRepository]):
    settings: NotificationsSettings

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
            NOTIFICATIONS, settings=settings, subscriptions=subscriptions(settings, self.notifier)
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
            topic=self.topics.notifications,
        )
        self.add_worker(self.sender)
        # Woken by the commits that wrote mail due now, not by every commit: a read model's
        # update or a share change waiting in its notice gives the sender nothing to do.
        self.commit_hooks.append(self.wake_sender_for_due_mail)
        self.on_stop.append(self.mailer.close)
        self.purges["deliveries"] = delivery_purge(timedelta(days=settings.delivery_retention_days))

    def wake_sender_for_due_mail(self) -> None:
        """After a commit: wake the sender if the transaction wrote mail due now."""
        due = take_due()
        if due & Due.NOTICE:
            self.sender.seal_soon()
        elif due:
            self.sender.wake()
