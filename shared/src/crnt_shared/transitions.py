"""A state machine written as a table: for each command, the states it may start from, the state
it leads to and the participle that names it in a refusal ("it can be submitted only when draft
or amending"). The programme of a year and a centre's membership are two such machines; each
service keeps its table and the refusal it raises."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from crnt_shared.errors import RuleViolation

S = TypeVar("S", bound=StrEnum)
C = TypeVar("C", bound=StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S]):
    allowed_from: tuple[S, ...]
    to: S
    participle: str

    def refusal(self, subject: str, current: S) -> str:
        """Why the move is refused from ``current``, e.g. "centre is withdrawn; it can be
        reinstated only when suspended" (``subject`` is "centre")."""
        allowed = " or ".join(state.value for state in self.allowed_from)
        return f"{subject} is {current.value}; it can be {self.participle} only when {allowed}"


def next_state(
    transitions: Mapping[C, Transition[S]],
    current: S,
    command: C,
    refused: Callable[[S, C], RuleViolation],
) -> S:
    """The state ``command`` leads to from ``current``; ``refused(current, command)`` is raised
    where the table does not allow the command from there."""
    transition = transitions[command]
    if current not in transition.allowed_from:
        raise refused(current, command)
    return transition.to
