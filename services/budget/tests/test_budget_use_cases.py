"""The recalculation's pure steps without Kafka or PostgreSQL (``make unit``): a configured
year's dotations, financing plan and EPCI parts from the sample body, as a version computes
them, and the events a new version publishes."""

import dataclasses
import uuid
from datetime import UTC, date, datetime
from fractions import Fraction

from crnt_budget import domain
from crnt_budget.handlers import Members, newly_exceeded, version_events
from crnt_budget.repository import (
    CauseRow,
    CentreShareRow,
    EpciShareRow,
    MemberClassRow,
    VersionRow,
)
from crnt_budget.testing import CAPSO, CCPL, budget_body
from crnt_shared.contracts.budget import (
    CentreShareChanged,
    ParticipationExceeded,
    SharesRecalculated,
)

APPROVED = "fr.crnt.registry.membership.approved.v1"


def members() -> Members:
    """Three members of the CAPSO (4, 4 and 8 workstations) and one of the CCPL (2)."""
    return Members(
        [
            MemberClassRow(4, CAPSO[0], CAPSO[1], 2),
            MemberClassRow(8, CAPSO[0], CAPSO[1], 1),
            MemberClassRow(2, CCPL[0], CCPL[1], 1),
        ]
    )


def test_members_are_counted_by_class_of_workstations_and_by_epci() -> None:
    counted = members()
    assert counted.classes == {4: 2, 8: 1, 2: 1}
    assert counted.by_epci == {CAPSO[0]: 3, CCPL[0]: 1}
    assert counted.count == 4


def test_a_configured_year_gives_dotations_a_balanced_plan_and_the_epci_parts() -> None:
    config = domain.config_from_json(budget_body(epci_key="population"))
    counted = members()
    split = domain.split_by_class(config.envelope, config.centre_key, counted.classes)
    dotations = split.classes(None if not split.tied_cents else "cut")
    allocated = split.tied_cents + sum(
        dotations[w].base * count for w, count in counted.classes.items()
    )
    # Half of 30,000.00 equally among the 4 members, half by their 18 workstations: 7,083.33⅓
    # for 4, 10,416.66⅔ for 8, 5,416.66⅔ for 2; the two cents left go to the larger remainders.
    assert {w: d.base for w, d in dotations.items()} == {4: 708_333, 8: 1_041_667, 2: 541_667}
    assert split.tied_cents == 0
    assert allocated == config.envelope == 3_000_000

    expenses = domain.expenses_of(config, [], allocated)
    plan = domain.financing_plan(expenses, config.funders, programme_known=False)
    assert plan.status is domain.PlanStatus.AWAITING_PROGRAMME
    assert (plan.estimated, plan.granted, plan.reste_a_charge) == (3_000_000, 1_500_000, 1_500_000)

    payers = [
        domain.Payer(CAPSO[0], CAPSO[1], CAPSO[2], counted.by_epci[CAPSO[0]]),
        domain.Payer(CCPL[0], CCPL[1], CCPL[2], counted.by_epci[CCPL[0]]),
    ]
    parts = domain.epci_split(plan.reste_a_charge, config.epci_key, payers, {}, 2031)
    assert parts == {CAPSO[0]: 1_219_026, CCPL[0]: 280_974}  # 81.27 % / 18.73 %
    assert sum(parts.values()) == plan.reste_a_charge

    as_kept = domain.plan_to_json(plan)
    assert as_kept["reste_a_charge"] == as_kept["epci_contribution"] == "15000.00"
    assert as_kept["gap"] == "0.00"


def test_fixed_shares_split_the_reste_a_charge_exactly() -> None:
    payers = [domain.Payer(CAPSO[0], CAPSO[1], None, 3), domain.Payer(CCPL[0], CCPL[1], None, 1)]
    shares = {CAPSO[0]: Fraction(2, 3), CCPL[0]: Fraction(1, 3)}
    parts = domain.epci_split(100, domain.EpciKey.FIXED_SHARES, payers, shares, 2031)
    assert parts == {CAPSO[0]: 67, CCPL[0]: 33}


def version(number: int = 2) -> VersionRow:
    financing = domain.plan_to_json(
        domain.financing_plan(
            domain.expenses_of(domain.config_from_json(budget_body()), [], 3_000_000),
            domain.config_from_json(budget_body()).funders,
            programme_known=True,
        )
    )
    return VersionRow(
        year=2031,
        version=number,
        computed_at=datetime(2031, 3, 1, tzinfo=UTC),
        cause={},
        configuration=budget_body(),
        financing=financing,
        envelope_cents=3_000_000,
        allocated_cents=3_000_000,
        epci_contribution_cents=1_500_000,
        member_count=2,
        changed_centres=2,
    )


def share(centre_id: uuid.UUID, amount: int, previous: int) -> CentreShareRow:
    return CentreShareRow(centre_id, "EPN", CAPSO[0], 4, True, amount, previous)


def test_a_version_publishes_its_summary_then_one_event_per_centre_that_moved() -> None:
    joined, moved, still = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    causes = [CauseRow(uuid.uuid4(), APPROVED, str(joined))]
    centres = [
        share(joined, 1_500_000, 0),
        share(moved, 1_500_000, 3_000_000),
        share(still, 0, 0),
    ]
    epcis = [EpciShareRow(CAPSO[0], CAPSO[1], CAPSO[2], 2, 1_500_000, 1_000_000)]

    summary, *per_centre = version_events(version(), centres, epcis, causes, None)

    assert isinstance(summary, SharesRecalculated)
    assert summary.subject == "2031"
    assert summary.data.cause.event_count == 1
    assert summary.data.epcis[0].change == "5000.00"
    assert summary.data.financing.gap == "0.00"
    assert [event.subject for event in per_centre] == [str(joined), str(moved)]
    assert all(isinstance(event, CentreShareChanged) for event in per_centre)
    own, others = per_centre[0].data.cause, per_centre[1].data.cause
    assert [c.type for c in own.events] == [APPROVED]  # its own approval
    assert others.events == []  # it moved because another joined
    assert others.types == [APPROVED]
    assert per_centre[1].data.change == "-15000.00"


def test_an_exceeded_participation_is_told_once_per_change() -> None:
    asked = EpciShareRow(
        CAPSO[0],
        CAPSO[1],
        CAPSO[2],
        3,
        1_200_000,
        1_000_000,
        voted_cents=1_000_000,
        deliberation_number="2031-12",
        deliberation_date=date(2031, 1, 20),
        exceeds_voted=True,
    )
    event = newly_exceeded(version(), [asked], {})
    assert isinstance(event, ParticipationExceeded)
    [epci] = event.data.epcis
    assert (epci.voted, epci.asked, epci.deliberation_number) == ("10000.00", "12000.00", "2031-12")

    assert newly_exceeded(version(3), [asked], {CAPSO[0]: asked}) is None  # nothing new
    more = dataclasses.replace(asked, amount_cents=1_300_000)
    assert newly_exceeded(version(3), [more], {CAPSO[0]: asked}) is not None
