"""The closed sets the services accept, as choices the shell can complete.

The CLI keeps its own copy of these values (it only speaks HTTP to the services); a unit test
compares each with the service's own enumeration, so that a new status or kind cannot be missed.
"""

from enum import StrEnum
from typing import Any

import typer


class CentreStatus(StrEnum):
    PENDING = "pending"
    MEMBER = "member"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class DeliveryKind(StrEnum):
    ADDRESS_CONFIRMATION = "address_confirmation"
    APPLICATION_RECEIVED = "application_received"
    APPLICATION_ACKNOWLEDGED = "application_acknowledged"
    MEMBERSHIP_WELCOME = "membership_welcome"
    MEMBERSHIP_REJECTED = "membership_rejected"
    MEMBERSHIP_SUSPENDED = "membership_suspended"
    MEMBERSHIP_REINSTATED = "membership_reinstated"
    MEMBERSHIP_WITHDRAWN = "membership_withdrawn"
    AGENCY_MEMBERSHIP_CHANGED = "agency_membership_changed"
    AGENCY_TEAM_CHANGED = "agency_team_changed"
    NEW_MEMBERS = "new_members"
    SHARE_CHANGED = "share_changed"
    PROGRAMME_VALIDATED = "programme_validated"
    ACTION_STATUS_CHANGED = "action_status_changed"
    PARTICIPATION_EXCEEDED = "participation_exceeded"


class CentreWeight(StrEnum):
    WORKSTATIONS = "workstations"
    NONE = "none"


class EpciKey(StrEnum):
    POPULATION = "population"
    MEMBER_CENTRES = "member_centres"
    FIXED_SHARES = "fixed_shares"


class AnnexFormat(StrEnum):
    PDF = "pdf"
    ODS = "ods"
    XLSX = "xlsx"


class ReportFormat(StrEnum):
    PDF = "pdf"
    ODS = "ods"


def choice(values: type[StrEnum], help: str, metavar: str | None = None) -> dict[str, Any]:
    """``typer.Option(**choice(Enum, help))``: the values in the help, completed by the shell
    (``crnt --install-completion``), and a one-sentence refusal that lists them. A long list
    goes into the help, after a short ``metavar``."""
    names = [value.value for value in values]
    if metavar is not None:
        help = f"{help}: {', '.join(names)}"

    def parse(value: str) -> str:
        if value in names:
            return value
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}.")

    def complete(incomplete: str) -> list[str]:
        return [name for name in names if name.startswith(incomplete)]

    return {
        "parser": parse,
        "autocompletion": complete,
        "metavar": metavar or "|".join(names),
        "help": help,
    }
