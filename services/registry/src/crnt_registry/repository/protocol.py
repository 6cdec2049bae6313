"""What the registry's handlers need of their repository: the SQL one
(:class:`~crnt_registry.repository.sql.Repository`) and the fake of the unit tests both do it.
The methods on many at once serve the bulk handlers, those of the last section the erasure."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from crnt_registry.domain import CentreDraft, Confirmation, MembershipStatus
from crnt_registry.repository.records import (
    Animator,
    Application,
    Centre,
    Decision,
    Epci,
    NewCentre,
    Transition,
)


class RegistryRepository(Protocol):
    # EPCIs

    async def add_epci(self, epci: Epci) -> None:
        """Raises Conflict if the EPCI or one of its communes is registered already."""

    async def update_epci(self, epci: Epci) -> None: ...

    async def epci(self, siren: str, *, for_update: bool = False) -> Epci | None: ...

    async def commune_owners(self, communes: Iterable[str]) -> dict[str, str]:
        """The EPCI SIREN of each of ``communes`` that an EPCI lists."""
        ...

    async def epci_names(self, sirens: Iterable[str]) -> dict[str, str]: ...

    # Centres

    async def add_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        """Raises Conflict if a live centre holds its pivot."""

    async def add_centres(self, centres: Sequence[NewCentre]) -> None: ...

    async def update_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        """Raises Conflict if another live centre holds its new pivot."""

    async def centre(self, centre_id: UUID, *, for_update: bool = False) -> Centre | None: ...

    async def centres_by_id(
        self, centre_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Centre]:
        """Those that exist, locked in id order if asked."""
        ...

    async def live_centres_with_pivots(self, pivots: Iterable[str]) -> dict[str, UUID]:
        """The centre holding each pivot among those pending, member or suspended."""
        ...

    async def set_status(self, centre_id: UUID, status: MembershipStatus) -> None: ...

    async def set_statuses(self, centre_ids: Sequence[UUID], status: MembershipStatus) -> None: ...

    async def now(self) -> datetime:
        """The transaction's time."""
        ...

    # Applications and history

    async def add_applications(self, applications: Sequence[Application]) -> None: ...

    async def application(
        self, application_id: UUID, *, for_update: bool = False
    ) -> Application | None: ...

    async def applications_by_id(
        self, application_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Application]: ...

    async def application_of(self, centre_id: UUID) -> Application | None: ...

    async def decide_applications(
        self, application_ids: Sequence[UUID], decision: Decision
    ) -> None: ...

    async def set_confirmation(self, application_id: UUID, confirmation: Confirmation) -> None: ...

    async def expired_applications(self, now: datetime, *, limit: int) -> list[Application]:
        """Pending applications that no address confirmed before their expiry, locked."""
        ...

    async def claim_confirmation_request(
        self, email: str, application_id: UUID, *, resend_after: timedelta
    ) -> bool:
        """Whether a confirmation request may be mailed to ``email`` now (claimed if so)."""
        ...

    async def forget_confirmation_requests(self, older_than: datetime) -> None: ...

    async def record_transition(self, transition: Transition) -> None: ...

    async def record_transitions(self, transitions: Sequence[Transition]) -> None: ...

    # Animators

    async def add_animator(self, animator: Animator) -> None:
        """Raises Conflict if an animator of the centre has the address."""

    async def add_animators(self, animators: Sequence[Animator]) -> None: ...

    async def update_animator(self, animator: Animator) -> None: ...

    async def remove_animator(self, animator_id: UUID) -> None: ...

    async def animators(self, centre_id: UUID) -> list[Animator]:
        """The centre's animators, in the order they were added."""
        ...

    async def animators_of(self, centre_ids: Sequence[UUID]) -> dict[UUID, list[Animator]]:
        """The animators of each centre that has any."""
        ...

    # Erasure

    async def centre_status(self, centre_id: UUID, *, for_update: bool = False) -> str | None: ...

    async def animator_address(
        self, centre_id: UUID, animator_id: UUID
    ) -> tuple[str, datetime | None] | None:
        """The animator's address and when it was erased (None: not yet)."""
        ...

    async def open_centre_of(self, email: str, *, besides: UUID) -> tuple[UUID, str] | None:
        """A centre not closed (and its status) that another animator with ``email`` animates."""
        ...

    async def erase_animator(
        self, animator_id: UUID, email: str, pseudonym: str, address: str, at: datetime
    ) -> int:
        """The animator becomes ``pseudonym`` at ``address``; returns how many published
        events naming ``email`` were forgotten."""
        ...
