"""The budget's rules: money, the largest-remainder allocation, the keys, the financing plan."""

import random
from fractions import Fraction

import pytest
from crnt_budget import domain
from crnt_budget.domain import (
    BudgetConfig,
    CentreKey,
    CentreWeight,
    Epci,
    EpciKey,
    Funder,
    InvalidAmount,
    Member,
    PlanStatus,
    allocate,
    centre_shares,
    compare,
    epci_shares,
    financing_plan,
    format_cents,
    parse_cents,
    parse_ratio,
)
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


# EPCI key


def test_epci_key_by_population_gives_the_reference_split() -> None:
    # CAPSO 104,937 and CCPL 24,187 inhabitants: 81.27 % / 18.73 %.
    epcis = [Epci(CAPSO, 104_937), Epci(CCPL, 24_187)]
    shares = epci_shares(1_200_000, EpciKey.POPULATION, epcis, [])
    assert shares == {CAPSO: 975_221, CCPL: 224_779}  # 81.27 % / 18.73 %
    assert sum(shares.values()) == 1_200_000


def test_epci_key_by_member_centres_leaves_an_epci_without_member_out() -> None:
    epcis = [Epci(CAPSO, 104_937), Epci(CCPL, 24_187), Epci("200000000", 1000)]
    group = [*members(1, 1, 1), Member("z", CCPL, 3)]
    shares = epci_shares(1000, EpciKey.MEMBER_CENTRES, epcis, group)
    assert shares == {CAPSO: 750, CCPL: 250, "200000000": 0}


def test_epci_key_by_member_centres_with_no_member_anywhere_splits_equally() -> None:
    epcis = [Epci(CAPSO, 1), Epci(CCPL, 1)]
    assert epci_shares(1001, EpciKey.MEMBER_CENTRES, epcis, []) == {CAPSO: 501, CCPL: 500}


def test_epci_with_an_unknown_population_weighs_nothing() -> None:
    shares = epci_shares(100, EpciKey.POPULATION, [Epci(CAPSO, None), Epci(CCPL, 10)], [])
    assert shares == {CAPSO: 0, CCPL: 100}


# Financing plan


def test_a_plan_awaits_the_programme_before_its_expenses_are_known() -> None:
    plan = financing_plan([Funder("Région", amount=1_500_000)], 1_200_000, None)
    assert plan.status is PlanStatus.AWAITING_PROGRAMME
    assert (plan.expenses, plan.resources, plan.gap) == (0, 2_700_000, 2_700_000)


def test_a_balanced_plan() -> None:
    funders = [Funder("Région", amount=1_500_000), Funder("FEDER", rate=Fraction(1, 2))]
    plan = financing_plan(funders, 500_000, {"communication": 1_000_000, "ateliers": 3_000_000})
    assert plan.funders == [("Région", 1_500_000), ("FEDER", 2_000_000)]
    assert plan.status is PlanStatus.BALANCED
    assert plan.gap == 0


def test_a_rate_is_capped_by_its_ceiling_and_rounded_down() -> None:
    assert Funder("FEDER", rate=Fraction(1, 2), ceiling=1_000).contribution(10_000) == 1_000
    assert Funder("FEDER", rate=Fraction(1, 3)).contribution(100) == 33


def test_a_deficit_and_a_surplus_are_reported() -> None:
    deficit = financing_plan([], 100, {"formation": 150})
    assert (deficit.status, deficit.gap) == (PlanStatus.DEFICIT, -50)
    surplus = financing_plan([], 200, {"formation": 150})
    assert (surplus.status, surplus.gap) == (PlanStatus.SURPLUS, 50)


def test_a_funder_is_either_fixed_or_a_rate() -> None:
    with pytest.raises(ValueError, match="either"):
        Funder("x")
    with pytest.raises(ValueError, match="either"):
        Funder("x", amount=1, rate=Fraction(1, 2))
    with pytest.raises(ValueError, match="ceiling"):
        Funder("x", amount=1, ceiling=2)


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
        epci_contribution=1_200_000,
        epci_key=EpciKey.POPULATION,
        funders=(
            Funder("Région", amount=1_500_000),
            Funder("FEDER", rate=Fraction(3, 10), ceiling=500_000),
        ),
    )
    data = domain.config_to_json(config)
    assert data["envelope"] == "30000.00"
    assert data["centre_key"] == {"fixed_ratio": "0.5", "weight": "workstations"}
    assert domain.config_from_json(data) == config
