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
A member's weight, hence its quota and its remainder, depends on its workstations only: the
allocation is computed once per class of members with the same workstations
(:func:`split_by_class`), and a version's dotations are one base amount per class and the id up
to which the class's members get one cent more (:class:`DotationClass`), whatever the number of
members.

**The financing plan** (:func:`financing_plan`). Expenses: the validated programme's actions
(each with its axis and nature, *fonctionnement* or *investissement*, estimated and actual), the
lines the agency enters for the network, and the centres' dotations (the envelope allocated,
so that plan and dotations agree). Resources: the funders, each a fixed amount or a rate of an
eligible base (natures, axes or lines) rounded down to the cent and capped by a ceiling; then
the **reste à charge** = expenses − grants, which the EPCIs pay: the plan balances by
construction. The 20 % rule (CGCT L1111-10) is reported: the grants spread over the expenses
their bases cover must leave the owner at least a fifth of the investments.

**EPCI key** (:func:`epci_split`): the reste à charge among the EPCIs that have member centres in
the year, by ``population``, by ``member_centres`` or by ``fixed_shares`` (ratios the agency
gives), exact to the cent. Missing inputs (an unknown population, a fixed share not given,
nobody to pay) are never replaced by a fallback: :class:`MissingInputs` says what is missing and
no version is published until it is given.
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from crnt_shared.contracts.programme import AXES
from crnt_shared.money import amount_from_cents

MAX_CENTS = 100_000_000_000_000  # one trillion euros: beyond any public budget
_AMOUNT = re.compile(r"^(\d{1,15})(?:\.(\d{1,2}))?$")
_RATIO = re.compile(r"^(\d{1,3})(?:\.(\d{1,12}))?$")


class InvalidAmount(ValueError):
    """A sentence a person can act on."""


class NoBudget(LookupError):
    def __init__(self, year: int) -> None:
        super().__init__(
            f"There is no budget for {year} yet: the agency configures it with"
            f" PUT /api/v1/budgets/{year}."
        )


class YearClosed(Exception):
    """A closed year never changes (HTTP 409)."""

    def __init__(self, year: int, closed_at: Any) -> None:
        super().__init__(
            f"the {year} budget was closed on {closed_at:%Y-%m-%d}: its last version is its"
            " account and nothing changes it any more"
        )


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
class DotationClass:
    """What each member of a class (the members with the same workstations) is allotted:
    ``base`` cents, one more for those whose id is at or before ``extra_through`` in id order
    (``None``: nobody of the class)."""

    base: int
    extra_through: str | None = None

    def amount(self, centre_id: str) -> int:
        return self.base + (self.extra_through is not None and centre_id <= self.extra_through)


@dataclass(frozen=True)
class ClassSplit:
    """The envelope's largest-remainder split by class of workstations, before the last cents
    that equal remainders share in id order: every member of class ``w`` gets ``bases[w]``;
    among the members of the ``tied`` classes, the first ``tied_cents`` in id order get one
    cent more."""

    bases: Mapping[int, int]
    tied: frozenset[int] = frozenset()
    tied_cents: int = 0

    def classes(self, cut: str | None) -> dict[int, DotationClass]:
        """The dotations once ``cut`` is known: the id of the last tied member given a cent
        (the ``tied_cents``-th of the tied members in id order)."""
        if self.tied_cents and cut is None:
            raise ValueError("the tied members share cents: the cut is needed")
        return {
            w: DotationClass(base, cut if w in self.tied and self.tied_cents else None)
            for w, base in self.bases.items()
        }


def split_by_class(envelope: int, key: CentreKey, classes: Mapping[int, int]) -> ClassSplit:
    """The centre key's largest-remainder allocation, computed once per class of members.

    ``classes`` maps workstations to how many members have them. Every member's weight, hence
    quota and remainder, depends on its workstations only, so :func:`allocate` gives the
    members of a class the same integer part and the same remainder; the leftover cents go to
    whole classes in decreasing order of remainder, and those that equal remainders leave to
    share go to the smaller ids, which only the caller can list (:meth:`ClassSplit.classes`).
    """
    if envelope < 0:
        raise ValueError("the total to share is negative")
    if any(count <= 0 for count in classes.values()):
        raise ValueError("a class has no member")
    members = sum(classes.values())
    if not members:
        return ClassSplit({})
    weights = _centre_weights(key, classes, members)
    denominator = sum(weights[w] * count for w, count in classes.items())
    bases: dict[int, int] = {}
    remainders: dict[int, int] = {}
    for w in classes:
        bases[w], remainders[w] = divmod(envelope * weights[w], denominator)
    left = envelope - sum(bases[w] * count for w, count in classes.items())
    for remainder in sorted(set(remainders.values()), reverse=True):
        if not left:
            break
        group = [w for w in classes if remainders[w] == remainder]
        size = sum(classes[w] for w in group)
        if left < size:
            return ClassSplit(bases, frozenset(group), left)
        for w in group:
            bases[w] += 1
        left -= size
    return ClassSplit(bases)


def _centre_weights(key: CentreKey, classes: Mapping[int, int], members: int) -> dict[int, int]:
    total_weight = sum(max(0, w) * count for w, count in classes.items())
    if key.weight is CentreWeight.NONE or total_weight == 0:
        return dict.fromkeys(classes, 1)
    fixed, whole = key.fixed_ratio.numerator, key.fixed_ratio.denominator
    # r/n + (1 − r)·w/W, multiplied by q·n·W (r = p/q): integers with the same proportions.
    return {w: fixed * total_weight + (whole - fixed) * members * max(0, w) for w in classes}


def centre_shares(envelope: int, key: CentreKey, members: Sequence[Member]) -> dict[str, int]:
    """Each member centre's share of the envelope (see the module's docstring)."""
    if len({m.centre_id for m in members}) != len(members):
        raise ValueError("a party appears twice")
    classes: dict[int, int] = {}
    for member in members:
        classes[member.workstations] = classes.get(member.workstations, 0) + 1
    split = split_by_class(envelope, key, classes)
    tied = sorted(m.centre_id for m in members if m.workstations in split.tied)
    dotations = split.classes(tied[split.tied_cents - 1] if split.tied_cents else None)
    return {m.centre_id: dotations[m.workstations].amount(m.centre_id) for m in members}


# The financing plan


class Nature(StrEnum):
    """FEDER, the Region and the CGCT tell operating costs from investments."""

    FONCTIONNEMENT = "fonctionnement"
    INVESTISSEMENT = "investissement"


class ExpenseKind(StrEnum):
    ACTION = "action"  # an action of the validated work programme
    NETWORK = "network"  # a line the agency enters (animation of the network, …)
    DOTATIONS = "dotations"  # the centres' dotations: the envelope shared among members


#: The key of the dotations line, usable in a funder's eligible base.
DOTATIONS = "dotations"
DOTATIONS_LABEL = "Dotations des lieux membres"


@dataclass(frozen=True)
class NetworkLine:
    """An expense of the network itself, entered by the agency."""

    id: str
    label: str
    nature: Nature
    estimated: int
    actual: int | None = None


@dataclass(frozen=True)
class Expense:
    """One line of the plan's expenses, estimated and actual (réalisé, ``None``: not yet)."""

    key: str
    label: str
    kind: ExpenseKind
    axis: str | None
    nature: Nature
    estimated: int
    actual: int | None = None


@dataclass(frozen=True)
class Base:
    """What a rate applies to: the expenses matching every criterion given (natures, axes of
    the programme's actions, line keys); no criterion at all: every expense."""

    natures: tuple[Nature, ...] = ()
    axes: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    def covers(self, expense: Expense) -> bool:
        return (
            (not self.natures or expense.nature in self.natures)
            and (not self.axes or expense.axis in self.axes)
            and (not self.lines or expense.key in self.lines)
        )

    @property
    def everything(self) -> bool:
        return not (self.natures or self.axes or self.lines)


@dataclass(frozen=True)
class Funder:
    """A fixed ``amount``, or a ``rate`` of an eligible ``base`` capped by ``ceiling``."""

    name: str
    amount: int | None = None
    rate: Fraction | None = None
    ceiling: int | None = None
    base: Base = Base()

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"funder {self.name!r} needs either an amount or a rate")
        if self.ceiling is not None and self.rate is None:
            raise ValueError(f"funder {self.name!r}: a ceiling goes with a rate")
        if not self.base.everything and self.rate is None:
            raise ValueError(f"funder {self.name!r}: an eligible base goes with a rate")

    def eligible(self, expenses: Sequence[Expense]) -> list[Expense]:
        return [expense for expense in expenses if self.base.covers(expense)]

    def contribution(self, expenses: Sequence[Expense]) -> int:
        """The grant: the amount, or the rate of the eligible estimate rounded down to the cent
        and capped."""
        if self.amount is not None:
            return self.amount
        assert self.rate is not None
        base = sum(expense.estimated for expense in self.eligible(expenses))
        granted = base * self.rate.numerator // self.rate.denominator
        return granted if self.ceiling is None else min(granted, self.ceiling)


class PlanStatus(StrEnum):
    BALANCED = "balanced"  # expenses = grants + reste à charge
    OVER_FUNDED = "over_funded"  # the grants alone exceed the expenses: nothing left to pay
    AWAITING_PROGRAMME = "awaiting_programme"  # no validated programme: its actions are missing


#: CGCT L1111-10: the public project owner keeps at least 20 % of an investment.
OWNER_MINIMUM = Fraction(1, 5)


@dataclass(frozen=True)
class InvestmentRule:
    """The 20 % rule: the grants are spread over the expenses each funder's base covers (a fixed
    amount over every expense) in proportion to their estimates; what the investments keep to
    pay, ``owner_share``, must be at least 20 % of them. ``holds`` is ``None`` without any
    investment."""

    investment: int
    grants: int
    owner_share: int
    holds: bool | None

    @property
    def owner_ratio(self) -> Fraction | None:
        return None if self.investment == 0 else Fraction(self.owner_share, self.investment)


@dataclass(frozen=True)
class FinancingPlan:
    status: PlanStatus
    expenses: tuple[Expense, ...]
    grants: tuple[tuple[Funder, int], ...]
    estimated: int
    actual: int
    granted: int
    reste_a_charge: int  # expenses − grants, what the EPCIs pay (0 when over-funded)
    surplus: int  # grants − expenses when they exceed them
    investment_rule: InvestmentRule

    def by_axis(self) -> dict[str, tuple[int, int]]:
        """Estimated and actual expenses of the programme's actions, by axis (every axis)."""
        totals: dict[str, tuple[int, int]] = dict.fromkeys(AXES, (0, 0))
        for expense in self.expenses:
            if expense.axis is not None:
                estimated, actual = totals.get(expense.axis, (0, 0))
                totals[expense.axis] = (
                    estimated + expense.estimated,
                    actual + (expense.actual or 0),
                )
        return totals  # the axes in the deliberation's order, then any added later

    def by_nature(self) -> dict[str, tuple[int, int]]:
        totals = {nature.value: (0, 0) for nature in Nature}
        for expense in self.expenses:
            estimated, actual = totals[expense.nature.value]
            totals[expense.nature.value] = (
                estimated + expense.estimated,
                actual + (expense.actual or 0),
            )
        return totals


def _investment_rule(
    expenses: Sequence[Expense], grants: Sequence[tuple[Funder, int]]
) -> InvestmentRule:
    investment = sum(e.estimated for e in expenses if e.nature is Nature.INVESTISSEMENT)
    on_investment = 0
    for funder, granted in grants:
        eligible = [e for e in funder.eligible(expenses) if e.estimated > 0]
        spread = allocate(granted, ((e.key, e.estimated) for e in eligible)) if eligible else {}
        on_investment += sum(
            spread.get(e.key, 0) for e in eligible if e.nature is Nature.INVESTISSEMENT
        )
    owner = max(0, investment - on_investment)
    holds = None if investment == 0 else Fraction(owner, investment) >= OWNER_MINIMUM
    return InvestmentRule(investment, on_investment, owner, holds)


def financing_plan(
    expenses: Sequence[Expense], funders: Sequence[Funder], *, programme_known: bool
) -> FinancingPlan:
    """Expenses against grants; the reste à charge is what remains, so the plan balances by
    construction (unless the grants alone exceed the expenses: then it is over-funded)."""
    estimated = sum(expense.estimated for expense in expenses)
    grants = tuple((funder, funder.contribution(expenses)) for funder in funders)
    granted = sum(amount for _, amount in grants)
    reste = max(0, estimated - granted)
    surplus = max(0, granted - estimated)
    if not programme_known:
        status = PlanStatus.AWAITING_PROGRAMME
    else:
        status = PlanStatus.OVER_FUNDED if surplus else PlanStatus.BALANCED
    return FinancingPlan(
        status=status,
        expenses=tuple(expenses),
        grants=grants,
        estimated=estimated,
        actual=sum(expense.actual or 0 for expense in expenses),
        granted=granted,
        reste_a_charge=reste,
        surplus=surplus,
        investment_rule=_investment_rule(expenses, grants),
    )


# The reste à charge among the EPCIs


class EpciKey(StrEnum):
    POPULATION = "population"
    MEMBER_CENTRES = "member_centres"
    FIXED_SHARES = "fixed_shares"


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


# The configuration


@dataclass(frozen=True)
class BudgetConfig:
    """What the agency sets for a year (``PUT /budgets/{year}``)."""

    envelope: int
    centre_key: CentreKey
    epci_key: EpciKey
    funders: tuple[Funder, ...] = ()
    network_lines: tuple[NetworkLine, ...] = ()
    fixed_shares: Mapping[str, Fraction] | None = None


def expenses_of(config: BudgetConfig, actions: Sequence[Expense], dotations: int) -> list[Expense]:
    """The plan's lines: the programme's actions, the network's lines, the dotations."""
    lines = [
        Expense(
            key=line.id,
            label=line.label,
            kind=ExpenseKind.NETWORK,
            axis=None,
            nature=line.nature,
            estimated=line.estimated,
            actual=line.actual,
        )
        for line in config.network_lines
    ]
    dotation = Expense(
        key=DOTATIONS,
        label=DOTATIONS_LABEL,
        kind=ExpenseKind.DOTATIONS,
        axis=None,
        nature=Nature.FONCTIONNEMENT,
        estimated=dotations,
    )
    return [*actions, *lines, dotation]


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


def _money_or_none(cents: int | None) -> str | None:
    return None if cents is None else format_cents(cents)


def _base_json(base: Base) -> dict[str, list[str]] | None:
    if base.everything:
        return None
    return {
        "natures": [nature.value for nature in base.natures],
        "axes": list(base.axes),
        "lines": list(base.lines),
    }


def config_to_json(config: BudgetConfig) -> dict[str, object]:
    """The configuration in its public shape (decimal strings), as ``PUT /budgets/{year}``
    takes it."""
    funders: list[dict[str, object]] = []
    for funder in config.funders:
        if funder.amount is not None:
            funders.append({"name": funder.name, "amount": format_cents(funder.amount)})
        else:
            assert funder.rate is not None
            funders.append(
                {
                    "name": funder.name,
                    "rate": format_ratio(funder.rate),
                    "ceiling": _money_or_none(funder.ceiling),
                    "base": _base_json(funder.base),
                }
            )
    body: dict[str, object] = {
        "envelope": format_cents(config.envelope),
        "centre_key": {
            "fixed_ratio": format_ratio(config.centre_key.fixed_ratio),
            "weight": config.centre_key.weight.value,
        },
        "epci_key": config.epci_key.value,
        "funders": funders,
        "network_lines": [
            {
                "id": line.id,
                "label": line.label,
                "nature": line.nature.value,
                "estimated": format_cents(line.estimated),
                "actual": _money_or_none(line.actual),
            }
            for line in config.network_lines
        ],
    }
    if config.fixed_shares is not None:
        body["fixed_shares"] = {
            siren: format_ratio(share) for siren, share in sorted(config.fixed_shares.items())
        }
    return body


def _base_from_json(data: Mapping[str, Any] | None) -> Base:
    if not data:
        return Base()
    return Base(
        natures=tuple(Nature(n) for n in data.get("natures") or ()),
        axes=tuple(data.get("axes") or ()),
        lines=tuple(data.get("lines") or ()),
    )


def _optional(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    return None if value is None else parse_cents(value)


def config_from_json(data: Mapping[str, Any]) -> BudgetConfig:
    funders = tuple(
        Funder(
            name=item["name"],
            amount=_optional(item, "amount"),
            rate=None if item.get("rate") is None else parse_ratio(item["rate"]),
            ceiling=_optional(item, "ceiling"),
            base=_base_from_json(item.get("base")),
        )
        for item in data.get("funders", [])
    )
    lines = tuple(
        NetworkLine(
            id=item["id"],
            label=item["label"],
            nature=Nature(item["nature"]),
            estimated=parse_cents(item["estimated"]),
            actual=_optional(item, "actual"),
        )
        for item in data.get("network_lines", [])
    )
    shares = data.get("fixed_shares")
    return BudgetConfig(
        envelope=parse_cents(data["envelope"]),
        centre_key=CentreKey(
            parse_ratio(data["centre_key"]["fixed_ratio"]),
            CentreWeight(data["centre_key"]["weight"]),
        ),
        epci_key=EpciKey(data["epci_key"]),
        funders=funders,
        network_lines=lines,
        fixed_shares=None
        if shares is None
        else {siren: parse_ratio(share) for siren, share in shares.items()},
    )


def plan_to_json(plan: FinancingPlan) -> dict[str, Any]:
    """The plan as each version keeps it: lines, totals by axis and nature, grants, the reste
    à charge and the 20 % rule. ``expenses``, ``resources`` and ``gap`` keep their meaning
    (totals, resources − expenses)."""
    money = format_cents
    rule = plan.investment_rule
    ratio = rule.owner_ratio
    resources = plan.granted + plan.reste_a_charge
    return {
        "status": plan.status.value,
        "expense_lines": [
            {
                "key": e.key,
                "label": e.label,
                "kind": e.kind.value,
                "axis": e.axis,
                "nature": e.nature.value,
                "estimated": money(e.estimated),
                "actual": _money_or_none(e.actual),
            }
            for e in plan.expenses
        ],
        "planned_expenses": None
        if plan.status is PlanStatus.AWAITING_PROGRAMME
        else {axis: money(est) for axis, (est, _) in plan.by_axis().items()},
        "by_axis": {
            axis: {"estimated": money(est), "actual": money(act)}
            for axis, (est, act) in plan.by_axis().items()
        },
        "by_nature": {
            nature: {"estimated": money(est), "actual": money(act)}
            for nature, (est, act) in plan.by_nature().items()
        },
        "expenses": money(plan.estimated),
        "actual_expenses": money(plan.actual),
        "funders": [
            {
                "name": funder.name,
                "amount": money(amount),
                "rate": None if funder.rate is None else format_ratio(funder.rate),
                "ceiling": _money_or_none(funder.ceiling),
                "base": _base_json(funder.base),
            }
            for funder, amount in plan.grants
        ],
        "grants": money(plan.granted),
        "reste_a_charge": money(plan.reste_a_charge),
        "epci_contribution": money(plan.reste_a_charge),
        "surplus": money(plan.surplus),
        "resources": money(resources),
        "gap": money(resources - plan.estimated),
        "investment_rule": {
            "rule": "CGCT L1111-10",
            "investment": money(rule.investment),
            "grants": money(rule.grants),
            "owner_share": money(rule.owner_share),
            "owner_ratio": None if ratio is None else f"{float(ratio):.4f}",
            "holds": rule.holds,
        },
    }
