"""What the registry's use cases take and give: one frozen command per use case (its handler
is the function of the same name, in snake case, in :mod:`crnt_registry.handlers`), and the
results that are
more than a record."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from crnt_shared.contracts.identity import ActorRef

from crnt_registry.csv_io import Row
from crnt_registry.domain import (
    AGENCY_ACCOUNT,
    AnimatorDraft,
    CentreDraft,
    MembershipAction,
    Submitter,
)
from crnt_registry.repository import Animator, Application, Centre, Epci

#: The most items one request may carry (an import file has its own ceiling: its size).
MAX_ITEMS = 1000


@dataclass(frozen=True)
class ConfirmationPolicy:
    """How long an anonymous application waits for an address to confirm, and how long an
    address that was asked to confirm is not asked again (settings)."""

    expire_after_days: float = 14.0
    resend_after: timedelta = timedelta(hours=24)


@dataclass(frozen=True, kw_only=True)
class Command:
    """A command that a person or a service account gives: ``actor`` names them (a keyword,
    after the command's own fields)."""

    actor: ActorRef | None = None


# EPCIs


@dataclass(frozen=True)
class RegisterEpci:
    epci: Epci


@dataclass(frozen=True)
class UpdateEpci:
    siren: str
    name: str | None = None
    population: int | None = None
    communes: list[str] | None = None


# Applications and membership


@dataclass(frozen=True)
class SubmitApplication:
    centre: CentreDraft
    animators: list[AnimatorDraft]
    channel: str = "form"
    #: Who submits; None is anonymous (the public form), whose addresses must confirm.
    submitter: Submitter | None = None
    policy: ConfirmationPolicy = ConfirmationPolicy()


@dataclass(frozen=True)
class ExpireApplications:
    now: datetime
    policy: ConfirmationPolicy = ConfirmationPolicy()
    batch: int = 100


@dataclass(frozen=True)
class DecideApplication(Command):
    application_id: UUID
    action: MembershipAction
    #: Who decides, as the history names them.
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class ChangeMembership(Command):
    centre_id: UUID
    action: MembershipAction
    by: str
    reason: str


@dataclass(frozen=True)
class ApproveApplications(Command):
    application_ids: list[UUID]
    by: str


# Centres


@dataclass(frozen=True)
class UpdateCentre(Command):
    centre_id: UUID
    changes: dict[str, Any]


@dataclass(frozen=True)
class ImportCentres:
    #: The lines of the file that read as centres (the import uses their number and centre).
    rows: list[Row]
    dry_run: bool = False
    #: The import is the agency's (its route needs the agency): no confirmation.
    submitter: Submitter = AGENCY_ACCOUNT


# Animators


@dataclass(frozen=True)
class AddAnimator(Command):
    centre_id: UUID
    animator: AnimatorDraft


@dataclass(frozen=True)
class AnimatorCommand(Command):
    """A command about one animator of a centre."""

    centre_id: UUID
    animator_id: UUID


@dataclass(frozen=True)
class UpdateAnimator(AnimatorCommand):
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RemoveAnimator(AnimatorCommand):
    """The animator leaves the centre (their record stays, as the history names them)."""


@dataclass(frozen=True)
class EraseAnimator(AnimatorCommand):
    """The animator's personal data are erased (the right to erasure)."""


@dataclass(frozen=True)
class NewAnimator:
    centre_id: UUID
    animator: AnimatorDraft


@dataclass(frozen=True)
class AddAnimators(Command):
    animators: Sequence[NewAnimator]


# Results


@dataclass(frozen=True)
class Submitted:
    application: Application
    centre: Centre
    animators: list[Animator] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    imported: list[tuple[int, Submitted]]
    errors: list[tuple[int, str]]


@dataclass(frozen=True)
class Erased:
    animator_id: UUID
    centre_id: UUID
    #: False when the animator had been erased already (nothing was published again).
    now: bool
