"""What the registry keeps, as its repository reads and writes it: EPCIs, centres, animators,
applications and the membership history."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from uuid import UUID

from crnt_shared.contracts.identity import ActorRef

from crnt_registry.domain import CentreDraft, Confirmation, MembershipStatus


@dataclass(frozen=True)
class Epci:
    siren: str
    name: str
    population: int
    communes: list[str]


@dataclass(frozen=True)
class Centre:
    id: UUID
    status: MembershipStatus
    facts: CentreDraft
    epci_siren: str
    epci_name: str
    date_maj: date
    created_at: datetime
    updated_at: datetime
    #: When the agency approved its application: its arrival in the network (None before).
    member_since: datetime | None = None


@dataclass(frozen=True)
class Animator:
    id: UUID
    centre_id: UUID
    name: str
    email: str
    #: When the address was confirmed (at entry for what the agency enters); None until then.
    confirmed_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True)
class Application:
    id: UUID
    centre_id: UUID
    status: str
    channel: str
    submitted_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    confirmation: Confirmation = Confirmation.NOT_REQUIRED
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "confirmation", Confirmation(self.confirmation))

    @classmethod
    def pending(
        cls,
        id: UUID,
        centre_id: UUID,
        channel: str,
        submitted_at: datetime,
        *,
        confirmation: Confirmation = Confirmation.NOT_REQUIRED,
        expires_at: datetime | None = None,
    ) -> "Application":
        """A new application, not decided yet."""
        undecided = {"decided_at": None, "decided_by": None, "reason": None}
        return cls(
            id,
            centre_id,
            "pending",
            channel,
            submitted_at,
            **undecided,
            confirmation=confirmation,
            expires_at=expires_at,
        )


@dataclass(frozen=True)
class Decision:
    """What an application becomes (approved, rejected, expired), who decided, why and when."""

    status: str
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    previous_status: str | None
    status: str
    reason: str | None
    actor: str
    at: datetime
    #: ``{kind, id, name}``: who, a person or a service account (none before people signed in).
    actor_ref: dict[str, str] | None = None


@dataclass(frozen=True)
class NewCentre:
    id: UUID
    facts: CentreDraft
    epci_siren: str
    date_maj: date


@dataclass(frozen=True)
class Transition:
    """One line of a centre's membership history."""

    centre_id: UUID
    action: str
    previous: MembershipStatus | None
    status: MembershipStatus
    reason: str | None
    actor: str
    at: datetime
    actor_ref: ActorRef | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
