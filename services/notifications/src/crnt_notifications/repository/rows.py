"""What the notifications' tables hold, row by row."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_notifications.domain import Status


@dataclass(frozen=True)
class CentreRow:
    id: UUID
    status: str
    nom: str
    commune: str
    code_postal: str
    epci_siren: str
    epci_name: str


@dataclass(frozen=True)
class DeliveryContent:
    """What a delivery is, to whom, about what, as written once rendered."""

    id: UUID
    event_id: UUID
    event_ids: Sequence[UUID]
    recipient: str
    kind: str
    category: str
    centre_id: UUID | None
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str | None


@dataclass(frozen=True)
class NewDelivery(DeliveryContent):
    status: Status
    message_id: str
    #: The coalesced notice it comes from, whose items are every event it tells about.
    notice_id: UUID | None = None


@dataclass(frozen=True)
class Delivery(DeliveryContent):
    """A delivery as it stands: its status, its attempts and when."""

    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    notice_id: UUID | None = None


@dataclass(frozen=True)
class Notice:
    id: UUID
    kind: str
    key: str
    created_at: datetime


@dataclass(frozen=True)
class NoticeItem:
    event_id: UUID
    data: dict[str, Any]


@dataclass(frozen=True)
class NoticeEntry:
    """An event to add to the open notice of its key."""

    key: str
    event_id: UUID
    data: dict[str, Any]


@dataclass(frozen=True)
class DeliveryFilters:
    recipient: str | None = None
    status: str | None = None
    kind: str | None = None
    event_id: UUID | None = None
