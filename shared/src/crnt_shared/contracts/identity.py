"""What the identity service publishes on ``crnt.identity.events``.

Public signing keys (so that every service verifies tokens locally), the end of a person's
access (so that every service refuses their tokens at once), and the people the agency adds or
removes. A sign-in secret, a refresh token or a private key never appears in any of them.
"""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from crnt_shared.events import Contract, Event


class ActorRef(Contract):
    """Who made a change: a person (their id and display name) or a service account."""

    kind: Literal["person", "service"]
    id: str
    name: str


#: The ``actor`` of an event that records a change; ``None`` in the events of before people
#: signed in.
Actor = Annotated[
    ActorRef | None,
    Field(description="Who: a person (id, display name) or a service account."),
]


class SigningKeyData(Contract):
    kid: str
    jwk: dict[str, Any] = Field(description="The public key, as a JWK (OKP, Ed25519).")
    created_at: datetime
    signs_from: datetime = Field(description="Tokens signed with it appear from this time.")


class SigningKeyRetiredData(Contract):
    kid: str
    retired_at: datetime


class AccessRevokedData(Contract):
    """Tokens of the person issued before ``revoked_before`` are refused from now on."""

    person_id: str
    revoked_before: datetime
    reason: str = Field(description="`person_removed`, `animator_removed`, `centre_left`, …")


class PersonData(Contract):
    person_id: str
    display_name: str
    roles: list[str]
    by: ActorRef
    at: datetime


class _IdentityEvent(Event):
    publisher: ClassVar[str] = "identity"


class SigningKeyAnnounced(_IdentityEvent):
    """A public key that identity signs tokens with, or soon will (key: its kid)."""

    type: Literal["fr.crnt.identity.signing-key.announced.v1"] = (
        "fr.crnt.identity.signing-key.announced.v1"
    )
    data: SigningKeyData


class SigningKeyRetired(_IdentityEvent):
    """A key that no token still valid was signed with: refuse it (key: its kid)."""

    type: Literal["fr.crnt.identity.signing-key.retired.v1"] = (
        "fr.crnt.identity.signing-key.retired.v1"
    )
    data: SigningKeyRetiredData


class AccessRevoked(_IdentityEvent):
    """A person's tokens issued until now are refused: removed, or no longer an animator of a
    member centre (key: the person id)."""

    type: Literal["fr.crnt.identity.access.revoked.v1"] = "fr.crnt.identity.access.revoked.v1"
    data: AccessRevokedData


class PersonAdded(_IdentityEvent):
    """The agency added an agency or COPIL person (key: the person id)."""

    type: Literal["fr.crnt.identity.person.added.v1"] = "fr.crnt.identity.person.added.v1"
    data: PersonData


class PersonRemoved(_IdentityEvent):
    """The agency removed a person; their access ended (key: the person id)."""

    type: Literal["fr.crnt.identity.person.removed.v1"] = "fr.crnt.identity.person.removed.v1"
    data: PersonData


#: What every service reads from identity: keys and revocations.
AUTH_EVENTS: tuple[type[Event], ...] = (SigningKeyAnnounced, SigningKeyRetired, AccessRevoked)

#: Every contract identity publishes.
IDENTITY_EVENTS: tuple[type[Event], ...] = (*AUTH_EVENTS, PersonAdded, PersonRemoved)
