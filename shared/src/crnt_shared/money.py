"""Money, one way everywhere: integer cents inside, a decimal string of euros in JSON
(``"1234.56"``, never a float), French for people (``1 234,56 €``).

French typography of the Imprimerie nationale, as CLDR ``fr`` does: a narrow no-break space
(U+202F) between thousands, a no-break space (U+00A0) before the euro sign, and a real minus sign
(U+2212) for decreases, so that an amount never breaks across two lines. The PDF documents group
thousands with a no-break space instead (``thousands=NBSP``): their font has no U+202F.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import Field

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"
MINUS = "\u2212"

#: Euros with exactly two decimals in a contract, e.g. ``"1234.56"``.
Amount = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1234.56"])]


def amount_from_cents(cents: int) -> str:
    """``123456`` → ``"1234.56"``; ``-5`` → ``"-0.05"``."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def cents_from_amount(amount: str | Decimal) -> int:
    """``"1234.56"`` → ``123456``; refuses what is not a whole number of cents."""
    try:
        value = Decimal(amount) * 100
    except InvalidOperation as error:
        raise ValueError(f"{amount!r} is not an amount in euros") from error
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"{amount!r} is not a whole number of cents")
    return int(value)


def group_thousands(digits: str, separator: str = NARROW_NBSP) -> str:
    """``"1234567"`` → ``"1 234 567"``."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def euros(cents: int, *, thousands: str = NARROW_NBSP) -> str:
    """``123456`` → ``1 234,56 €``; ``-5`` → ``−0,05 €``."""
    sign = MINUS if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{group_thousands(str(whole), thousands)},{fraction:02d}{NBSP}€"


def signed_euros(cents: int, *, thousands: str = NARROW_NBSP) -> str:
    """A change: ``+1 234,56 €``, ``−12,00 €`` or ``0,00 €``."""
    shown = euros(cents, thousands=thousands)
    return f"+{shown}" if cents > 0 else shown


@dataclass(frozen=True, order=True)
class Money:
    """An amount in cents, with its two faces: :attr:`amount` for JSON, :meth:`french` for
    people."""

    cents: int

    @classmethod
    def parse(cls, amount: str | Decimal) -> "Money":
        return cls(cents_from_amount(amount))

    @property
    def amount(self) -> str:
        return amount_from_cents(self.cents)

    def french(self, *, thousands: str = NARROW_NBSP) -> str:
        return euros(self.cents, thousands=thousands)
