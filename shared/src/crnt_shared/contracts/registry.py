"""What the registry publishes on ``crnt.registry.events``.

Every event carries what its consumers need so that they never call the registry: the centre's
public facts, its EPCI, and its animators' names and emails. The key (``subject``) is the centre
id, except for EPCI events, whose subject is the EPCI's SIREN.
"""

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.events import Contract, Event
from crnt_shared.topics import REGISTRY

#: ``pending``, ``member``, ``rejected``, ``suspended`` or ``withdrawn``; a plain string so that
#: a consumer is not broken by a state added later.
MembershipStatus = str


class AnimatorFacts(Contract):
    id: UUID
    name: str
    email: str


class CentreFacts(Contract):
    """A centre as the national standard names its fields, plus the network's own."""

    id: UUID
    status: MembershipStatus
    nom: str
    pivot: str
    adresse: str
    code_postal: str
    commune: str
    code_insee: str
    epci_siren: str
    epci_name: str
    typologie: list[str]
    workstations: int
    horaires: str | None = None
    services: list[str] = Field(default_factory=list)
    date_maj: date | None = None


class EpciData(Contract):
    siren: str
    name: str
    population: int
    communes: list[str]


class ApplicationSubmittedData(Contract):
    application_id: UUID
    channel: str = Field(description="`form` (POST /applications) or `import` (CSV)")
    submitted_at: datetime
    centre: CentreFacts
    animators: list[AnimatorFacts]


class MembershipChangeData(Contract):
    """A membership transition: who decided it, when, why, and whom it concerns."""

    application_id: UUID | None = None
    previous_status: MembershipStatus
    status: MembershipStatus
    reason: str | None = None
    by: str
    at: datetime
    centre: CentreFacts
    animators: list[AnimatorFacts]


class CentreUpdatedData(Contract):
    changed: list[str]
    centre: CentreFacts
    animators: list[AnimatorFacts]


class AnimatorChangeData(Contract):
    centre: CentreFacts
    animator: AnimatorFacts
    previous_email: str | None = None


class _RegistryEvent(Event):
    topic: ClassVar[str] = REGISTRY


class EpciRegistered(_RegistryEvent):
    """An EPCI joined the registry, with its population and communes (key: its SIREN)."""

    type: Literal["fr.crnt.registry.epci.registered.v1"] = "fr.crnt.registry.epci.registered.v1"
    data: EpciData


class EpciUpdated(_RegistryEvent):
    """An EPCI's name, population or communes changed (key: its SIREN)."""

    type: Literal["fr.crnt.registry.epci.updated.v1"] = "fr.crnt.registry.epci.updated.v1"
    data: EpciData


class ApplicationSubmitted(_RegistryEvent):
    """A centre asked to join, by the form or a CSV import; it is pending (key: centre id)."""

    type: Literal["fr.crnt.registry.application.submitted.v1"] = (
        "fr.crnt.registry.application.submitted.v1"
    )
    data: ApplicationSubmittedData


class MembershipApproved(_RegistryEvent):
    """A centre became a member: its EPCI, workstations and animators (key: centre id)."""

    type: Literal["fr.crnt.registry.membership.approved.v1"] = (
        "fr.crnt.registry.membership.approved.v1"
    )
    data: MembershipChangeData


class MembershipRejected(_RegistryEvent):
    """The agency rejected a centre's application, and why (key: centre id)."""

    type: Literal["fr.crnt.registry.membership.rejected.v1"] = (
        "fr.crnt.registry.membership.rejected.v1"
    )
    data: MembershipChangeData


class MembershipSuspended(_RegistryEvent):
    """A member centre was suspended: who, when, why, and its animators (key: centre id)."""

    type: Literal["fr.crnt.registry.membership.suspended.v1"] = (
        "fr.crnt.registry.membership.suspended.v1"
    )
    data: MembershipChangeData


class MembershipReinstated(_RegistryEvent):
    """A suspended centre is a member again (key: centre id)."""

    type: Literal["fr.crnt.registry.membership.reinstated.v1"] = (
        "fr.crnt.registry.membership.reinstated.v1"
    )
    data: MembershipChangeData


class MembershipWithdrawn(_RegistryEvent):
    """A member or suspended centre left the network: who, when, why (key: centre id)."""

    type: Literal["fr.crnt.registry.membership.withdrawn.v1"] = (
        "fr.crnt.registry.membership.withdrawn.v1"
    )
    data: MembershipChangeData


class CentreUpdated(_RegistryEvent):
    """A centre's facts changed; `changed` names the fields (key: centre id)."""

    type: Literal["fr.crnt.registry.centre.updated.v1"] = "fr.crnt.registry.centre.updated.v1"
    data: CentreUpdatedData


class AnimatorAdded(_RegistryEvent):
    """A centre has a new animator (key: centre id)."""

    type: Literal["fr.crnt.registry.animator.added.v1"] = "fr.crnt.registry.animator.added.v1"
    data: AnimatorChangeData


class AnimatorUpdated(_RegistryEvent):
    """An animator's name or email changed; `previous_email` if it did (key: centre id)."""

    type: Literal["fr.crnt.registry.animator.updated.v1"] = "fr.crnt.registry.animator.updated.v1"
    data: AnimatorChangeData


class AnimatorRemoved(_RegistryEvent):
    """An animator no longer belongs to the centre (key: centre id)."""

    type: Literal["fr.crnt.registry.animator.removed.v1"] = "fr.crnt.registry.animator.removed.v1"
    data: AnimatorChangeData


MEMBERSHIP_EVENTS: tuple[type[Event], ...] = (
    MembershipApproved,
    MembershipRejected,
    MembershipSuspended,
    MembershipReinstated,
    MembershipWithdrawn,
)

#: Every contract the registry publishes (for a consumer's catalog and the AsyncAPI document).
REGISTRY_EVENTS: tuple[type[Event], ...] = (
    EpciRegistered,
    EpciUpdated,
    ApplicationSubmitted,
    *MEMBERSHIP_EVENTS,
    CentreUpdated,
    AnimatorAdded,
    AnimatorUpdated,
    AnimatorRemoved,
)
