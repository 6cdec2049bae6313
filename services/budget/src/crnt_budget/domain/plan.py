"""The financing plan: expenses against grants, and the reste à charge that balances them.

**The financing plan** (:func:`financing_plan`). Expenses: the validated programme's actions
(each with its axis and nature, *fonctionnement* or *investissement*, estimated and actual), the
lines the agency enters for the network, and the centres' dotations (the envelope allocated,
so that plan and dotations agree). Resources: the funders, each a fixed amount or a rate of an
eligible base (natures, axes or lines) rounded down to the cent and capped by a ceiling; then
the **reste à charge** = expenses − grants, which the EPCIs pay: the plan balances by
construction. The 20 % rule (CGCT L1111-10) is reported: the grants spread over the expenses
their bases cover must leave the owner at least a fifth of the investments.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from crnt_shared.contracts.programme import AXES

from crnt_budget.domain.money import allocate, format_cents, format_optional_cents, format_ratio


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


def base_to_json(base: Base) -> dict[str, list[str]] | None:
    if base.everything:
        return None
    return {
        "natures": [nature.value for nature in base.natures],
        "axes": list(base.axes),
        "lines": list(base.lines),
    }


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
                "actual": format_optional_cents(e.actual),
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
                "ceiling": format_optional_cents(funder.ceiling),
                "base": base_to_json(funder.base),
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
