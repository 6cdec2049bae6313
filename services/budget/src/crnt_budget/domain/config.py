"""A year's budget: what the agency configures (and its JSON face), the lines of the plan it
gives, the comparison of a version with the previous one, and the states that refuse a change."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from crnt_shared.errors import RuleViolation

from crnt_budget.domain import money
from crnt_budget.domain.epci import EpciKey
from crnt_budget.domain.keys import CentreKey, CentreWeight
from crnt_budget.domain.plan import (
    DOTATIONS,
    DOTATIONS_LABEL,
    Base,
    Expense,
    ExpenseKind,
    Funder,
    Nature,
    base_to_json,
)


class NoBudget(LookupError):
    """The year has no budget yet (the API says how to configure it)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"There is no budget for {year} yet")
        self.year = year


class YearClosed(RuleViolation):
    """A closed year never changes."""

    def __init__(self, year: int, closed_at: datetime) -> None:
        super().__init__(
            f"The {year} budget was closed on {closed_at:%Y-%m-%d}: its last version is its"
            " account and nothing changes it any more"
        )


@dataclass(frozen=True)
class NetworkLine:
    """An expense of the network itself, entered by the agency."""

    id: str
    label: str
    nature: Nature
    estimated: int
    actual: int | None = None

    def expense(self) -> Expense:
        """The line in the plan's expenses."""
        return Expense(
            key=self.id,
            label=self.label,
            kind=ExpenseKind.NETWORK,
            axis=None,
            nature=self.nature,
            estimated=self.estimated,
            actual=self.actual,
        )


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
    lines = [line.expense() for line in config.network_lines]
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


def config_to_json(config: BudgetConfig) -> dict[str, object]:
    """The configuration in its public shape (decimal strings), as ``PUT /budgets/{year}``
    takes it."""
    funders: list[dict[str, object]] = []
    for funder in config.funders:
        if funder.amount is not None:
            funders.append({"name": funder.name, "amount": money.format_cents(funder.amount)})
        else:
            assert funder.rate is not None
            funders.append(
                {
                    "name": funder.name,
                    "rate": money.format_ratio(funder.rate),
                    "ceiling": money.format_optional_cents(funder.ceiling),
                    "base": base_to_json(funder.base),
                }
            )
    body: dict[str, object] = {
        "envelope": money.format_cents(config.envelope),
        "centre_key": {
            "fixed_ratio": money.format_ratio(config.centre_key.fixed_ratio),
            "weight": config.centre_key.weight.value,
        },
        "epci_key": config.epci_key.value,
        "funders": funders,
        "network_lines": [
            {
                "id": line.id,
                "label": line.label,
                "nature": line.nature.value,
                "estimated": money.format_cents(line.estimated),
                "actual": money.format_optional_cents(line.actual),
            }
            for line in config.network_lines
        ],
    }
    if config.fixed_shares is not None:
        body["fixed_shares"] = {
            siren: money.format_ratio(share) for siren, share in sorted(config.fixed_shares.items())
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
    return None if value is None else money.parse_cents(value)


def config_from_json(data: Mapping[str, Any]) -> BudgetConfig:
    funders = tuple(
        Funder(
            name=item["name"],
            amount=_optional(item, "amount"),
            rate=None if item.get("rate") is None else money.parse_ratio(item["rate"]),
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
            estimated=money.parse_cents(item["estimated"]),
            actual=_optional(item, "actual"),
        )
        for item in data.get("network_lines", [])
    )
    shares = data.get("fixed_shares")
    return BudgetConfig(
        envelope=money.parse_cents(data["envelope"]),
        centre_key=CentreKey(
            money.parse_ratio(data["centre_key"]["fixed_ratio"]),
            CentreWeight(data["centre_key"]["weight"]),
        ),
        epci_key=EpciKey(data["epci_key"]),
        funders=funders,
        network_lines=lines,
        fixed_shares=None
        if shares is None
        else {siren: money.parse_ratio(share) for siren, share in shares.items()},
    )
