"""The centres as the programme knows them (from the registry's events): only members lead or
take part, and a centre that leaves the network leaves its open actions."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from crnt_shared.errors import RuleViolation

from crnt_programme.domain.actions import Action
from crnt_programme.domain.vocabulary import InvalidAction


class Membership(StrEnum):
    """What the programme knows of a centre's membership (from the registry's events)."""

    PENDING = "pending"
    MEMBER = "member"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


LEAVING = ("suspended", "withdrawn")


@dataclass(frozen=True)
class Centre:
    id: UUID
    name: str
    status: str


def check_centres(centres: Sequence[UUID], known: Mapping[UUID, Centre]) -> None:
    """Every centre must be a member: unknown ones are bad input, others a conflict."""
    unknown = [str(centre) for centre in centres if centre not in known]
    if unknown:
        raise InvalidAction(
            f"unknown centre {', '.join(unknown)}: only member centres of the network may lead"
            " or take part in an action (see GET /api/v1/centres)",
            "centres",
        )
    outside = [known[centre] for centre in centres if known[centre].status != Membership.MEMBER]
    if outside:
        listed = ", ".join(f"{centre.name} ({centre.status})" for centre in outside)
        raise RuleViolation(
            f"Only member centres may lead or take part in an action, and these are not: {listed}",
            centres=", ".join(str(centre.id) for centre in outside),
        )


@dataclass(frozen=True)
class Departure:
    """An action after a centre left it."""

    action: Action
    lost_lead: bool


def leave(action: Action, centre_id: UUID) -> Departure | None:
    """The action without ``centre_id``; ``None`` when the centre does not take part or the
    action is done or cancelled (its history is kept as it was)."""
    if not action.open or centre_id not in action.centre_ids:
        return None
    if action.lead_centre_id == centre_id:
        return Departure(replace(action, lead_centre_id=None, needs_lead=True), lost_lead=True)
    remaining = tuple(centre for centre in action.participant_ids if centre != centre_id)
    return Departure(replace(action, participant_ids=remaining), lost_lead=False)
