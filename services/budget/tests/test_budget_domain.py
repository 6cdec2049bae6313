"""The budget's rules: money, the largest-remainder allocation, the keys, the financing plan."""

import random
from datetime import date
from fractions import Fraction
from uuid import UUID

import pytest
from crnt_budget import domain
from crnt_budget.domain import (
    Base,
    BudgetConfig,
    CentreKey,
    CentreWeight,
    ClassSplit,
    DotationClass,
    EpciKey,
    Expense,
    ExpenseKind,
    Funder,
    InvalidAmount,
    Member,
    MissingInputs,
    Nature,
    Payer,
    PlanStatus,
    allocate,
    centre_shares,
    compare,
    epci_split,
    financing_plan,
    format_cents,
    parse_cents,
    parse_ratio,
    split_by_class,
)
from crnt_shared.contracts.programme import AXES
from hypothesis import given, settings
from hypothesis import strategies as st

CAPSO, CCPL = "200069037", "246201016"

parties = st.dictionaries(
    st.text("0123456789abcdef", min_size=1, max_size=8),
    st.integers(min_value=0, max_value=10**6),
    max_size=60,
)
totals = st.integers(min_value=0, max_value=10**11)


# Money


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0", 0), ("0.5", 50), ("1234.56", 123456), ("30000.00", 3000000), (" 7.1 ", 710)],
)
def test_amounts_are_read_as_exact_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1.00", "negative"),
        ("1.234", "more than 2 decimals"),
        ("1e3", "not an amount"),
        ("12,50", "not an amount"),
        ("", "not an amount"),
        ("NaN", "not an amount"),
        ("9" * 16, "not an amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_cents(text)


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_cents_survive_a_round_trip_through_text(cents: int) -> None:
    text = format_cents(cents)
    assert text.count(".") == 1
    assert len(text.split(".")[1]) == 2
    if cents >= 0:
        assert parse_cents(text) == cents


@pytest.mark.parametrize("text", ["1.5", "-0.1", "2", "0.5.1", "abc", "1e-1"])
def test_ratios_outside_zero_one_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_ratio(text)


def test_ratios_are_exact() -> None:
    assert parse_ratio("0.1") == Fraction(1, 10)
    assert parse_ratio("1") == 1
    assert domain.format_ratio(parse_ratio("0.125")) == "0.125"
    assert domain.format_ratio(parse_ratio("1.0")) == "1"


# Largest remainder


@settings(max_examples=500)
@given(totals, parties)
def test_shares_add_up_exactly_and_each_is_within_a_cent_of_its_quota(
    total: int, weights: dict[str, int]
) -> None:
    shares = allocate(total, weights.items())
    if not weights:
        assert shares == {}
        return
    assert sum(shares.values()) == total
    denominator = sum(weights.values())
    for key, share in shares.items():
        exact = (
            Fraction(total * weights[key], denominator)
            if denominator
            else Fraction(total, len(weights))
        )
        assert abs(share - exact) < 1
        assert share >= 0


@settings(max_examples=300)
@given(totals, parties, st.randoms())
def test_shares_do_not_depend_on_the_order_of_parties(
    total: int, weights: dict[str, int], rng: random.Random
) -> None:
    items = list(weights.items())
    rng.shuffle(items)
    assert allocate(total, items) == allocate(total, sorted(items))


@settings(max_examples=300)
@given(totals, st.lists(st.uuids(), min_size=1, max_size=80, unique=True), st.integers(0, 50))
def test_equal_weights_give_shares_within_one_cent(total: int, ids: list[object], w: int) -> None:
    shares = allocate(total, [(str(i), w) for i in ids])
    assert max(shares.values()) - min(shares.values()) <= 1


def test_the_tie_break_gives_the_leftover_cents_to_the_smaller_ids() -> None:
    # 100 cents among three equal parties: 33 each, one cent left, same remainder: "a" gets it.
    assert allocate(100, [("c", 1), ("a", 1), ("b", 1)]) == {"a": 34, "b": 33, "c": 33}
    assert allocate(200, [("c", 1), ("a", 1), ("b", 1)]) == {"a": 67, "b": 67, "c": 66}


def test_the_larger_remainder_wins_before_the_id() -> None:
    # quotas 10 × 1/6 = 1.67 and 10 × 5/6 = 8.33: the larger remainder (.67) takes the cent.
    assert allocate(10, [("a", 5), ("z", 1)]) == {"a": 8, "z": 2}


def test_all_weights_zero_split_equally() -> None:
    assert allocate(10, [("a", 0), ("b", 0), ("c", 0)]) == {"a": 4, "b": 3, "c": 3}


def test_a_zero_weight_gets_nothing_when_others_weigh() -> None:
    assert allocate(10, [("a", 0), ("b", 1)]) == {"a": 0, "b": 10}


def test_nobody_to_share_with_allocates_nothing() -> None:
    assert allocate(500, []) == {}


def test_duplicates_and_negatives_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="twice"):
        allocate(1, [("a", 1), ("a", 2)])
    with pytest.raises(ValueError, match="negative"):
        allocate(1, [("a", -1)])
    with pytest.raises(ValueError, match="negative"):
        allocate(-1, [("a", 1)])


# Centre key


def members(*workstations: int, epci: str = CAPSO) -> list[Member]:
    return [Member(f"c{i:03d}", epci, w) for i, w in enumerate(workstations)]


def test_centre_key_fixed_part_equal_and_the_rest_by_workstations() -> None:
    key = CentreKey(Fraction(1, 2), CentreWeight.WORKSTATIONS)
    # 30,000.00: 15,000 equally (5,000 each) + 15,000 by 2/4/6 workstations (2,500/5,000/7,500).
    shares = centre_shares(3_000_000, key, members(2, 4, 6))
    assert shares == {"c000": 750_000, "c001": 1_000_000, "c002": 1_250_000}


def test_centre_key_rounds_once_on_the_combined_quota() -> None:
    key = CentreKey(Fraction(1, 3), CentreWeight.WORKSTATIONS)
    shares = centre_shares(100, key, members(1, 1, 5))
    assert sum(shares.values()) == 100
    exact = {
        f"c00{i}": Fraction(100, 3) / 3 + Fraction(200, 3) * w / 7 for i, w in enumerate((1, 1, 5))
    }
    assert all(abs(shares[k] - exact[k]) < 1 for k in shares)


@settings(max_examples=300)
@given(
    totals,
    st.lists(st.integers(0, 200), max_size=60),
    st.fractions(min_value=0, max_value=1, max_denominator=1000),
)
def test_centre_key_shares_add_up_and_follow_their_exact_quota(
    envelope: int, stations: list[int], ratio: Fraction
) -> None:
    group = members(*stations)
    shares = centre_shares(envelope, CentreKey(ratio, CentreWeight.WORKSTATIONS), group)
    if not group:
        assert shares == {}
        return
    assert sum(shares.values()) == envelope
    total = sum(stations)
    for member in group:
        weighted = Fraction(member.workstations, total) if total else Fraction(1, len(group))
        exact = envelope * (ratio / len(group) + (1 - ratio) * weighted)
        assert abs(shares[member.centre_id] - exact) < 1


def _allocated_one_by_one(envelope: int, key: CentreKey, group: list[Member]) -> dict[str, int]:
    """The centre key as it was computed before the classes: a weight per member, allocated."""
    total = sum(max(0, m.workstations) for m in group)
    if key.weight is CentreWeight.NONE or total == 0:
        return allocate(envelope, ((m.centre_id, 1) for m in group))
    p, q = key.fixed_ratio.numerator, key.fixed_ratio.denominator
    return allocate(
        envelope,
        ((m.centre_id, p * total + (q - p) * len(group) * max(0, m.workstations)) for m in group),
    )


@settings(max_examples=500)
@given(
    totals,
    st.lists(st.tuples(st.uuids(), st.integers(0, 12)), max_size=80, unique_by=lambda t: t[0]),
    st.fractions(min_value=0, max_value=1, max_denominator=1000),
    st.sampled_from(CentreWeight),
)
def test_the_split_by_class_gives_every_member_what_allocating_one_by_one_gives(
    envelope: int, centres: list[tuple[object, int]], ratio: Fraction, weight: CentreWeight
) -> None:
    group = [Member(str(centre_id), CAPSO, w) for centre_id, w in centres]
    key = CentreKey(ratio, weight)
    assert centre_shares(envelope, key, group) == _allocated_one_by_one(envelope, key, group)


@given(st.lists(st.uuids(), max_size=50))
def test_the_id_order_of_uuids_is_the_order_of_their_text(ids: list[UUID]) -> None:
    """The database compares the uuids (their bytes), the allocation their canonical text."""
    assert [str(i) for i in sorted(ids)] == sorted(str(i) for i in ids)


def test_a_class_split_tells_who_shares_the_last_cents() -> None:
    key = CentreKey(Fraction(0), CentreWeight.NONE)
    split = split_by_class(1000, key, {1: 2, 50: 1})  # 333.33 each: one cent for the first id
    assert split == ClassSplit({1: 333, 50: 333}, frozenset({1, 50}), 1)
    assert split.classes("c000") == {1: DotationClass(333, "c000"), 50: DotationClass(333, "c000")}
    with pytest.raises(ValueError, match="cut"):
        split.classes(None)
    assert split_by_class(900, key, {}) == ClassSplit({})


def test_centre_key_none_splits_equally_whatever_the_workstations() -> None:
    shares = centre_shares(1000, CentreKey(Fraction(0), CentreWeight.NONE), members(1, 50, 0))
    assert shares == {"c000": 334, "c001": 333, "c002": 333}


def test_centre_key_with_no_workstation_at_all_falls_back_to_equal_split() -> None:
    key = CentreKey(Fraction(0), CentreWeight.WORKSTATIONS)
    assert centre_shares(900, key, members(0, 0, 0)) == {"c000": 300, "c001": 300, "c002": 300}


def test_centre_key_with_zero_members_allocates_nothing() -> None:
    assert centre_shares(900, CentreKey(Fraction(1), CentreWeight.WORKSTATIONS), []) == {}


def test_centre_key_fully_fixed_is_an_equal_split() -> None:
    key = CentreKey(Fraction(1), CentreWeight.WORKSTATIONS)
    assert centre_shares(900, key, members(1, 2, 100)) == {"c000": 300, "c001": 300, "c002": 300}


# The plan of the demo territory (cli/src/crnt_cli/demo.py)

DEMO_ACTIONS = [
    ("communication", Nature.FONCTIONNEMENT, 450_000),
    ("ateliers", Nature.FONCTIONNEMENT, 600_000),
    ("evenements", Nature.FONCTIONNEMENT, 550_000),
    ("formation", Nature.FONCTIONNEMENT, 350_000),
    ("materiel_partage", Nature.INVESTISSEMENT, 800_000),
]
DEMO_FUNDERS = [
    Funder("Région Hauts-de-France (CRNT)", amount=1_500_000),
    Funder(
        "FEDER",
        rate=Fraction(1, 2),
        ceiling=1_000_000,
        base=Base(axes=AXES),
    ),
    Funder(
        "Région Hauts-de-France (dotations des lieux)",
        rate=Fraction(1),
        base=Base(lines=(domain.DOTATIONS,)),
    ),
]
PAYS_DE_SAINT_OMER = [
    Payer(CAPSO, "CAPSO", 104_937, 30),
    Payer(CCPL, "CCPL", 24_187, 6),
]


def demo_expenses() -> list[Expense]:
    actions = [
        Expense(axis, axis, ExpenseKind.ACTION, axis, nature, cents)
        for axis, nature, cents in DEMO_ACTIONS
    ]
    config = BudgetConfig(
        envelope=3_000_000,
        centre_key=CentreKey(Fraction(1, 2), CentreWeight.WORKSTATIONS),
        epci_key=EpciKey.POPULATION,
    )
    return domain.expenses_of(config, actions, 3_000_000)


def test_the_demo_plan_balances_and_capso_and_ccpl_owe_the_reste_a_charge_by_population() -> None:
    """Expenses: the five actions 4,500 + 6,000 + 5,500 + 3,500 + 8,000 = 27,500.00 and the
    dotations 30,000.00: 57,500.00. Grants: the Region 15,000.00; FEDER 50 % of the actions
    (13,750.00) capped at 10,000.00; the Region's dotations 100 % of 30,000.00: 55,000.00.
    Reste à charge: 57,500.00 − 55,000.00 = 2,500.00 = 250,000 cents.

    By population (104,937 + 24,187 = 129,124 inhabitants):
    CAPSO 250,000 × 104,937 / 129,124 = 203,171.45… → 203,171, remainder 0.45…;
    CCPL 250,000 × 24,187 / 129,124 = 46,828.54… → 46,828, remainder 0.54…;
    the one cent left goes to the larger remainder, CCPL: 2,031.71 € and 468.29 €.
    """
    plan = financing_plan(demo_expenses(), DEMO_FUNDERS, programme_known=True)
    assert plan.estimated == 5_750_000
    assert [amount for _, amount in plan.grants] == [1_500_000, 1_000_000, 3_000_000]
    assert plan.reste_a_charge == 250_000
    assert plan.status is PlanStatus.BALANCED
    assert plan.granted + plan.reste_a_charge == plan.estimated
    split = epci_split(250_000, EpciKey.POPULATION, PAYS_DE_SAINT_OMER, {}, 2026)
    assert split == {CAPSO: 203_171, CCPL: 46_829}


def test_the_demo_keeps_the_20_percent_rule() -> None:
    """The investment: shared equipment, 8,000.00. The Region's 15,000.00 spread over all
    57,500.00 of expenses gives it 15,000 × 8,000 / 57,500 = 2,086.95… → 2,086.96 (largest
    remainder among the seven lines); FEDER's 10,000.00 over its 27,500.00 of actions gives it
    10,000 × 8,000 / 27,500 = 2,909.09…; the dotations' grant covers none of it. Public grants
    on it: 2,086.96 + 2,909.09 = 4,996.05; the owner keeps 3,003.95, 37.5 % ≥ 20 %."""
    plan = financing_plan(demo_expenses(), DEMO_FUNDERS, programme_known=True)
    rule = plan.investment_rule
    assert rule.investment == 800_000
    assert rule.grants == 499_605
    assert (rule.owner_share, rule.holds) == (300_395, True)


def test_an_investment_funded_beyond_80_percent_breaks_the_rule() -> None:
    """10,000.00 of equipment: a 90 % rate on investments grants 9,000.00, leaving the owner
    1,000.00, 10 % < 20 %."""
    expenses = [
        Expense(
            "tablettes", "Tablettes", ExpenseKind.NETWORK, None, Nature.INVESTISSEMENT, 1_000_000
        ),
        Expense(
            "animation", "Animation", ExpenseKind.NETWORK, None, Nature.FONCTIONNEMENT, 500_000
        ),
    ]
    funder = Funder("FEDER", rate=Fraction(9, 10), base=Base(natures=(Nature.INVESTISSEMENT,)))
    plan = financing_plan(expenses, [funder], programme_known=True)
    assert [amount for _, amount in plan.grants] == [900_000]
    assert plan.reste_a_charge == 600_000
    assert (plan.investment_rule.owner_share, plan.investment_rule.holds) == (100_000, False)


def test_without_investment_the_rule_does_not_apply() -> None:
    expenses = [Expense("a", "A", ExpenseKind.NETWORK, None, Nature.FONCTIONNEMENT, 100)]
    assert financing_plan(expenses, [], programme_known=True).investment_rule.holds is None


def test_a_base_takes_the_expenses_matching_every_criterion_given() -> None:
    """FEDER 50 % of the investments of the axis « matériel partagé »: only the 8,000.00."""
    base = Base(natures=(Nature.INVESTISSEMENT,), axes=("materiel_partage",))
    funder = Funder("FEDER", rate=Fraction(1, 2), base=base)
    assert funder.contribution(demo_expenses()) == 400_000
    with pytest.raises(ValueError, match="base"):
        Funder("x", amount=1, base=base)


def test_a_rate_is_capped_by_its_ceiling_and_rounded_down() -> None:
    one = [Expense("a", "A", ExpenseKind.NETWORK, None, Nature.FONCTIONNEMENT, 10_000)]
    assert Funder("FEDER", rate=Fraction(1, 2), ceiling=1_000).contribution(one) == 1_000
    hundred = [Expense("a", "A", ExpenseKind.NETWORK, None, Nature.FONCTIONNEMENT, 100)]
    assert Funder("FEDER", rate=Fraction(1, 3)).contribution(hundred) == 33


def test_grants_beyond_the_expenses_leave_nothing_to_pay_and_say_so() -> None:
    expenses = [Expense("a", "A", ExpenseKind.NETWORK, None, Nature.FONCTIONNEMENT, 150)]
    plan = financing_plan(expenses, [Funder("Région", amount=200)], programme_known=True)
    assert (plan.status, plan.reste_a_charge, plan.surplus) == (PlanStatus.OVER_FUNDED, 0, 50)


def test_a_plan_without_programme_says_it_awaits_it() -> None:
    plan = financing_plan(demo_expenses()[5:], [], programme_known=False)
    assert plan.status is PlanStatus.AWAITING_PROGRAMME
    assert plan.reste_a_charge == 3_000_000  # the dotations alone


def test_a_funder_is_either_fixed_or_a_rate() -> None:
    with pytest.raises(ValueError, match="either"):
        Funder("x")
    with pytest.raises(ValueError, match="either"):
        Funder("x", amount=1, rate=Fraction(1, 2))
    with pytest.raises(ValueError, match="ceiling"):
        Funder("x", amount=1, ceiling=2)


# The EPCI keys: only EPCIs with member centres pay, never a fallback


def test_member_centres_key() -> None:
    """1,000 cents, CAPSO 3 member centres, CCPL 1: 750 and 250."""
    payers = [Payer(CAPSO, "CAPSO", None, 3), Payer(CCPL, "CCPL", None, 1)]
    assert epci_split(1000, EpciKey.MEMBER_CENTRES, payers, {}, 2026) == {CAPSO: 750, CCPL: 250}


def test_fixed_shares_key() -> None:
    """1,001 cents at 2/3 and 1/3: 667.33… → 667 and 333.66… → 333 + the cent left (larger
    remainder): 667 and 334."""
    shares = {CAPSO: Fraction(2, 3), CCPL: Fraction(1, 3), "200000000": Fraction(1, 2)}
    result = epci_split(1001, EpciKey.FIXED_SHARES, PAYS_DE_SAINT_OMER, shares, 2026)
    assert result == {CAPSO: 667, CCPL: 334}


def test_an_unknown_population_is_missing_not_a_zero() -> None:
    payers = [Payer(CAPSO, "CAPSO", None, 3), Payer(CCPL, "CCPL", 24_187, 1)]
    with pytest.raises(MissingInputs) as raised:
        epci_split(100, EpciKey.POPULATION, payers, {}, 2026)
    assert raised.value.missing == ["the population of CAPSO (SIREN 200069037) is unknown"]


def test_a_fixed_share_not_given_is_missing() -> None:
    with pytest.raises(MissingInputs, match="CCPL"):
        epci_split(100, EpciKey.FIXED_SHARES, PAYS_DE_SAINT_OMER, {CAPSO: Fraction(1)}, 2026)


def test_nobody_to_pay_a_reste_a_charge_is_missing() -> None:
    with pytest.raises(MissingInputs, match="no EPCI has a member centre in 2026"):
        epci_split(100, EpciKey.MEMBER_CENTRES, [], {}, 2026)
    assert epci_split(0, EpciKey.MEMBER_CENTRES, [], {}, 2026) == {}


def test_asking_more_than_voted_needs_a_new_deliberation() -> None:
    voted = domain.Participation(CAPSO, 200_000, "2026-014", date(2026, 3, 12))
    assert domain.exceeds(203_171, voted)
    assert not domain.exceeds(200_000, voted)
    assert not domain.exceeds(203_171, None)


# Versions and configuration


def test_compare_lists_leavers_once_with_zero() -> None:
    lines = compare({"a": 60, "b": 40}, {"a": 50, "c": 50, "d": 0})
    assert [(line.key, line.amount, line.previous, line.change) for line in lines] == [
        ("a", 60, 50, 10),
        ("b", 40, 0, 40),
        ("c", 0, 50, -50),
    ]


def test_a_configuration_survives_its_json_round_trip() -> None:
    config = BudgetConfig(
        envelope=3_000_000,
        centre_key=CentreKey(Fraction(1, 2), CentreWeight.WORKSTATIONS),
        epci_key=EpciKey.FIXED_SHARES,
        funders=(
            Funder("Région", amount=1_500_000),
            Funder("FEDER", rate=Fraction(3, 10), ceiling=500_000),
            Funder("FEDER inv.", rate=Fraction(1, 2), base=Base(natures=(Nature.INVESTISSEMENT,))),
        ),
        network_lines=(
            domain.NetworkLine(
                "animation", "Animation du réseau", Nature.FONCTIONNEMENT, 1_200_000
            ),
        ),
        fixed_shares={CAPSO: Fraction(4, 5), CCPL: Fraction(1, 5)},
    )
    data = domain.config_to_json(config)
    assert data["envelope"] == "30000.00"
    assert data["centre_key"] == {"fixed_ratio": "0.5", "weight": "workstations"}
    assert domain.config_from_json(data) == config
