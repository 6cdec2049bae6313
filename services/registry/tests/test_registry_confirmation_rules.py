"""The rules of the confirmation of anonymous applications' addresses, without I/O."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from crnt_registry.domain import (
    AGENCY_ACCOUNT,
    CLOSED,
    Confirmation,
    MembershipAction,
    MembershipStatus,
    ServiceAccount,
    accepts_confirmation,
    after_confirmation,
    ensure_open,
    expires_at,
    expiry_reason,
    needs_confirmation,
    next_status,
)
from crnt_shared.errors import RuleViolation


@dataclass(frozen=True)
class Person:
    """The shape of crnt_shared.auth's Actor for a signed-in person."""

    roles: tuple[str, ...]
    centres: tuple[str, ...] = ()
    kind: str = "person"
    id: str = field(default_factory=lambda: str(uuid4()))


@pytest.mark.parametrize(
    ("submitter", "needed"),
    [
        (None, True),  # anonymous: the public form
        (AGENCY_ACCOUNT, False),  # the agency's token, the CSV import
        (Person(("agency",)), False),  # agency staff
        (Person(("animator",), (str(uuid4()),)), False),  # an animator of a member centre
        (Person(("animator",)), True),  # an animator of no member centre
        (Person(("copil",)), True),  # the steering committee does not vouch for addresses
        (ServiceAccount("copil", ("copil",)), True),
        (ServiceAccount("robot", ("animator",), centres=(str(uuid4()),)), True),  # not a person
    ],
)
def test_who_needs_confirmation(submitter: object, needed: bool) -> None:
    assert needs_confirmation(submitter) is needed  # type: ignore[arg-type]


def test_the_first_confirmed_address_confirms_the_application_once() -> None:
    assert after_confirmation(Confirmation.AWAITING) == (Confirmation.CONFIRMED, True)
    assert after_confirmation(Confirmation.CONFIRMED) == (Confirmation.CONFIRMED, False)
    assert after_confirmation(Confirmation.NOT_REQUIRED) == (Confirmation.NOT_REQUIRED, False)


@pytest.mark.parametrize(
    ("status", "accepted"),
    [("pending", True), ("approved", True), ("rejected", True), ("expired", False)],
)
def test_an_address_confirms_until_its_application_expired(status: str, accepted: bool) -> None:
    assert accepts_confirmation(status) is accepted


def test_expiry_is_the_configured_days_after_submission() -> None:
    submitted = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert expires_at(submitted, 14) == submitted + timedelta(days=14)
    assert expires_at(submitted, 0.5) == submitted + timedelta(hours=12)


@pytest.mark.parametrize(
    ("days", "sentence"),
    [
        (14, "Aucune adresse de la demande n'a été confirmée dans le délai de 14 jours."),
        (1, "Aucune adresse de la demande n'a été confirmée dans le délai de 1 jour."),
        (0.5, "Aucune adresse de la demande n'a été confirmée dans le délai de 0,5 jour."),
    ],
)
def test_the_expiry_reason_is_french(days: float, sentence: str) -> None:
    assert expiry_reason(days) == sentence


def test_an_expired_centre_is_closed_and_cannot_be_decided() -> None:
    assert (
        next_status(MembershipStatus.PENDING, MembershipAction.EXPIRE) is MembershipStatus.EXPIRED
    )
    assert MembershipStatus.EXPIRED in CLOSED
    with pytest.raises(RuleViolation, match="centre is expired"):
        next_status(MembershipStatus.EXPIRED, MembershipAction.APPROVE)
    with pytest.raises(RuleViolation, match="can no longer change"):
        ensure_open(MembershipStatus.EXPIRED, "facts")


def test_the_registry_includes_the_shared_rate_limits_table() -> None:
    from importlib.resources import files

    from crnt_shared.ratelimit import RATE_LIMITS_SQL

    migration = files("crnt_registry") / "migrations" / "0003_rate_limits.sql"
    assert migration.read_text(encoding="utf-8") == RATE_LIMITS_SQL
