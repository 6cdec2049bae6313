"""What the notifications service publishes on ``crnt.notifications.events``: the fate of each
email (key: the delivery id), and the addresses that confirmed an application (key: the
application id)."""

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.events import Contract, Event


class DeliveryData(Contract):
    delivery_id: UUID
    kind: str = Field(description="The kind of email, e.g. `membership_welcome`.")
    category: str
    recipient: str
    event_id: UUID = Field(description="The event that caused the email (the first, if several).")
    event_ids: list[UUID] = Field(
        description="Every event the email tells about; a summary of many arrivals, only the"
        " first (its notice's items are the others)."
    )
    centre_id: UUID | None = None
    notice_id: UUID | None = Field(
        default=None, description="The coalesced notice the email comes from, if any."
    )
    attempts: int
    at: datetime


class DeliverySentData(DeliveryData):
    message_id: str = Field(description="The email's Message-ID, derived from the delivery id.")


class DeliveryFailedData(DeliveryData):
    error: str
    permanent: bool = Field(
        description="`true`: the server refused the email (5xx); `false`: retries ran out."
    )


class _NotificationsEvent(Event):
    publisher: ClassVar[str] = "notifications"


class DeliverySent(_NotificationsEvent):
    """An email was accepted by the SMTP server."""

    type: Literal["fr.crnt.notifications.delivery.sent.v1"] = (
        "fr.crnt.notifications.delivery.sent.v1"
    )
    data: DeliverySentData


class DeliveryFailed(_NotificationsEvent):
    """An email was refused (5xx) or ran out of retries.

    The agency can send it again with ``POST /api/v1/deliveries/{id}/retry``.
    """

    type: Literal["fr.crnt.notifications.delivery.failed.v1"] = (
        "fr.crnt.notifications.delivery.failed.v1"
    )
    data: DeliveryFailedData


class AddressConfirmedData(Contract):
    application_id: UUID
    email: str
    at: datetime


class AddressConfirmed(_NotificationsEvent):
    """A person followed the signed link of a confirmation request: this address is behind
    this application (key: the application id). The link's secret is not in it."""

    type: Literal["fr.crnt.notifications.address.confirmed.v1"] = (
        "fr.crnt.notifications.address.confirmed.v1"
    )
    data: AddressConfirmedData


#: Every contract the notifications service publishes.
NOTIFICATIONS_EVENTS: tuple[type[Event], ...] = (DeliverySent, DeliveryFailed, AddressConfirmed)
