"""The membership state machine: what each action does to a centre's status, and the rules
about its animators and its EPCI."""

from enum import StrEnum

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before
from crnt_shared.transitions import Transition, next_state
from crnt_shared.vocabularies import MembershipStatus as MembershipStatus

# The stub of opening-hours-py does not declare ParserError.


class MembershipAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


TRANSITIONS: dict[MembershipAction, Transition[MembershipStatus]] = {
    MembershipAction.APPROVE: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.MEMBER, "approved"
    ),
    MembershipAction.REJECT: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.REJECTED, "rejected"
    ),
    MembershipAction.SUSPEND: Transition(
        (MembershipStatus.MEMBER,), MembershipStatus.SUSPENDED, "suspended"
    ),
    MembershipAction.REINSTATE: Transition(
        (MembershipStatus.SUSPENDED,), MembershipStatus.MEMBER, "reinstated"
    ),
    MembershipAction.WITHDRAW: Transition(
        (MembershipStatus.MEMBER, MembershipStatus.SUSPENDED),
        MembershipStatus.WITHDRAWN,
        "withdrawn",
    ),
    # An anonymous application that no address confirmed in time (the registry's own act).
    MembershipAction.EXPIRE: Transition(
        (MembershipStatus.PENDING,), MembershipStatus.EXPIRED, "expired"
    ),
}

#: States in which a centre holds its SIRET/RNA: another application with it is a duplicate.
HOLDS_PIVOT = frozenset(
    {MembershipStatus.PENDING, MembershipStatus.MEMBER, MembershipStatus.SUSPENDED}
)
#: Closed records: their facts and animators no longer change.
CLOSED = frozenset(
    {MembershipStatus.REJECTED, MembershipStatus.WITHDRAWN, MembershipStatus.EXPIRED}
)
#: States in which a centre belongs to the network and must keep an animator to hear from it.
IN_NETWORK = frozenset({MembershipStatus.MEMBER, MembershipStatus.SUSPENDED})


class IllegalTransition(RuleViolation):
    def __init__(self, current: MembershipStatus, action: MembershipAction) -> None:
        super().__init__(
            TRANSITIONS[action].refusal("centre", current),
            current_status=current.value,
            action=action.value,
        )
        self.current = current
        self.action = action


def next_status(current: MembershipStatus, action: MembershipAction) -> MembershipStatus:
    return next_state(TRANSITIONS, current, action, IllegalTransition)


def ensure_approvable(animator_count: int) -> None:
    if animator_count == 0:
        raise RuleViolation(
            "centre has no animator: add one (POST /centres/{id}/animators) before approving,"
            " so that someone hears from the network"
        )


def ensure_open(status: MembershipStatus, what: str) -> None:
    if status in CLOSED:
        raise RuleViolation(
            f"centre is {status.value}; its {what} can no longer change: a new application"
            " starts a new record",
            current_status=status.value,
        )


def ensure_animator_removable(status: MembershipStatus, animator_count: int) -> None:
    if status in IN_NETWORK and animator_count <= 1:
        raise RuleViolation(
            f"centre is {status.value} and this is its last animator: add another one"
            " before removing this one",
            current_status=status.value,
        )


class EpciMismatch(ValueError):
    """A centre whose EPCI cannot be told, or contradicts the EPCIs' commune lists (HTTP 422)."""


def resolve_epci(code_insee: str, declared: str | None, listed: str | None) -> str:
    """The centre's EPCI: the declared one, checked against the EPCI whose communes include
    ``code_insee`` (``listed``), or that one when none is declared."""
    if declared is None:
        if listed is None:
            raise EpciMismatch(
                f"no registered EPCI lists commune {code_insee}: give epci_siren, or add the"
                " commune to its EPCI's communes"
            )
        return listed
    if listed is not None and listed != declared:
        raise EpciMismatch(
            f"commune {code_insee} belongs to EPCI {listed}, not {declared}: fix epci_siren"
            " or code_insee"
        )
    return declared
