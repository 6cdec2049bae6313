"""What the registry publishes on ``crnt.registry.events``.

Every event carries what its consumers need so that they never call the registry: the centre's
public facts, its EPCI, and its animators' names and emails. The key (``subject``) is the centre
id, except for EPCI events, whose subject is the EPCI's SIREN.
"""

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.contracts.identity import Actor
from crnt_shared.events import Contract, Event

#: ``pending``, ``member``, ``rejected``, ``suspended``, ``withdrawn`` or ``expired``; a plain
#: string so that a consumer is not broken by a state added later.
MembershipStatus = str


class AnimatorFacts(Contract):
    id: UUID
    name: str
    email: str
    confirmed: bool = Field(
        default=True,
        description="`false` while the address, named in an anonymous application, has not"
        " confirmed it: nobody mails it anything but the one confirmation request.",
    )


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
    confirmation_required: bool = Field(
        default=False,
        description="`true` for an anonymous application: its addresses hear nothing until"
        " they confirm (see `application.address_confirmed`), the agency neither.",
    )
    confirmation_requested: list[UUID] = Field(
        default_factory=list,
        description="The animators (ids) to ask now, once, to confirm their address; an"
        " address asked within the resend window (by any application) is not listed.",
    )
    expires_at: datetime | None = Field(
        default=None, description="When the application expires if no address confirms."
    )


class AddressConfirmedData(Contract):
    application_id: UUID
    application_status: str = Field(description="`pending`, or the decision taken meanwhile.")
    first: bool = Field(description="`true` when it is the application's first confirmed address.")
    animator: AnimatorFacts
    at: datetime
    channel: str
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
    actor: Actor = None


class CentreUpdatedData(Contract):
    changed: list[str]
    centre: CentreFacts
    animators: list[AnimatorFacts]
    actor: Actor = None


class AnimatorChangeData(Contract):
    centre: CentreFacts
    animator: AnimatorFacts
    previous_email: str | None = None
    actor: Actor = None


class _RegistryEvent(Event):
    publisher: ClassVar[str] = "registry"


class EpciRegistered(_RegistryEvent):
    """An EPCI joined the registry, with its population and communes (key: its SIREN)."""

    type: Literal["fr.crnt.registry.epci.registered.v1"] = "fr.crnt.registry.epci.registered.v1"
    data: EpciData


class EpciUpdated(_RegistryEvent):
    """An EPCI's name, population or communes changed (key: its SIREN)."""

    type: Literal["fr.crnt.registry.epci.updated.v1"] = "fr.crnt.registry.epci.updated.v1"
    data: EpciData


class ApplicationSubmitted(_RegistryEvent):
    """A centre asked to join, by the form or a CSV import; it is pending (key: centre id).

    Anonymous, its addresses must confirm: those in `confirmation_requested` are asked to.
    """

    type: Literal["fr.crnt.registry.application.submitted.v1"] = (
        "fr.crnt.registry.application.submitted.v1"
    )
    data: ApplicationSubmittedData


class ApplicationAddressConfirmed(_RegistryEvent):
    """An address of an anonymous application confirmed it; the mail flow may go on (key:
    centre id)."""

    type: Literal["fr.crnt.registry.application.address_confirmed.v1"] = (
        "fr.crnt.registry.application.address_confirmed.v1"
    )
    data: AddressConfirmedData


class ApplicationExpired(_RegistryEvent):
    """An anonymous application no address confirmed in time expired; the centre is
    `expired` (key: centre id)."""

    type: Literal["fr.crnt.registry.application.expired.v1"] = (
        "fr.crnt.registry.application.expired.v1"
    )
    data: MembershipChangeData


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


class PersonErasedData(Contract):
    """Only what each service needs to find its copies of the person: never the address."""

    animator_id: UUID = Field(description="The animator the registry erased.")
    centre_id: UUID
    person_id: UUID = Field(
        description="The person's id on tokens and in `actor` references (`sub`), for the"
        " services that name who did what."
    )
    salt: str = Field(description="Random, hexadecimal, new for every erasure.")
    email_digest: str = Field(
        description="SHA-256 (hexadecimal) of the salt's bytes followed by the address, trimmed"
        " and in lower case (UTF-8): what a service recomputes over the addresses it holds."
    )
    at: datetime
    actor: Actor = None


class PersonErased(_RegistryEvent):
    """The agency erased an animator of a rejected, expired or withdrawn centre: each service
    erases or pseudonymises what it holds of that person (key: centre id)."""

    type: Literal["fr.crnt.registry.person.erased.v1"] = "fr.crnt.registry.person.erased.v1"
    data: PersonErasedData


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
    ApplicationAddressConfirmed,
    ApplicationExpired,
    *MEMBERSHIP_EVENTS,
    CentreUpdated,
    AnimatorAdded,
    AnimatorUpdated,
    AnimatorRemoved,
    PersonErased,
)
