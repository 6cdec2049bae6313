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


#: What a mail says: the same for every recipient, or for each (``None``: nothing for them).
Context = Mapping[str, Any] | Callable[[Recipient], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Mail:
    """An event's mail to its recipients (one delivery each)."""

    event_id: UUID
    recipients: Sequence[Recipient]
    context: Context
    event_ids: Sequence[UUID] = ()
    centre_id: UUID | None = None
    notice_id: UUID | None = None


def notice_mail(
    items: Sequence[NoticeItem],
    recipients: Sequence[Recipient],
    context: Context,
    *,
    centre_id: UUID | None = None,
    notice_id: UUID | None = None,
    names_each_event: bool = True,
) -> Mail:
    """The mail of a sealed notice: about its first event, telling every event of its
    ``items``; only the first when it ``names_each_event`` not (a summary)."""
    first = items[0].event_id
    event_ids = [item.event_id for item in items] if names_each_event else [first]
    return Mail(first, recipients, context, event_ids, centre_id, notice_id)


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
        context: Context,
        event_ids: Sequence[UUID] = (),
        centre_id: UUID | None = None,
        notice_id: UUID | None = None,
    ) -> None:
        """One delivery per recipient, pending or suppressed (opted out); a delivery that
        already exists for (event, recipient, kind) is left as it is."""
        mail = Mail(event_id, recipients, context, event_ids, centre_id, notice_id)
        await self.deliver_all(repository, kind, [mail])

    async def deliver_all(
        self, repository: NotificationsRepository, kind: Kind, mails: Sequence["Mail"]
    ) -> None:
        """The deliveries of every mail of ``kind`` (:meth:`deliver`), the opt-outs of all
        their recipients read at once. Written a few hundred at a time (an announcement to
        every animator of a national network is thousands)."""
        category = category_of(kind)
        people = [distinct_recipients(mail.recipients) for mail in mails]
        # Nobody opts out of essential mail (a welcome): no query for it.
        opted_out = (
            {}
            if category.essential
            else await repository.opted_out({p.email for group in people for p in group})
        )
        batch: list[NewDelivery] = []
        for mail, group in zip(mails, people, strict=True):
            for person in group:
                values = mail.context(person) if callable(mail.context) else mail.context
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
                        event_id=mail.event_id,
                        event_ids=list(mail.event_ids) or [mail.event_id],
                        recipient=person.email,
                        kind=kind.value,
                        category=category.value,
                        centre_id=mail.centre_id,
                        notice_id=mail.notice_id,
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
        context: Context,
        centre_id: UUID | None = None,
        notice_id: UUID | None = None,
        names_each_event: bool = True,
    ) -> None:
        """The mail of a sealed notice (:func:`notice_mail`)."""
        mail = notice_mail(
            items,
            recipients,
            context,
            centre_id=centre_id,
            notice_id=notice_id,
            names_each_event=names_each_event,
        )
        await self.deliver_all(repository, kind, [mail])

    def agency(self) -> list[Recipient]:
        return [Recipient(email) for email in self.agency_emails]
