"""What the budget publishes on ``crnt.budget.events``.

Each recalculation of a year's shares (a new, immutable version) publishes:

* one :class:`SharesRecalculated` summary, keyed by the year: totals, each EPCI's amount and
  change, counts, the financing plan's figures and the cause (its first
  :data:`MAX_CAUSE_EVENTS` events and their count);
* one :class:`DotationsChanged`, keyed by the year, when a dotation moved: the dotation of
  each class of members (the members with the same workstations), the version's and the one
  before, and the centres whose facts changed in it (joined, left, other workstations,
  renamed), in parts of at most :data:`MAX_CHANGED_PER_PART`;
* one :class:`CentreShareChanged` per centre that a cause of the version is about (its
  approval, its withdrawal, its update) whose dotation changed, keyed by the centre id;
* one :class:`ParticipationExceeded`, keyed by the year, when the version asks an EPCI more
  than its council voted (or more than the last version that asked it too much): a new
  deliberation is needed.

The EPCIs' ``epci_contribution`` is the plan's reste à charge (expenses − grants), computed,
never typed in: what each EPCI owes is its part by the year's key.

Why not one event per member: at 50,000 members one approval changes 50,000 shares, and the
events of every member would grow as members × approvals. A member's dotation depends on its
workstations only (see ``crnt_budget.domain.keys``): a version's dotations are one amount per
class, and what a version publishes grows with what changed, like what it stores. A consumer
that follows every centre's share (notifications: "your centre's share") keeps each member's
workstations from the ``changed`` lists, in order in the year's partition, and applies the
classes to the others. The summary stays bounded too (a few kilobytes: the EPCIs of a territory
are a few dozens, the causes are capped). The full list of a version stays available at
``GET /api/v1/budgets/{year}/versions/{n}``.

Money is a decimal string of euros with two decimals ("1234.56"), never a float.
"""

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.events import Contract, Event
from crnt_shared.money import cents_from_amount

#: Euros as a decimal string with two decimals, e.g. ``"1234.56"`` (may be negative for changes).
Money = str

#: How many causing events a summary lists; ``cause.event_count`` gives the total.
MAX_CAUSE_EVENTS = 20

#: How many changed centres one :class:`DotationsChanged` lists (about 200 bytes each): a
#: version that changes more (a national import, the first version of a year) comes in parts,
#: far below Kafka's default 1 MB message limit.
MAX_CHANGED_PER_PART = 2000


class CausingEvent(Contract):
    id: UUID
    type: str


class Cause(Contract):
    """Why a version exists: events handled (a batch of them), or a manual change.

    ``events`` is bounded: in a summary, the first :data:`MAX_CAUSE_EVENTS`; in a
    :class:`CentreShareChanged`, only the causing events about that centre (its approval, its
    update); in a :class:`DotationsChanged`, none (each changed centre lists its own types).
    """

    kind: str  # `events` or `manual` (a plain string: a consumer survives a new kind)
    by: str | None = None
    event_count: int
    events: list[CausingEvent]
    #: The distinct types of all the version's causing events (a handful), so that a centre's
    #: event tells why others moved its dotation (a workstation update, arrivals, departures).
    types: list[str] = Field(default_factory=list)


class EpciShare(Contract):
    """What the version asks an EPCI (its part of the reste à charge)."""

    siren: str
    name: str
    amount: Money
    previous: Money
    change: Money
    voted: Money | None = None  # what its council voted for the year, if it did
    exceeds_voted: bool = False  # asked more than voted: a new deliberation is needed


class FinancingSummary(Contract):
    status: str  # `balanced`, `over_funded` or `awaiting_programme`
    expenses: Money
    resources: Money
    gap: Money  # resources − expenses (0.00 when balanced)
    grants: Money | None = None
    reste_a_charge: Money | None = None
    investment_rule_holds: bool | None = None  # CGCT L1111-10; None: no investment


class SharesRecalculatedData(Contract):
    year: int
    version: int
    computed_at: datetime
    cause: Cause
    envelope: Money
    allocated: Money  # the envelope, or 0.00 when there is no member to share it with
    epci_contribution: Money
    member_count: int
    changed_centres: int
    epcis: list[EpciShare]
    financing: FinancingSummary


class CentreShareChangedData(Contract):
    year: int
    version: int
    centre_id: UUID
    centre_name: str
    epci_siren: str
    member: bool  # false: the centre left the shares in this version (amount 0.00)
    amount: Money
    previous: Money
    change: Money
    cause: Cause


class ClassDotation(Contract):
    """What each member of a class (the members with ``workstations``) is allotted: ``base``,
    one cent more for those whose id is at or before ``extra_through`` (``None``: nobody of
    the class), ids compared as their lowercase text."""

    workstations: int
    base: Money
    extra_through: UUID | None = None

    def cents_for(self, centre_id: UUID) -> int:
        """The dotation of the member ``centre_id`` of this class, in cents."""
        extra = self.extra_through is not None and str(centre_id) <= str(self.extra_through)
        return cents_from_amount(self.base) + extra


class ChangedCentre(Contract):
    """A centre whose facts changed in the version: it joined (``member``, ``previous``
    0.00), left (not ``member``), has other ``workstations`` or another name."""

    centre_id: UUID
    centre_name: str
    epci_siren: str
    workstations: int
    member: bool
    #: Its dotation in the version before (0.00 for a centre that joins).
    previous: Money
    #: The types of the version's causing events about this centre (its approval, its update).
    causes: list[str] = Field(default_factory=list)


class DotationsChangedData(Contract):
    year: int
    version: int
    #: From 1 to ``parts``: a version that changes many centres lists them over several events,
    #: published in order; the classes are the same in each.
    part: int = 1
    parts: int = 1
    #: Why the version exists, as in a :class:`CentreShareChanged` of a centre that no cause is
    #: about: ``types`` tells a workstation update, arrivals, departures.
    cause: Cause
    classes: list[ClassDotation]
    #: The classes of the version before (empty for a year's first version).
    previous_classes: list[ClassDotation]
    changed: list[ChangedCentre]


class ExceededParticipation(Contract):
    siren: str
    name: str
    voted: Money
    asked: Money
    deliberation_number: str
    deliberation_date: date


class ParticipationExceededData(Contract):
    year: int
    version: int
    computed_at: datetime
    epcis: list[ExceededParticipation]


class _BudgetEvent(Event):
    publisher: ClassVar[str] = "budget"


class SharesRecalculated(_BudgetEvent):
    """A new version of a year's shares: totals, each EPCI's amount and change, the financing
    plan's figures, the cause. Keyed by the year."""

    type: Literal["fr.crnt.budget.shares.recalculated.v1"] = "fr.crnt.budget.shares.recalculated.v1"
    data: SharesRecalculatedData


class CentreShareChanged(_BudgetEvent):
    """A centre that a cause of the version is about (its approval, withdrawal, update) has
    another dotation (its share of the year's envelope); every member's is in the version's
    ``dotations.changed``. Keyed by the centre id."""

    type: Literal["fr.crnt.budget.centre.share.changed.v1"] = (
        "fr.crnt.budget.centre.share.changed.v1"
    )
    data: CentreShareChangedData


class DotationsChanged(_BudgetEvent):
    """A version moved the dotations: each class's amount, in this version and the one before,
    and the centres whose facts changed. Every member that ``changed`` does not list (in any
    part) kept its workstations, and gets its class's amount. Keyed by the year, so that a
    year's versions and parts arrive in order."""

    type: Literal["fr.crnt.budget.dotations.changed.v1"] = "fr.crnt.budget.dotations.changed.v1"
    data: DotationsChangedData


class ParticipationExceeded(_BudgetEvent):
    """A version asks one or more EPCIs more than their councils voted: a new deliberation is
    needed. Keyed by the year."""

    type: Literal["fr.crnt.budget.participation.exceeded.v1"] = (
        "fr.crnt.budget.participation.exceeded.v1"
    )
    data: ParticipationExceededData


#: Every contract the budget publishes (for a consumer's catalog and the AsyncAPI document).
BUDGET_EVENTS: tuple[type[Event], ...] = (
    SharesRecalculated,
    DotationsChanged,
    CentreShareChanged,
    ParticipationExceeded,
)
