"""Money: integer cents inside, decimal strings in JSON, French for people."""

import pytest
from crnt_shared.money import (
    NBSP,
    Money,
    amount_from_cents,
    cents_from_amount,
    euros,
    group_thousands,
    signed_euros,
)


@pytest.mark.parametrize(
    ("cents", "amount", "french"),
    [
        (0, "0.00", "0,00\u00a0€"),
        (5, "0.05", "0,05\u00a0€"),
        (-5, "-0.05", "\u22120,05\u00a0€"),
        (123456, "1234.56", "1\u202f234,56\u00a0€"),
        (100000000, "1000000.00", "1\u202f000\u202f000,00\u00a0€"),
    ],
)
def test_an_amount_has_one_json_face_and_one_french_face(
    cents: int, amount: str, french: str
) -> None:
    money = Money(cents)
    assert money.amount == amount_from_cents(cents) == amount
    assert Money.parse(amount) == money
    assert money.french() == euros(cents) == french


def test_the_pdf_groups_thousands_with_a_no_break_space() -> None:
    assert euros(123456789, thousands=NBSP) == "1\u00a0234\u00a0567,89\u00a0€"
    assert group_thousands("123") == "123"
    assert group_thousands("1234") == "1\u202f234"


def test_a_change_says_its_sign() -> None:
    assert signed_euros(150) == "+1,50\u00a0€"
    assert signed_euros(-150) == "\u22121,50\u00a0€"
    assert signed_euros(0) == "0,00\u00a0€"


@pytest.mark.parametrize("bad", ["1.005", "abc", "NaN", "Infinity"])
def test_what_is_not_a_whole_number_of_cents_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not"):
        cents_from_amount(bad)
