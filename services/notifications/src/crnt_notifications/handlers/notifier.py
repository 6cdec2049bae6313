"""What every handler writes with: the :class:`Notifier`, which renders a mail for each
recipient and writes its delivery (pending, or suppressed for those who opted out)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from crnt_shared.db import AbstractUnitOfWork

from crnt_notifications.domain import (
    NEW_MEMBERS_LISTED_AT_MOST,
    Kind,
    Recipient,
    Status,
    category_of,
    distinct_recipients,
    should_send,
)
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.repository import NewDelivery, NoticeItem, NotificationsRepository
from crnt_notifications.templates import Renderer

#: What every handler of the service takes: the runtime's unit of work, or the unit tests' fake.
NotificationsUnitOfWork = AbstractUnitOfWork[NotificationsRepository]

#: Deliveries written at once: few enough to keep their bodies' memory small.
DELIVERY_BATCH = 500


@dataclass(frozen=True)
class Notifier:
    """What the handlers need besides the unit of work."""

    renderer: Renderer
    links: UnsubscribeLinks
    confirmations: ConfirmationLinks
    agency_emails: tuple[str, ...]
    window: timedelta
    message_domain: str
    #: The web's public address, for links to its pages (NOTIFICATIONS_WEB_URL).
    web_url: str = "http://127.0.0.1:8000"
    new_members_listed_at_most: int = NEW_MEMBERS_LISTED_AT_MOST

    async def deliver(
        self,
        repository: NotificationsRepository,
        *,
        kind: Kind,
        event_id: UUID,
        recipients: Sequence[Recipient],
        context: Mapping[str, Any] | Callable[[Recipient], Mapping[str, Any] | None],
        event_ids: Sequence[UUID] = (),
        centre_id: UUID | None = None,
        notice_id: UUID | None = None,
    ) -> None:
        """One delivery per recipient, pending or suppressed (opted out); a delivery that
        already exists for (event, recipient, kind) is left as it is. Written a few hundred at
        a time (an announcement to every animator of a national network is thousands)."""
        people = distinct_recipients(recipients)
        category = category_of(kind)
        # Nobody opts out of essential mail (a welcome): no query for it.
        opted_out = (
            {} if category.essential else await repository.opted_out(p.email for p in people)
        )
        batch: list[NewDelivery] = []
        for person in people:
            values = context(person) if callable(context) else context
            if values is None:
                continue
            url = None if category.essential else self.links.url(person.email, category)
            rendered = self.renderer.render(
                kind, {**values, "recipient_name": person.name}, unsubscribe_url=url
            )
            delivery_id = uuid4()
            status = (
                Status.PENDING
                if should_send(category, opted_out.get(person.email, []))
                else Status.SUPPRESSED
            )
            batch.append(
                NewDelivery(
                    id=delivery_id,
                    event_id=event_id,
                    event_ids=list(event_ids) or [event_id],
                    recipient=person.email,
                    kind=kind.value,
                    category=category.value,
                    centre_id=centre_id,
                    notice_id=notice_id,
                    subject=rendered.subject,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    unsubscribe_url=url,
                    status=status,
                    message_id=f"<{delivery_id}@{self.message_domain}>",
                )
            )
            if len(batch) >= DELIVERY_BATCH:
                await repository.insert_deliveries(batch)
                batch = []
        await repository.insert_deliveries(batch)

    async def deliver_notice(
        self,
        repository: NotificationsRepository,
        items: Sequence[NoticeItem],
        *,
        kind: Kind,
        recipients: Sequence[Recipient],
        context: Mapping[str, Any] | Callable[[Recipient], Mapping[str, Any] | None],
        centre_id: UUID | None = None,
        notice_id: UUID | None = None,
        names_each_event: bool = True,
    ) -> None:
        """The mail of a sealed notice (:meth:`deliver`): about its first event, telling every
        event of its ``items``; only the first when it ``names_each_event`` not (a summary)."""
        first = items[0].event_id
        await self.deliver(
            repository,
            kind=kind,
            event_id=first,
            event_ids=[item.event_id for item in items] if names_each_event else [first],
            recipients=recipients,
            context=context,
            centre_id=centre_id,
            notice_id=notice_id,
        )

    def agency(self) -> list[Recipient]:
        return [Recipient(email) for email in self.agency_emails]
