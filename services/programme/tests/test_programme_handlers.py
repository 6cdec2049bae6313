"""The programme's main use cases, run on the fake unit of work (no PostgreSQL, no Kafka): what
each one writes, publishes and commits, and what it refuses."""

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from crnt_programme import commands, handlers
from crnt_programme.domain import Action, ActionStatus, Axis, Centre, InvalidAction, ProgrammeStatus
from crnt_programme.repository import ProgrammeRepository
from crnt_shared.contracts.programme import (
    ActionLeadMissing,
    ActionProposed,
    ActionStatusChanged,
    ActionUpdated,
    ProgrammeValidated,
)
from crnt_shared.contracts.registry import (
    ApplicationSubmitted,
    ApplicationSubmittedData,
    MembershipWithdrawn,
)
from crnt_shared.errors import NotFound, RuleViolation
from crnt_shared.events import utcnow
from crnt_shared.testing import centre_facts, membership_event

from services.programme.tests.fakes import FakeProgrammeRepository, ProgrammeWork, unit_of_work

YEAR = 2025
LUMBRES = Centre(uuid4(), "Cyber-centre de Lumbres", "member")
ARQUES = Centre(uuid4(), "EPN d'Arques", "member")
#: The fake does what the handlers need of the repository.
_: type[ProgrammeRepository] = FakeProgrammeRepository


def programme(*centres: Centre) -> FakeProgrammeRepository:
    known = centres or (LUMBRES, ARQUES)
    return FakeProgrammeRepository(centres_by_id={centre.id: centre for centre in known})


def proposal(lead: UUID = LUMBRES.id, *participants: UUID, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "year": YEAR,
        "axis": Axis.ATELIERS,
        "title": "Ateliers « premiers pas »",
        "description": "Huit ateliers d'initiation dans les centres du réseau.",
        "lead_centre_id": lead,
        "participant_ids": participants,
        "starts_on": date(YEAR, 3, 1),
        "ends_on": date(YEAR, 6, 30),
        "estimated_cost_cents": 150_000,
        "by": "Agence",
    }
    return commands.ProposeAction(**(values | changes))


async def proposed(repository: FakeProgrammeRepository, *participants: UUID) -> Action:
    return await handlers.propose_action(
        proposal(LUMBRES.id, *participants), unit_of_work(repository)
    )


async def submit(repository: FakeProgrammeRepository) -> ProgrammeWork:
    uow = unit_of_work(repository)
    await handlers.submit_programme(commands.SubmitProgramme(YEAR, by="Agence"), uow)
    return uow


async def test_the_agency_proposes_a_draft_action() -> None:
    repository = programme()
    uow = unit_of_work(repository)

    action = await handlers.propose_action(proposal(LUMBRES.id, ARQUES.id, LUMBRES.id), uow)

    assert action.status is ActionStatus.PROPOSED
    assert action.participant_ids == (ARQUES.id,), "without the lead, once each"
    assert repository.programmes[YEAR].status is ProgrammeStatus.DRAFT, "created with it"
    (event,) = uow.events
    assert isinstance(event, ActionProposed)
    assert event.subject == str(action.id)
    assert event.data.action.estimated_cost == "1500.00"
    assert [p.centre_name for p in event.data.action.participants] == [LUMBRES.name, ARQUES.name]
    assert uow.committed
    assert [line.entry.kind for line in repository.history] == ["proposed"]


async def test_only_member_centres_lead_an_action() -> None:
    suspended = Centre(uuid4(), "Médiathèque de Saint-Omer", "suspended")
    repository = programme(LUMBRES, suspended)
    uow = unit_of_work(repository)
    with pytest.raises(InvalidAction, match="unknown centre"):
        await handlers.propose_action(proposal(uuid4()), uow)
    with pytest.raises(RuleViolation, match=r"Saint-Omer \(suspended\)"):
        await handlers.propose_action(proposal(LUMBRES.id, suspended.id), uow)
    assert uow.untouched
    assert repository.actions_by_id == {}


async def test_an_action_is_checked_before_anything_is_written() -> None:
    repository = programme()
    uow = unit_of_work(repository)
    with pytest.raises(InvalidAction):
        await handlers.propose_action(proposal(ends_on=date(YEAR, 1, 1)), uow)
    with pytest.raises(InvalidAction, match="negative"):
        await handlers.propose_action(proposal(estimated_cost_cents=-1), uow)
    assert uow.untouched
    assert repository.programmes == {}


async def test_the_agency_submits_the_programme_then_no_action_is_added() -> None:
    repository = programme()
    await proposed(repository)

    uow = await submit(repository)

    assert uow.committed
    assert repository.programmes[YEAR].status is ProgrammeStatus.SUBMITTED
    assert repository.programme_history == [
        (YEAR, ProgrammeStatus.DRAFT, ProgrammeStatus.SUBMITTED, "Agence")
    ]
    with pytest.raises(RuleViolation, match="wait for the steering committee"):
        await proposed(repository)
    with pytest.raises(RuleViolation, match="is submitted; it can be submitted only when"):
        await submit(repository)


async def test_a_programme_is_submitted_once_it_has_an_action() -> None:
    with pytest.raises(NotFound, match="no 2025 programme yet"):
        await submit(programme())
    repository = programme()
    await repository.programme_for_update_or_new(YEAR)  # a draft without actions
    with pytest.raises(RuleViolation, match="no action that is not cancelled"):
        await submit(repository)


async def test_the_committee_validates_the_submitted_programme() -> None:
    repository = programme()
    first = await proposed(repository, ARQUES.id)
    second = await handlers.propose_action(
        proposal(ARQUES.id, axis=Axis.FORMATION, estimated_cost_cents=80_000),
        unit_of_work(repository),
    )
    await submit(repository)
    uow = unit_of_work(repository)
    command = commands.ValidateProgramme(
        YEAR,
        deciding_body="Comité de pilotage",
        decided_on=date(YEAR, 2, 10),
        decision_reference="COPIL-2025-01",
        by="COPIL",
    )

    version = await handlers.validate_programme(command, uow)

    assert version.version == 1
    assert repository.versions == [version]
    assert repository.programmes[YEAR].status is ProgrammeStatus.VALIDATED
    assert repository.programmes[YEAR].version == 1
    *changes, validated = uow.events
    assert [type(event) for event in changes] == [ActionStatusChanged, ActionStatusChanged]
    assert {event.subject for event in changes} == {str(first.id), str(second.id)}
    assert isinstance(validated, ProgrammeValidated)
    assert validated.data.total == "2300.00"
    assert validated.data.totals_by_axis["ateliers"] == "1500.00"
    assert validated.data.totals_by_axis["formation"] == "800.00"
    assert [action.status for action in await repository.actions(YEAR)] == [
        ActionStatus.PLANNED,
        ActionStatus.PLANNED,
    ]
    assert version.snapshot["decision_reference"] == "COPIL-2025-01"
    assert uow.commits == 1


async def test_a_draft_programme_is_not_validated() -> None:
    repository = programme()
    await proposed(repository)
    uow = unit_of_work(repository)
    command = commands.ValidateProgramme(YEAR, "Comité de pilotage", None, None, by="COPIL")
    with pytest.raises(RuleViolation, match="is draft; it can be validated only when submitted"):
        await handlers.validate_programme(command, uow)
    assert uow.untouched


async def test_a_withdrawn_lead_leaves_its_action_needing_a_lead() -> None:
    repository = programme()
    action = await proposed(repository, ARQUES.id)
    facts = centre_facts(LUMBRES.name, status="withdrawn", id=LUMBRES.id)
    event = membership_event(MembershipWithdrawn, facts, previous="member")
    uow = unit_of_work(repository)

    await handlers.on_membership_changed(event, uow)

    assert repository.centres_by_id[LUMBRES.id].status == "withdrawn"
    after = repository.actions_by_id[action.id]
    assert after.lead_centre_id is None
    assert after.needs_lead
    updated, missing = uow.events
    assert isinstance(updated, ActionUpdated)
    assert updated.data.changed == ["lead_centre_id", "needs_lead"]
    assert isinstance(missing, ActionLeadMissing)
    assert missing.data.previous_lead.centre_id == LUMBRES.id
    assert not uow.committed, "the consumer commits, with its inbox row"


async def test_a_known_centre_keeps_its_status_when_it_applies_again() -> None:
    repository = programme()
    facts = centre_facts("Cyber-centre de Lumbres (nouveau nom)", status="pending", id=LUMBRES.id)
    data = ApplicationSubmittedData(
        application_id=uuid4(), channel="form", submitted_at=utcnow(), centre=facts, animators=[]
    )
    event = ApplicationSubmitted.create(source="/crnt/registry", subject=str(facts.id), data=data)

    await handlers.on_centre_known(event, unit_of_work(repository))

    centre = repository.centres_by_id[LUMBRES.id]
    assert centre.name == "Cyber-centre de Lumbres (nouveau nom)"
    assert centre.status == "member"
