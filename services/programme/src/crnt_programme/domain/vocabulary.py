"""The words of the programme: its axes and the nature of an action in the financing plan,
what an action achieved (indicators), and the error of an input no state could accept."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from crnt_shared.contracts.programme import AXES
from crnt_shared.errors import Invalid, sentence


class Axis(StrEnum):
    COMMUNICATION = "communication"
    ATELIERS = "ateliers"
    EVENEMENTS = "evenements"
    FORMATION = "formation"
    MATERIEL_PARTAGE = "materiel_partage"


assert tuple(axis.value for axis in Axis) == AXES

AXIS_LABELS: Mapping[Axis, str] = {
    Axis.COMMUNICATION: "Communication",
    Axis.ATELIERS: "Ateliers communs",
    Axis.EVENEMENTS: "Évènements",
    Axis.FORMATION: "Formation des animateurs",
    Axis.MATERIEL_PARTAGE: "Acquisition de matériel partagé",
}


class Nature(StrEnum):
    """What an action is in the financing plan."""

    FONCTIONNEMENT = "fonctionnement"
    INVESTISSEMENT = "investissement"


def default_nature(axis: "Axis") -> Nature:
    """Shared equipment is an investment; every other axis an operating cost."""
    return Nature.INVESTISSEMENT if axis is Axis.MATERIEL_PARTAGE else Nature.FONCTIONNEMENT


@dataclass(frozen=True)
class Indicators:
    """What an action achieved so far, as its progress reports give it (totals, not
    increments): sessions held, people reached, hours of activity in tenths."""

    sessions: int = 0
    people_reached: int = 0
    hours_tenths: int = 0

    def __add__(self, other: "Indicators") -> "Indicators":
        return Indicators(
            self.sessions + other.sessions,
            self.people_reached + other.people_reached,
            self.hours_tenths + other.hours_tenths,
        )


def format_hours(tenths: int) -> str:
    """``125`` → ``"12.5"``; ``120`` → ``"12"``."""
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


class InvalidAction(Invalid):
    """Input that no state could accept, e.g. an end before the start (HTTP 422), naming its
    field. Its message is a phrase; its detail, the sentence."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, errors=[{"field": field, "message": message}])
        self.field = field

    @property
    def detail(self) -> str:
        return sentence(str(self))
