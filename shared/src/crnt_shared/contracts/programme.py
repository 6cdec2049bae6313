"""What the programme service publishes on ``crnt.programme.events``.

Kafka keys (the event's ``subject``), so that the events of one aggregate keep their order:

- **action events** (proposed, updated, status changed, lead missing): the action id. An action
  is edited, progresses and loses its lead independently of the others; keying by action spreads
  them over partitions and keeps each action's history in order.
- **programme events** (validated): the programme year as a string (``"2025"``). A programme's
  versions are therefore in order among themselves. An action event and the validation that
  includes it may be on different partitions: a consumer that needs the programme as the COPIL
  validated it reads the complete list of actions carried by :class:`ProgrammeValidated`.

Money is in euros as decimal strings with two decimals (``"1234.56"``), never floats; the
service counts integer cents inside (:mod:`crnt_shared.money`).

Axes, action statuses and roles are plain strings in these contracts, so that a consumer is not
broken by a value added later; the values known today are :data:`AXES` and
:data:`ACTION_STATUSES`.
"""

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from crnt_shared.contracts.identity import Actor, ActorRef
from crnt_shared.events import Contract, Event
from crnt_shared.money import Amount

#: The five axes of the 2015 deliberation, in its order: communication, common workshops,
#: events, animator training, shared equipment.
AXES: tuple[str, ...] = ("communication", "ateliers", "evenements", "formation", "materiel_partage")

#: ``proposed → planned → in_progress → done``; ``cancelled`` from any state but ``done``.
ACTION_STATUSES: tuple[str, ...] = ("proposed", "planned", "in_progress", "done", "cancelled")

#: An action's nature in the financing plan: an operating cost or an investment.
NATURES: tuple[str, ...] = ("fonctionnement", "investissement")


#: An action's nature as its events give it: absent, it goes by the axis.
ActionNature = Annotated[
    str | None, Field(description=f"One of {', '.join(NATURES)}; absent: by its axis.")
]


def default_nature(axis: str) -> str:
    """Shared equipment is an investment; every other axis is an operating cost."""
    return "investissement" if axis == "materiel_partage" else "fonctionnement"


class Indicators(Contract):
    """What an action achieved, as its progress reports tell it."""

    sessions: int = Field(default=0, ge=0, description="Sessions (séances) held.")
    people_reached: int = Field(default=0, ge=0, description="People reached.")
    hours: str = Field(default="0", description="Hours of activity, a decimal string.")


class Participant(Contract):
    """A centre taking part in an action; ``lead`` marks the one that leads it."""

    centre_id: UUID
    centre_name: str
    lead: bool = False


class ActionFacts(Contract):
    """An action of the work programme as it stands after the change the event reports."""

    id: UUID
    year: int = Field(description="The year of the programme the action belongs to.")
    axis: str = Field(description=f"One of {', '.join(AXES)}.")
    title: str
    description: str
    status: str = Field(description=f"One of {', '.join(ACTION_STATUSES)}.")
    lead_centre_id: UUID | None = Field(
        description="The centre that leads the action; null while it needs a new lead."
    )
    needs_lead: bool = Field(description="True when the lead left and none was named since.")
    participants: list[Participant] = Field(
        description="Every centre taking part, the lead included (``lead: true``)."
    )
    starts_on: date
    ends_on: date
    estimated_cost: Amount
    actual_cost: Amount | None = None
    progress: int = Field(ge=0, le=100, description="État d'avancement, in percent.")
    progress_note: str | None = None
    nature: ActionNature = None
    indicators: Indicators | None = None

    @property
    def participant_centre_ids(self) -> list[UUID]:
        return [participant.centre_id for participant in self.participants]


class ActionProposedData(Contract):
    action: ActionFacts
    by: str = Field(description="Who made the change: a display name, or `agency`.")
    at: datetime
    actor: Actor = None


class ActionUpdatedData(Contract):
    action: ActionFacts
    changed: list[str] = Field(description="The names of the fields that changed.")
    added_participants: list[Participant] = Field(default_factory=list)
    removed_participants: list[Participant] = Field(
        default_factory=list,
        description="Centres that no longer take part (removed, or left the network).",
    )
    reason: str | None = None
    by: str
    at: datetime
    actor: Actor = None


class ActionStatusChangedData(Contract):
    action: ActionFacts
    previous_status: str
    status: str
    reason: str | None = None
    by: str
    at: datetime
    actor: Actor = None


class ActionLeadMissingData(Contract):
    """The lead centre left the network (suspended or withdrawn): the agency must name a new
    lead. ``action`` already shows the action without it."""

    action: ActionFacts
    previous_lead: Participant
    membership_status: str = Field(description="What became of the centre: `withdrawn`, ...")
    at: datetime


class ValidatedAction(Contract):
    id: UUID
    axis: str
    title: str
    status: str
    lead_centre_id: UUID | None
    needs_lead: bool
    participants: list[Participant]
    starts_on: date
    ends_on: date
    estimated_cost: Amount
    nature: ActionNature = None
    actual_cost: Amount | None = None


class ProgrammeValidatedData(Contract):
    """One immutable version of a year's programme, as the deciding body validated it.

    ``totals_by_axis`` has every axis of :data:`AXES` (``"0.00"`` when it has no action) and
    sums the estimated costs of the actions that are not cancelled; ``total`` is their sum.
    ``actions`` lists every action of the programme, cancelled ones included (with their
    status), so that a consumer can tell what was dropped.
    """

    year: int
    version: int = Field(ge=1, description="1 for the first validation, +1 for each amendment.")
    validated_at: datetime
    decided_on: date = Field(description="The date of the deciding body's meeting.")
    deciding_body: str = Field(examples=["Comité de pilotage"])
    decision_reference: str | None = None
    validated_by: ActorRef | None = Field(
        default=None, description="Who recorded the decision: a COPIL member, or a service account."
    )
    totals_by_axis: dict[str, Amount]
    total: Amount
    actions: list[ValidatedAction]


class _ProgrammeEvent(Event):
    publisher: ClassVar[str] = "programme"


class ActionProposed(_ProgrammeEvent):
    """An action was added to a year's programme (key: action id)."""

    type: Literal["fr.crnt.programme.action.proposed.v1"] = "fr.crnt.programme.action.proposed.v1"
    data: ActionProposedData


class ActionUpdated(_ProgrammeEvent):
    """An action's content, centres or progress changed (key: action id)."""

    type: Literal["fr.crnt.programme.action.updated.v1"] = "fr.crnt.programme.action.updated.v1"
    data: ActionUpdatedData


class ActionStatusChanged(_ProgrammeEvent):
    """An action moved along proposed → planned → in_progress → done, or was cancelled
    (key: action id)."""

    type: Literal["fr.crnt.programme.action.status_changed.v1"] = (
        "fr.crnt.programme.action.status_changed.v1"
    )
    data: ActionStatusChangedData


class ActionLeadMissing(_ProgrammeEvent):
    """An action lost its lead centre; the agency must name another (key: action id)."""

    type: Literal["fr.crnt.programme.action.lead_missing.v1"] = (
        "fr.crnt.programme.action.lead_missing.v1"
    )
    data: ActionLeadMissingData


class ProgrammeValidated(_ProgrammeEvent):
    """A year's programme was validated by the steering committee (key: the year)."""

    type: Literal["fr.crnt.programme.programme.validated.v1"] = (
        "fr.crnt.programme.programme.validated.v1"
    )
    data: ProgrammeValidatedData


#: Every contract the programme publishes (for a consumer's catalog and the AsyncAPI document).
PROGRAMME_EVENTS: tuple[type[Event], ...] = (
    ActionProposed,
    ActionUpdated,
    ActionStatusChanged,
    ActionLeadMissing,
    ProgrammeValidated,
)
