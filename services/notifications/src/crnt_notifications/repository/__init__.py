"""The notifications service's SQL, over one asyncpg connection (the unit of work's), one room
each: who may be mailed (:mod:`~crnt_notifications.repository.recipients`), the coalesced
notices (:mod:`~crnt_notifications.repository.notices`), the deliveries
(:mod:`~crnt_notifications.repository.deliveries`) and erasure
(:mod:`~crnt_notifications.repository.erasure`); :class:`Repository` is all of them, and
:class:`NotificationsRepository` what the handlers need of it (the protocol their fakes
implement too)."""

from crnt_notifications.repository.deliveries import Deliveries
from crnt_notifications.repository.erasure import Erased, Erasure, delivery_purge
from crnt_notifications.repository.notices import Notices
from crnt_notifications.repository.protocol import NotificationsRepository
from crnt_notifications.repository.recipients import Recipients
from crnt_notifications.repository.rows import (
    CentreRow,
    ClassChanges,
    Delivery,
    DeliveryContent,
    DeliveryFilters,
    NewDelivery,
    Notice,
    NoticeEntry,
    NoticeItem,
    ShareAnnouncement,
    notice_item_id,
)


class Repository(Recipients, Notices, Deliveries, Erasure):
    """Every room of the repository over the one connection."""


__all__ = [
    "CentreRow",
    "ClassChanges",
    "Delivery",
    "DeliveryContent",
    "DeliveryFilters",
    "Erased",
    "NewDelivery",
    "Notice",
    "NoticeEntry",
    "NoticeItem",
    "NotificationsRepository",
    "Repository",
    "ShareAnnouncement",
    "delivery_purge",
    "notice_item_id",
]
