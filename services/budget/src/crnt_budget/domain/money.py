"""Money and rounding: cents inside, decimal strings outside, and the largest-remainder
allocation.

Money is an ``int`` of cents everywhere inside; it crosses the boundary as a decimal string
("1234.56"), never a float.

**Largest-remainder allocation** (:func:`allocate`). Each party's exact quota is
``total × weight / Σ weights`` (a rational number of cents). Every party first gets the integer
part of its quota; the cents left over (fewer than the number of parties) go one each to the
parties with the largest fractional remainders. Tie-break, so that the result never depends on
the order in which parties are given: the larger remainder first, then the smaller id (plain
string order of the id: a centre's UUID in its canonical lowercase form, an EPCI's SIREN). The
shares add up to the total exactly, each is within one cent of its quota, equal weights give
shares that differ by at most one cent. When every weight is zero the total is split equally:
nobody is left out because of a missing figure.
"""

import re
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from crnt_shared.money import amount_from_cents

MAX_CENTS = 100_000_000_000_000  # one trillion euros: beyond any public budget
_AMOUNT = re.compile(r"^(\d{1,15})(?:\.(\d{1,2}))?$")
_RATIO = re.compile(r"^(\d{1,3})(?:\.(\d{1,12}))?$")


class InvalidAmount(ValueError):
    """A sentence a person can act on."""


def parse_cents(text: str) -> int:
    """``"1234.5"`` → ``123450``; refuses negatives, more than 2 decimals and non-numbers."""
    value = text.strip()
    if value.startswith("-"):
        raise InvalidAmount(f"{text!r} is negative: amounts are zero or more")
    match = _AMOUNT.match(value)
    if match is None:
        if re.match(r"^\d+\.\d{3,}$", value):
            raise InvalidAmount(
                f'{text!r} has more than 2 decimals: amounts are in euros and cents, e.g. "1234.56"'
            )
        raise InvalidAmount(
            f'{text!r} is not an amount: write euros with at most 2 decimals, e.g. "1234.56"'
        )
    euros, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    total = int(euros) * 100 + int(cents)
    if total > MAX_CENTS:
        raise InvalidAmount(f"{text!r} is too large")
    return total


#: The JSON face of cents (``123450`` → ``"1234.50"``).
format_cents = amount_from_cents


def parse_ratio(text: str) -> Fraction:
    """A decimal string in [0, 1], e.g. ``"0.5"``, as an exact fraction."""
    value = text.strip()
    if value.startswith("-") or _RATIO.match(value) is None:
        raise InvalidAmount(f'{text!r} is not a ratio: write a decimal between 0 and 1, e.g. "0.5"')
    ratio = Fraction(Decimal(value))
    if ratio > 1:
        raise InvalidAmount(f"{text!r} is greater than 1: a ratio is between 0 and 1")
    return ratio


def format_optional_cents(cents: int | None) -> str | None:
    return None if cents is None else format_cents(cents)


def format_ratio(ratio: Fraction) -> str:
    """The exact decimal of a ratio that came from a decimal string."""
    text = format(Decimal(ratio.numerator) / Decimal(ratio.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def allocate(total: int, weights: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Split ``total`` cents among parties in proportion to integer weights (largest remainder).

    Returns ``{}`` when there is nobody to share with (the total stays unallocated).
    """
    if total < 0:
        raise ValueError("the total to share is negative")
    parties = sorted(weights)
    if len({key for key, _ in parties}) != len(parties):
        raise ValueError("a party appears twice")
    if any(weight < 0 for _, weight in parties):
        raise ValueError("a weight is negative")
    if not parties:
        return {}
    denominator = sum(weight for _, weight in parties)
    if denominator == 0:
        parties = [(key, 1) for key, _ in parties]
        denominator = len(parties)
    shares: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for key, weight in parties:
        shares[key], remainder = divmod(total * weight, denominator)
        remainders.append((-remainder, key))
    left = total - sum(shares.values())
    remainders.sort()
    for _, key in remainders[:left]:
        shares[key] += 1
    return shares
