"""The budget's rules, without I/O, one room each:

- :mod:`~crnt_budget.domain.money`: cents and ratios read and written, and the largest-remainder
  allocation that every split rounds with;
- :mod:`~crnt_budget.domain.keys`: the centre key, the envelope's dotations among the members;
- :mod:`~crnt_budget.domain.plan`: the financing plan, its grants and its reste à charge;
- :mod:`~crnt_budget.domain.epci`: the reste à charge among the paying EPCIs, and their votes;
- :mod:`~crnt_budget.domain.config`: what the agency configures for a year, its JSON face, and
  the comparison of a version with the previous one.

Everything is importable from here (``from crnt_budget import domain; domain.allocate(...)``).
"""

from crnt_budget.domain.config import (
    BudgetConfig,
    Line,
    NetworkLine,
    NoBudget,
    YearClosed,
    compare,
    config_from_json,
    config_to_json,
    expenses_of,
)
from crnt_budget.domain.epci import (
    EpciKey,
    MissingInputs,
    Participation,
    Payer,
    epci_split,
    exceeds,
)
from crnt_budget.domain.keys import (
    CentreKey,
    CentreWeight,
    ClassSplit,
    DotationClass,
    Member,
    centre_shares,
    split_by_class,
)
from crnt_budget.domain.money import (
    MAX_CENTS,
    InvalidAmount,
    allocate,
    format_cents,
    format_optional_cents,
    format_ratio,
    parse_cents,
    parse_ratio,
)
from crnt_budget.domain.plan import (
    DOTATIONS,
    DOTATIONS_LABEL,
    OWNER_MINIMUM,
    Base,
    Expense,
    ExpenseKind,
    FinancingPlan,
    Funder,
    InvestmentRule,
    Nature,
    PlanStatus,
    base_to_json,
    financing_plan,
    plan_to_json,
)

__all__ = [
    "DOTATIONS",
    "DOTATIONS_LABEL",
    "MAX_CENTS",
    "OWNER_MINIMUM",
    "Base",
    "BudgetConfig",
    "CentreKey",
    "CentreWeight",
    "ClassSplit",
    "DotationClass",
    "EpciKey",
    "Expense",
    "ExpenseKind",
    "FinancingPlan",
    "Funder",
    "InvalidAmount",
    "InvestmentRule",
    "Line",
    "Member",
    "MissingInputs",
    "Nature",
    "NetworkLine",
    "NoBudget",
    "Participation",
    "Payer",
    "PlanStatus",
    "YearClosed",
    "allocate",
    "base_to_json",
    "centre_shares",
    "compare",
    "config_from_json",
    "config_to_json",
    "epci_split",
    "exceeds",
    "expenses_of",
    "financing_plan",
    "format_cents",
    "format_optional_cents",
    "format_ratio",
    "parse_cents",
    "parse_ratio",
    "plan_to_json",
    "split_by_class",
]
