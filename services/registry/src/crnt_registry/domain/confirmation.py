"""Anonymous applications: whose addresses must confirm, and how long an application waits."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before

# The stub of opening-hours-py does not declare ParserError.

# No open relay: whose applications hold their mail until the addresses named confirm.


class Submitter(Protocol):
    """Who submits an application: the shape of ``crnt_shared.auth``'s ``Actor``."""

    @property
    def kind(self) -> str: ...

    @property
    def roles(self) -> Collection[str]: ...

    @property
    def centres(self) -> Collection[Any]: ...


@dataclass(frozen=True)
class ServiceAccount:
    """A static token's account (the agency's, for the CLI and automation)."""

    name: str
    roles: tuple[str, ...]
    kind: str = "service"
    centres: tuple[Any, ...] = ()


AGENCY_ACCOUNT = ServiceAccount("agency", ("agency",))


def needs_confirmation(submitter: Submitter | None) -> bool:
    """The one place that says whose applications must wait for their addresses to confirm:
    everyone's (``None``: anonymous) but the agency's (its staff or its service account) and
    an animator's of a member centre (a signed-in person whose token lists the member centres
    they animate)."""
    if submitter is None:
        return True
    roles = set(submitter.roles)
    if "agency" in roles:
        return False
    return not (submitter.kind == "person" and "animator" in roles and len(submitter.centres) > 0)


class Confirmation(StrEnum):
    """Where an application stands with its addresses."""

    NOT_REQUIRED = "not_required"  # entered by someone trusted: its addresses are confirmed
    AWAITING = "awaiting"  # anonymous, and no address has confirmed yet
    CONFIRMED = "confirmed"  # at least one address confirmed: someone is behind it


def expires_at(submitted_at: datetime, days: float) -> datetime:
    """When an anonymous application that no address confirms expires."""
    return submitted_at + timedelta(days=days)


def accepts_confirmation(application_status: str) -> bool:
    """An address may confirm until its application expired (a decision taken meanwhile does
    not stop it: the agency may approve before the animator clicks)."""
    return application_status != "expired"


def after_confirmation(current: Confirmation) -> tuple[Confirmation, bool]:
    """The application's confirmation once one more address confirmed, and whether that
    address is its first (the agency hears about the application then)."""
    if current is Confirmation.AWAITING:
        return Confirmation.CONFIRMED, True
    return current, False


def expiry_reason(days: float) -> str:
    """The history's and the event's reason, in the users' language."""
    shown = f"{days:g}".replace(".", ",")
    unit = "jour" if days <= 1 else "jours"
    return f"Aucune adresse de la demande n'a été confirmée dans le délai de {shown} {unit}."
