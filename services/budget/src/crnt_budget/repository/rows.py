"""What the budget's tables hold, row by row, as the handlers and the API read them."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from crnt_budget.domain import DotationClass


@dataclass(frozen=True)
class CentreRow:
    centre_id: UUID
    name: str
    epci_siren: str
    epci_name: str
    workstations: int
    is_member: bool
    as_of: datetime


@dataclass(frozen=True)
class EpciRow:
    siren: str
    name: str
    population: int | None


@dataclass(frozen=True)
class BudgetRow:
    year: int
    configuration: dict[str, Any]
    revision: int
    configured_at: datetime
    latest_version: int
    closed_at: datetime | None = None
    closed_by: str | None = None
    waiting: dict[str, Any] | None = None
    #: Whether a version of the year published its dotations: the next lists only the centres
    #: whose facts changed (else every member, see the migration 0006).
    dotations_told: bool = False


@dataclass(frozen=True)
class ActionRow:
    """An action of a year's validated programme, as the plan uses it."""

    action_id: UUID
    axis: str
    nature: str
    title: str
    estimated_cents: int
    actual_cents: int | None


@dataclass(frozen=True)
class ParticipationRow:
    siren: str
    amount_cents: int
    deliberation_number: str
    deliberation_date: date


@dataclass(frozen=True)
class ProgrammeRow:
    """The validated programme version whose planned expenses a year's plan uses."""

    year: int
    version: int
    validated_at: datetime
    decided_on: date
    deciding_body: str
    total_cents: int
    event_id: UUID


class CauseRow(NamedTuple):
    """An event a version is due to: its id, its type, what it is about (its subject), in
    the order of the ``pending_causes`` columns it is stored in."""

    event_id: UUID
    event_type: str
    subject: str


@dataclass(frozen=True)
class VersionRow:
    year: int
    version: int
    computed_at: datetime
    cause: dict[str, Any]
    configuration: dict[str, Any]
    financing: dict[str, Any]
    envelope_cents: int
    allocated_cents: int
    epci_contribution_cents: int
    member_count: int
    changed_centres: int


@dataclass(frozen=True)
class CentreShareRow:
    centre_id: UUID
    name: str
    epci_siren: str
    workstations: int
    is_member: bool
    amount_cents: int
    previous_cents: int


@dataclass(frozen=True)
class ShareChange(CentreShareRow):
    """A centre whose row in a new version differs from the version before: its facts (it
    joined or left, its name, EPCI or workstations changed: ``facts_changed``) or its amount."""

    facts_changed: bool


@dataclass(frozen=True)
class Staging:
    """What a new version is compared on: the members at ``at`` under ``dotations`` against
    their rows in version ``latest`` of ``year``; the centres read back are those whose facts
    changed, those among ``subjects`` (what the version's causes are about) and, with
    ``everyone``, every member."""

    year: int
    at: datetime
    latest: int
    dotations: Mapping[int, DotationClass]
    subjects: Collection[str]
    everyone: bool = False


@dataclass(frozen=True)
class StagedChanges:
    """What a new version changes, staged in the database: how many centres' amounts moved,
    and the centres the caller reads (their facts changed, causes of the version are about
    them, or every member when asked)."""

    moved: int
    rows: list[ShareChange]


@dataclass(frozen=True)
class Envelope:
    """What every event of a version has in common: who publishes it, when, and in which
    request or event and trace."""

    source: str
    time: datetime
    correlationid: str | None
    traceparent: str | None


@dataclass(frozen=True)
class MemberClassRow:
    """How many members of a year have these workstations in this EPCI."""

    workstations: int
    epci_siren: str
    epci_name: str
    members: int


@dataclass(frozen=True)
class EpciShareRow:
    siren: str
    name: str
    population: int | None
    member_centres: int
    amount_cents: int
    previous_cents: int
    voted_cents: int | None = None
    deliberation_number: str | None = None
    deliberation_date: date | None = None
    exceeds_voted: bool = False
