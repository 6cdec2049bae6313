"""What the notifications' tables hold, row by row."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from crnt_shared.contracts.budget import ClassDotation

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
    message_id: str
    #: The coalesced notice it comes from, whose items are every event it tells about.
    notice_id: UUID | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class NewDelivery(DeliveryContent):
    status: Status


@dataclass(frozen=True)
class Delivery(DeliveryContent):
    """A delivery as it stands: its status, its attempts and when, and when it was sent."""

    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Notice:
    id: UUID
    kind: str
    key: str
    created_at: datetime


class ShareAnnouncement(NamedTuple):
    """The share a centre's mail announced for a year: what the next one compares with."""

    centre_id: UUID
    year: int
    amount_cents: int
    version: int


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


def notice_item_id(event_id: UUID, centre_id: UUID) -> UUID:
    """The id of what one event says of one centre in its notice, the same at every replay:
    ``md5(event id || centre id)`` as text, which the SQL of the class changes computes too."""
    digest = hashlib.md5(f"{event_id}{centre_id}".encode(), usedforsecurity=False)
    return UUID(digest.hexdigest())


@dataclass(frozen=True)
class ClassChanges:
    """What a budget version's classes change for the members it does not list: each whose
    dotation moved gets an item ``data`` (with its id, amount and previous amount added) in its
    open notice of ``kind`` (opened until ``open_until``), of the id :func:`notice_item_id`
    gives for the version's ``event_id`` and the centre."""

    kind: str
    year: int
    version: int
    event_id: UUID
    classes: Sequence[ClassDotation]
    previous: Sequence[ClassDotation]
    data: dict[str, Any]
    open_until: datetime


@dataclass(frozen=True)
class DeliveryFilters:
    recipient: str | None = None
    status: str | None = None
    kind: str | None = None
    event_id: UUID | None = None
