"""The closed sets of values the services' APIs accept and answer with, written once: the
services' domains name them, the CLI offers them as choices (it speaks HTTP only, and imports
them from here rather than keeping copies)."""

from enum import StrEnum


class MembershipStatus(StrEnum):
    """A centre's membership of the network (the registry's state machine)."""

    PENDING = "pending"
    MEMBER = "member"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ApplicationStatus(StrEnum):
    """An application to join, as the registry lists them."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class DeliveryStatus(StrEnum):
    """An email's delivery (notifications)."""

    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class MailKind(StrEnum):
    """One kind of email notifications sends: one template (subject, text, HTML)."""

    ADDRESS_CONFIRMATION = "address_confirmation"
    APPLICATION_RECEIVED = "application_received"
    APPLICATIONS_IMPORTED = "applications_imported"
    APPLICATION_ACKNOWLEDGED = "application_acknowledged"
    MEMBERSHIP_WELCOME = "membership_welcome"
    MEMBERSHIP_REJECTED = "membership_rejected"
    MEMBERSHIP_SUSPENDED = "membership_suspended"
    MEMBERSHIP_REINSTATED = "membership_reinstated"
    MEMBERSHIP_WITHDRAWN = "membership_withdrawn"
    AGENCY_MEMBERSHIP_CHANGED = "agency_membership_changed"
    AGENCY_TEAM_CHANGED = "agency_team_changed"
    NEW_MEMBERS = "new_members"
    SHARE_CHANGED = "share_changed"
    PROGRAMME_VALIDATED = "programme_validated"
    ACTION_STATUS_CHANGED = "action_status_changed"
    PARTICIPATION_EXCEEDED = "participation_exceeded"


class CentreWeight(StrEnum):
    """What weighs a centre's dotation beside the part split equally (the budget's key)."""

    WORKSTATIONS = "workstations"
    NONE = "none"


#: A centre's main facts, by the names of the national standard and the network's own: the
#: registry keeps them in columns of their own, the CLI shows them.
CENTRE_MAIN_FIELDS = (
    "nom",
    "pivot",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "epci_siren",
    "typologie",
    "workstations",
)


class EpciKey(StrEnum):
    """How the EPCIs share the reste à charge (the budget's key)."""

    POPULATION = "population"
    MEMBER_CENTRES = "member_centres"
    FIXED_SHARES = "fixed_shares"
