"""What the handlers, the routes and the sender need of the notifications' repository: the SQL
of :class:`~crnt_notifications.repository.Repository` does it, and so does the unit tests' fake
(``services/notifications/tests/fakes.py``)."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from crnt_shared.contracts.budget import ChangedCentre
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts

from crnt_notifications.domain import Recipient
from crnt_notifications.repository.erasure import Erased
from crnt_notifications.repository.rows import (
    CentreRow,
    ClassChanges,
    Delivery,
    DeliveryFilters,
    NewDelivery,
    Notice,
    NoticeEntry,
    NoticeItem,
    ShareAnnouncement,
)


class NotificationsRepository(Protocol):
    # The recipients read model

    async def upsert_epci(self, siren: str, name: str) -> None: ...

    async def upsert_centres(self, centres: Sequence[CentreFacts]) -> None: ...

    async def replace_teams(self, teams: Sequence[tuple[UUID, Sequence[AnimatorFacts]]]) -> None:
        """Each centre's animators become exactly those given."""
        ...

    async def upsert_animator(self, centre_id: UUID, animator: AnimatorFacts) -> None: ...

    async def remove_animator(self, animator_id: UUID) -> None: ...

    async def centres(self, centre_ids: Iterable[UUID]) -> dict[UUID, CentreRow]: ...

    async def animators_of(self, centre_id: UUID) -> list[Recipient]: ...

    async def teams(self, centre_ids: Iterable[UUID]) -> dict[UUID, list[Recipient]]:
        """The animators of each of these centres that has some, by name."""
        ...

    async def hearing_animators(self) -> list[Recipient]: ...

    async def animators_with_centre(
        self, statuses: Iterable[str]
    ) -> list[tuple[Recipient, str]]: ...

    # Preferences and address confirmations

    async def opted_out(self, emails: Iterable[str]) -> dict[str, list[str]]: ...

    async def preferences(self, email: str) -> tuple[list[str], datetime | None]: ...

    async def set_preferences(self, email: str, opted_out: Iterable[str]) -> None: ...

    async def opt_out(self, email: str, category: str) -> None: ...

    async def record_confirmation(self, application_id: UUID, email: str) -> datetime | None: ...

    # Coalesced notices

    async def add_to_notice(
        self, *, kind: str, key: str, event_id: UUID, data: dict[str, Any], open_until: datetime
    ) -> None: ...

    async def add_many_to_notices(
        self, *, kind: str, items: Sequence[NoticeEntry], open_until: datetime
    ) -> None: ...

    async def record_dotation_members(
        self, year: int, version: int, centres: Sequence[ChangedCentre]
    ) -> None:
        """What a budget version lists of these centres: their workstations and membership."""

    async def add_class_changes_to_notices(self, changes: ClassChanges) -> None:
        """Add the change of every member the version did not list whose class's dotation
        moved, each to its centre's notice."""

    async def lock_due_notices(self, limit: int) -> list[Notice]: ...

    async def notices_items(self, notice_ids: Sequence[UUID]) -> dict[UUID, list[NoticeItem]]:
        """Each notice's items, in the order they came."""
        ...

    async def seal_notices(self, notice_ids: Sequence[UUID]) -> None: ...

    async def postpone_notice(self, notice_id: UUID, until: datetime) -> None: ...

    async def last_announced(
        self, shares: Iterable[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], int]:
        """The amount last announced of each (centre, year) announced before."""
        ...

    async def record_announcements(self, announcements: Sequence[ShareAnnouncement]) -> None: ...

    # Deliveries

    async def insert_deliveries(self, deliveries: Sequence[NewDelivery]) -> None: ...

    async def claim_due(self, limit: int) -> list[Delivery]: ...

    async def mark_sent(self, delivery_ids: Sequence[UUID]) -> None: ...

    async def mark_retrying(
        self, delivery_id: UUID, attempts: int, delay_seconds: float, error: str
    ) -> None: ...

    async def mark_failed(self, delivery_id: UUID, attempts: int, error: str) -> None: ...

    async def requeue(self, delivery_id: UUID) -> None: ...

    async def delivery(self, delivery_id: UUID, *, lock: bool = False) -> Delivery | None: ...

    async def deliveries(
        self, filters: DeliveryFilters, *, limit: int, offset: int
    ) -> tuple[list[Delivery], int]: ...

    # Erasure

    async def erase_person(self, animator_id: UUID, salt: str, email_digest: str) -> Erased: ...
