"""French formats: amounts with a narrow no-break space between thousands, dates in words."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from crnt_notifications.formatting import euros, signed_euros
from crnt_shared.dates import french_date, french_datetime
from crnt_shared.money import cents_from_amount

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (0, f"0,00{NBSP}€"),
        (5, f"0,05{NBSP}€"),
        (99_999, f"999,99{NBSP}€"),
        (123_456, f"1{NNBSP}234,56{NBSP}€"),
        (123_456_789, f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (-123_456, f"\u22121{NNBSP}234,56{NBSP}€"),
    ],
)
def test_amounts_in_french(cents: int, expected: str) -> None:
    assert euros(cents) == expected


def test_amount_never_contains_a_breakable_space() -> None:
    assert " " not in euros(1_234_567_890)


def test_changes_are_signed() -> None:
    assert signed_euros(1_050) == f"+10,50{NBSP}€"
    assert signed_euros(-1_050) == f"\u221210,50{NBSP}€"
    assert signed_euros(0) == f"0,00{NBSP}€"


@pytest.mark.parametrize(
    ("amount", "cents"), [("1234.56", 123_456), ("-0.50", -50), ("12", 1_200), ("0.00", 0)]
)
def test_decimal_strings_become_cents(amount: str, cents: int) -> None:
    assert cents_from_amount(amount) == cents
    assert cents_from_amount(Decimal(amount)) == cents


def test_fractions_of_a_cent_are_refused() -> None:
    with pytest.raises(ValueError, match="cents"):
        cents_from_amount("1.005")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 24), "24 novembre 2026"),
        (date(2026, 12, 1), "1er décembre 2026"),
        (date(2027, 2, 3), "3 février 2027"),
        (date(2026, 8, 15), "15 août 2026"),
    ],
)
def test_dates_in_french(day: date, expected: str) -> None:
    assert french_date(day) == expected


def test_datetimes_in_paris_time() -> None:
    # 23:30 UTC on 30 November is 00:30 on 1 December in Paris (winter time, UTC+1).
    assert (
        french_datetime(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "1er décembre 2026 à 0 h 30"
    )
    # Summer time: UTC+2.
    assert french_datetime(datetime(2026, 7, 14, 8, 5, tzinfo=UTC)) == "14 juillet 2026 à 10 h 05"
