"""What the budget publishes on ``crnt.budget.events``.

Each recalculation of a year's shares (a new, immutable version) publishes:

* one :class:`SharesRecalculated` summary, keyed by the year: totals, each EPCI's amount and
  change, counts, the financing plan's figures and the cause (its first
  :data:`MAX_CAUSE_EVENTS` events and their count);
* one :class:`CentreShareChanged` per centre whose dotation changed (joined, left, or
  re-weighted), keyed by the centre id;
* one :class:`ParticipationExceeded`, keyed by the year, when the version asks an EPCI more
  than its council voted (or more than the last version that asked it too much): a new
  deliberation is needed.

The EPCIs' ``epci_contribution`` is the plan's reste à charge (expenses − grants), computed,
never typed in: what each EPCI owes is its part by the year's key.

Why two kinds: at 50,000 members one recalculation changes 50,000 shares; a single event
listing them would weigh megabytes, beyond Kafka's default 1 MB message limit, and every
consumer would have to read all of them to find one centre. The summary stays bounded (a few
kilobytes: the EPCIs of a territory are a few dozens, the causes are capped), and the per-centre
events let a consumer (notifications: "your centre's share") work per centre, in order per centre.
The full list of a version stays available at ``GET /api/v1/budgets/{year}/versions/{n}``.

Money is a decimal string of euros with two decimals ("1234.56"), never a float.
"""

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.events import Contract, Event

#: Euros as a decimal string with two decimals, e.g. ``"1234.56"`` (may be negative for changes).
Money = str

#: How many causing events a summary lists; ``cause.event_count`` gives the total.
MAX_CAUSE_EVENTS = 20


class CausingEvent(Contract):
    id: UUID
    type: str


class Cause(Contract):
    """Why a version exists: events handled (a batch of them), or a manual change.

    ``events`` is bounded: in a summary, the first :data:`MAX_CAUSE_EVENTS`; in a
    :class:`CentreShareChanged`, only the causing events about that centre (its approval, its
    update), often none when the centre's share moved because others joined or left.
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
    """A centre's dotation (its share of the year's envelope) changed in a new version (it
    joined, left, or the weights moved). Keyed by the centre id."""

    type: Literal["fr.crnt.budget.centre.share.changed.v1"] = (
        "fr.crnt.budget.centre.share.changed.v1"
    )
    data: CentreShareChangedData


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
    CentreShareChanged,
    ParticipationExceeded,
)
