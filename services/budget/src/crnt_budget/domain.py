"""The budget's rules, without I/O: money, sharing keys, the largest-remainder allocation and the
financing plan.

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

**Centre key**: a fixed part (``fixed_ratio`` of the envelope) split equally among the members,
and the rest in proportion to their ``workstations`` (or equally as well with ``none``). The two
parts are not rounded separately: each centre's exact quota is
``envelope × (r / n + (1 − r) × w_i / W)``, and the allocation rounds the sum once. With
``W = 0`` (no member declares a workstation) the weighted part is split equally.

**EPCI key**: the EPCIs' contribution (reste à charge) split by ``population`` or by
``member_centres`` (the number of member centres in each EPCI: an EPCI with none pays nothing,
unless no EPCI has any, in which case they share equally).

**Financing plan**: resources (funders + the EPCIs' contribution) against the planned expenses
by axis (from the validated work programme); the gap is reported, never hidden. A funder gives a
fixed amount, or a rate of the eligible expenses (all planned expenses), rounded down to the cent
and capped by its ceiling.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

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


def format_cents(cents: int) -> str:
    """``123450`` → ``"1234.50"``; ``-5`` → ``"-0.05"``."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros}.{rest:02d}"


def parse_ratio(text: str) -> Fraction:
    """A decimal string in [0, 1], e.g. ``"0.5"``, as an exact fraction."""
    value = text.strip()
    if value.startswith("-") or _RATIO.match(value) is None:
        raise InvalidAmount(f'{text!r} is not a ratio: write a decimal between 0 and 1, e.g. "0.5"')
    ratio = Fraction(Decimal(value))
    if ratio > 1:
        raise InvalidAmount(f"{text!r} is greater than 1: a ratio is between 0 and 1")
    return ratio


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


class CentreWeight(StrEnum):
    WORKSTATIONS = "workstations"
    NONE = "none"


class EpciKey(StrEnum):
    POPULATION = "population"
    MEMBER_CENTRES = "member_centres"


@dataclass(frozen=True)
class CentreKey:
    fixed_ratio: Fraction
    weight: CentreWeight


@dataclass(frozen=True)
class Member:
    centre_id: str
    epci_siren: str
    workstations: int


@dataclass(frozen=True)
class Epci:
    siren: str
    population: int | None


def centre_shares(envelope: int, key: CentreKey, members: Sequence[Member]) -> dict[str, int]:
    """Each member centre's share of the envelope (see the module's docstring)."""
    count = len(members)
    total_weight = sum(max(0, m.workstations) for m in members)
    if key.weight is CentreWeight.NONE or total_weight == 0:
        return allocate(envelope, ((m.centre_id, 1) for m in members))
    fixed, whole = key.fixed_ratio.numerator, key.fixed_ratio.denominator
    # r/n + (1 − r)·w/W, multiplied by q·n·W (r = p/q): integers with the same proportions.
    weights = (
        (m.centre_id, fixed * total_weight + (whole - fixed) * count * max(0, m.workstations))
        for m in members
    )
    return allocate(envelope, weights)


def member_counts(members: Iterable[Member]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for member in members:
        counts[member.epci_siren] = counts.get(member.epci_siren, 0) + 1
    return counts


def epci_shares(
    contribution: int, key: EpciKey, epcis: Sequence[Epci], members: Sequence[Member]
) -> dict[str, int]:
    """Each EPCI's part of the contribution; an unknown population weighs nothing."""
    if key is EpciKey.POPULATION:
        return allocate(contribution, ((e.siren, e.population or 0) for e in epcis))
    counts = member_counts(members)
    return allocate(contribution, ((e.siren, counts.get(e.siren, 0)) for e in epcis))


@dataclass(frozen=True)
class Funder:
    """A fixed ``amount``, or a ``rate`` of the eligible expenses capped by ``ceiling``."""

    name: str
    amount: int | None = None
    rate: Fraction | None = None
    ceiling: int | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"funder {self.name!r} needs either an amount or a rate")
        if self.ceiling is not None and self.rate is None:
            raise ValueError(f"funder {self.name!r}: a ceiling goes with a rate")

    def contribution(self, eligible_expenses: int) -> int:
        if self.amount is not None:
            return self.amount
        assert self.rate is not None
        granted = eligible_expenses * self.rate.numerator // self.rate.denominator
        return granted if self.ceiling is None else min(granted, self.ceiling)


class PlanStatus(StrEnum):
    BALANCED = "balanced"
    DEFICIT = "deficit"  # expenses exceed resources
    SURPLUS = "surplus"  # resources exceed expenses
    AWAITING_PROGRAMME = "awaiting_programme"  # no validated programme: expenses unknown


@dataclass(frozen=True)
class FinancingPlan:
    expenses_by_axis: dict[str, int] | None
    funders: list[tuple[str, int]]
    epci_contribution: int
    status: PlanStatus
    expenses: int
    resources: int
    gap: int  # resources − expenses: negative is a deficit


def financing_plan(
    funders: Sequence[Funder], epci_contribution: int, expenses_by_axis: Mapping[str, int] | None
) -> FinancingPlan:
    """Resources against planned expenses; ``None`` expenses: no programme validated yet."""
    expenses = sum(expenses_by_axis.values()) if expenses_by_axis is not None else 0
    granted = [(funder.name, funder.contribution(expenses)) for funder in funders]
    resources = sum(amount for _, amount in granted) + epci_contribution
    gap = resources - expenses
    if expenses_by_axis is None:
        status = PlanStatus.AWAITING_PROGRAMME
    elif gap == 0:
        status = PlanStatus.BALANCED
    else:
        status = PlanStatus.SURPLUS if gap > 0 else PlanStatus.DEFICIT
    return FinancingPlan(
        expenses_by_axis=None
        if expenses_by_axis is None
        else dict(sorted(expenses_by_axis.items())),
        funders=granted,
        epci_contribution=epci_contribution,
        status=status,
        expenses=expenses,
        resources=resources,
        gap=gap,
    )


@dataclass(frozen=True)
class BudgetConfig:
    """What the agency sets for a year (``PUT /budgets/{year}``)."""

    envelope: int
    centre_key: CentreKey
    epci_contribution: int
    epci_key: EpciKey
    funders: tuple[Funder, ...] = ()


@dataclass(frozen=True)
class Line:
    """One party's amount in a version and the change from the previous version."""

    key: str
    amount: int
    previous: int

    @property
    def change(self) -> int:
        return self.amount - self.previous


def compare(current: Mapping[str, int], previous: Mapping[str, int]) -> list[Line]:
    """Lines for every party of this version, and for those of the previous version that left
    (amount 0), sorted by key."""
    keys = set(current) | {key for key, amount in previous.items() if amount != 0}
    return [Line(key, current.get(key, 0), previous.get(key, 0)) for key in sorted(keys)]


def config_to_json(config: BudgetConfig) -> dict[str, object]:
    """The configuration in its public shape (decimal strings), as ``PUT /budgets/{year}``
    takes it."""
    funders: list[dict[str, object]] = []
    for funder in config.funders:
        if funder.amount is not None:
            funders.append({"name": funder.name, "amount": format_cents(funder.amount)})
        else:
            assert funder.rate is not None
            ceiling = None if funder.ceiling is None else format_cents(funder.ceiling)
            funders.append(
                {"name": funder.name, "rate": format_ratio(funder.rate), "ceiling": ceiling}
            )
    return {
        "envelope": format_cents(config.envelope),
        "centre_key": {
            "fixed_ratio": format_ratio(config.centre_key.fixed_ratio),
            "weight": config.centre_key.weight.value,
        },
        "epci_contribution": format_cents(config.epci_contribution),
        "epci_key": config.epci_key.value,
        "funders": funders,
    }


def config_from_json(data: Mapping[str, Any]) -> BudgetConfig:
    funders = tuple(
        Funder(
            name=item["name"],
            amount=None if item.get("amount") is None else parse_cents(item["amount"]),
            rate=None if item.get("rate") is None else parse_ratio(item["rate"]),
            ceiling=None if item.get("ceiling") is None else parse_cents(item["ceiling"]),
        )
        for item in data.get("funders", [])
    )
    return BudgetConfig(
        envelope=parse_cents(data["envelope"]),
        centre_key=CentreKey(
            parse_ratio(data["centre_key"]["fixed_ratio"]),
            CentreWeight(data["centre_key"]["weight"]),
        ),
        epci_contribution=parse_cents(data["epci_contribution"]),
        epci_key=EpciKey(data["epci_key"]),
        funders=funders,
    )


def plan_to_json(plan: FinancingPlan) -> dict[str, object]:
    expenses = plan.expenses_by_axis
    return {
        "status": plan.status.value,
        "planned_expenses": None
        if expenses is None
        else {axis: format_cents(amount) for axis, amount in expenses.items()},
        "expenses": format_cents(plan.expenses),
        "funders": [
            {"name": name, "amount": format_cents(amount)} for name, amount in plan.funders
        ],
        "epci_contribution": format_cents(plan.epci_contribution),
        "resources": format_cents(plan.resources),
        "gap": format_cents(plan.gap),
    }
