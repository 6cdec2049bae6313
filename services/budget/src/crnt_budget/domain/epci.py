"""The reste à charge among the EPCIs, and what their councils voted.

**EPCI key** (:func:`epci_split`): the reste à charge among the EPCIs that have member centres in
the year, by ``population``, by ``member_centres`` or by ``fixed_shares`` (ratios the agency
gives), exact to the cent. Missing inputs (an unknown population, a fixed share not given,
nobody to pay) are never replaced by a fallback: :class:`MissingInputs` says what is missing and
no version is published until it is given.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from crnt_shared.vocabularies import EpciKey as EpciKey

from crnt_budget.domain.money import allocate


@dataclass(frozen=True)
class Payer:
    """An EPCI that has member centres in the year: it owes part of the reste à charge."""

    siren: str
    name: str
    population: int | None
    member_centres: int


class MissingInputs(Exception):
    """The split cannot be computed: the version waits, and says what is missing."""

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__("; ".join(missing))
        self.missing = list(missing)


def epci_split(
    reste_a_charge: int,
    key: EpciKey,
    payers: Sequence[Payer],
    fixed_shares: Mapping[str, Fraction],
    year: int,
) -> dict[str, int]:
    """Each paying EPCI's part of the reste à charge, exact to the cent (largest remainder).

    Never a fallback: an unknown population, a fixed share not given, or nobody to pay a
    reste à charge raise :class:`MissingInputs` (nothing is published until it is given).
    """
    if not payers:
        if reste_a_charge == 0:
            return {}
        raise MissingInputs(
            [f"no EPCI has a member centre in {year}: nobody owes the reste à charge"]
        )
    if key is EpciKey.POPULATION:
        unknown = [p for p in payers if p.population is None]
        if unknown:
            raise MissingInputs(
                [f"the population of {p.name} (SIREN {p.siren}) is unknown" for p in unknown]
            )
        weights = {p.siren: p.population or 0 for p in payers}
        if not any(weights.values()):
            raise MissingInputs(["the populations of the paying EPCIs are all zero"])
    elif key is EpciKey.MEMBER_CENTRES:
        weights = {p.siren: p.member_centres for p in payers}
    else:
        absent = [p for p in payers if p.siren not in fixed_shares]
        if absent:
            raise MissingInputs(
                [f"no fixed share is given for {p.name} (SIREN {p.siren})" for p in absent]
            )
        shares = {p.siren: fixed_shares[p.siren] for p in payers}
        common = math.lcm(*(share.denominator for share in shares.values()))
        weights = {siren: int(share * common) for siren, share in shares.items()}
        if not any(weights.values()):
            raise MissingInputs(["the fixed shares of the paying EPCIs are all zero"])
    return allocate(reste_a_charge, weights.items())


@dataclass(frozen=True)
class Participation:
    """What an EPCI's council voted: the amount, the deliberation's number and date."""

    siren: str
    amount: int
    deliberation_number: str
    deliberation_date: date


def exceeds(asked: int, voted: Participation | None) -> bool:
    """Asking more than the council voted needs a new deliberation."""
    return voted is not None and asked > voted.amount
