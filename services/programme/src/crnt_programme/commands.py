"""What the programme's use cases take: one frozen command per use case (its handler is the
function of the same name, in snake case, in :mod:`crnt_programme.handlers`; the events it
reads are the registry's contracts)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from crnt_shared.contracts.identity import ActorRef

from crnt_programme.domain import ActionStatus, Axis, Indicators, Nature


@dataclass(frozen=True, kw_only=True)
class Command:
    """Who gives a command: ``by`` as the history names them, ``actor`` the person or the
    service account (keywords, after the command's own fields)."""

    by: str
    actor: ActorRef | None = None


# Actions


@dataclass(frozen=True)
class ProposeAction(Command):
    year: int
    axis: Axis
    title: str
    description: str
    lead_centre_id: UUID
    participant_ids: tuple[UUID, ...]
    starts_on: date
    ends_on: date
    estimated_cost_cents: int
    nature: Nature | None = None


@dataclass(frozen=True)
class EditAction(Command):
    action_id: UUID
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class ChangeActionStatus(Command):
    action_id: UUID
    status: ActionStatus
    reason: str | None


@dataclass(frozen=True)
class ReportProgress(Command):
    action_id: UUID
    progress: int | None
    note: str | None
    actual_cost_cents: int | None
    indicators: Indicators | None = None


# The programme


@dataclass(frozen=True)
class SubmitProgramme(Command):
    year: int


@dataclass(frozen=True)
class ValidateProgramme(Command):
    year: int
    deciding_body: str
    decided_on: date | None
    decision_reference: str | None


@dataclass(frozen=True)
class AmendProgramme(Command):
    year: int
