"""The registry's main use cases, run on the fake unit of work (no PostgreSQL, no Kafka): what
each one writes, publishes and commits, and what it refuses."""

from typing import Any
from uuid import UUID, uuid4

import pytest
from crnt_registry import commands, handlers
from crnt_registry.domain import (
    AGENCY_ACCOUNT,
    AnimatorDraft,
    CentreDraft,
    Confirmation,
    IllegalTransition,
    MembershipAction,
    MembershipStatus,
)
from crnt_registry.repository import Epci, RegistryRepository
from crnt_shared.contracts.registry import (
    AnimatorAdded,
    ApplicationSubmitted,
    MembershipApproved,
    MembershipRejected,
    MembershipWithdrawn,
    PersonErased,
)
from crnt_shared.errors import Conflict, Invalid, NotFound, RuleViolation

from services.registry.tests.fakes import FakeRegistryRepository, RegistryWork, unit_of_work
from services.registry.tests.samples import lumbres

CCPL = Epci("246201016", "CC du Pays de Lumbres", 24187, ["62534"])
#: The fake does what the handlers need of the repository.
_: type[RegistryRepository] = FakeRegistryRepository


def draft(**changes: Any) -> CentreDraft:
    return CentreDraft.model_validate(lumbres(**changes))


CAMILLE = AnimatorDraft(name="Camille Martin", email="camille.martin@lumbres.example")


def registry() -> FakeRegistryRepository:
    return FakeRegistryRepository(epcis={CCPL.siren: CCPL})


async def submitted(
    repository: FakeRegistryRepository, *, submitter: Any = AGENCY_ACCOUNT, **changes: Any
) -> commands.Submitted:
    command = commands.SubmitApplication(draft(**changes), [CAMILLE], submitter=submitter)
    return await handlers.submit_and_commit(command, unit_of_work(repository))


async def decide(
    repository: FakeRegistryRepository,
    application_id: UUID,
    action: MembershipAction,
    reason: str | None = None,
) -> RegistryWork:
    uow = unit_of_work(repository)
    command = commands.DecideApplication(application_id, action, "Agence", reason)
    await handlers.decide_application(command, uow)
    return uow


async def member(repository: FakeRegistryRepository) -> UUID:
    application = (await submitted(repository)).application
    await decide(repository, application.id, MembershipAction.APPROVE)
    return application.centre_id


async def test_the_agency_submits_an_application_with_its_event() -> None:
    repository = registry()
    uow = unit_of_work(repository)
    command = commands.SubmitApplication(draft(), [CAMILLE], submitter=AGENCY_ACCOUNT)

    result = await handlers.submit_and_commit(command, uow)

    assert result.centre.status is MembershipStatus.PENDING
    assert result.centre.epci_siren == CCPL.siren, "resolved from the commune"
    assert result.application.confirmation is Confirmation.NOT_REQUIRED
    assert [a.email for a in result.animators] == [CAMILLE.email]
    assert result.animators[0].confirmed
    (event,) = uow.events
    assert isinstance(event, ApplicationSubmitted)
    assert event.subject == str(result.centre.id)
    assert event.data.confirmation_required is False
    assert event.data.confirmation_requested == []
    assert uow.commits == 1
    assert [(t.action, t.status) for t in repository.history] == [
        ("submit", MembershipStatus.PENDING)
    ]


async def test_an_anonymous_application_awaits_its_addresses() -> None:
    repository = registry()

    result = await submitted(repository, submitter=None)

    assert result.application.confirmation is Confirmation.AWAITING
    assert result.application.expires_at is not None
    assert not result.animators[0].confirmed
    assert set(repository.confirmation_requests) == {CAMILLE.email}


async def test_an_application_needs_a_registered_epci_and_a_free_pivot() -> None:
    empty = FakeRegistryRepository()
    uow = unit_of_work(empty)
    with pytest.raises(Invalid, match="no registered EPCI lists commune 62534"):
        await handlers.submit_application(
            commands.SubmitApplication(draft(), [CAMILLE], submitter=AGENCY_ACCOUNT), uow
        )
    assert uow.untouched
    assert empty.centres == {}

    repository = registry()
    first = await submitted(repository)
    with pytest.raises(Conflict, match="already pending, member or suspended") as refused:
        await submitted(repository)
    assert refused.value.details == {"centre_id": str(first.centre.id)}


async def test_the_agency_approves_an_application() -> None:
    repository = registry()
    application = (await submitted(repository)).application

    uow = await decide(repository, application.id, MembershipAction.APPROVE)

    (event,) = uow.events
    assert isinstance(event, MembershipApproved)
    assert (event.data.previous_status, event.data.status) == ("pending", "member")
    assert [a.email for a in event.data.animators] == [CAMILLE.email]
    assert uow.committed
    centre = await repository.centre(application.centre_id)
    assert centre is not None
    assert centre.status is MembershipStatus.MEMBER
    assert centre.member_since is not None
    assert repository.applications[application.id].status == "approved"


async def test_an_unknown_application_is_not_found() -> None:
    with pytest.raises(NotFound, match="no application"):
        await decide(registry(), uuid4(), MembershipAction.APPROVE)


async def test_the_agency_rejects_an_application_and_cannot_approve_it_then() -> None:
    repository = registry()
    application = (await submitted(repository)).application

    uow = await decide(repository, application.id, MembershipAction.REJECT, "Hors territoire")

    (event,) = uow.events
    assert isinstance(event, MembershipRejected)
    assert event.data.reason == "Hors territoire"
    assert repository.applications[application.id].reason == "Hors territoire"
    with pytest.raises(IllegalTransition, match="rejected"):
        await decide(repository, application.id, MembershipAction.APPROVE)


async def test_the_agency_adds_an_animator_to_a_member_centre() -> None:
    repository = registry()
    centre_id = await member(repository)
    uow = unit_of_work(repository)
    colleague = AnimatorDraft(name="Dominique Petit", email="dominique.petit@lumbres.example")

    animator = await handlers.add_animator(commands.AddAnimator(centre_id, colleague), uow)

    assert animator.confirmed, "entered by the agency"
    (event,) = uow.events
    assert isinstance(event, AnimatorAdded)
    assert event.data.animator.email == colleague.email
    assert uow.committed
    assert len(await repository.animators(centre_id)) == 2


async def test_an_animator_is_added_once_and_never_to_a_closed_centre() -> None:
    repository = registry()
    centre_id = await member(repository)
    again = AnimatorDraft(name="Camille", email=CAMILLE.email.upper())
    uow = unit_of_work(repository)
    with pytest.raises(Conflict, match="has the email"):
        await handlers.add_animator(commands.AddAnimator(centre_id, again), uow)
    assert uow.untouched

    closed = registry()
    application = (await submitted(closed)).application
    await decide(closed, application.id, MembershipAction.REJECT, "Doublon")
    with pytest.raises(RuleViolation, match="rejected"):
        await handlers.add_animator(
            commands.AddAnimator(application.centre_id, again), unit_of_work(closed)
        )


async def test_the_agency_withdraws_a_member_centre() -> None:
    repository = registry()
    centre_id = await member(repository)
    uow = unit_of_work(repository)
    command = commands.ChangeMembership(
        centre_id, MembershipAction.WITHDRAW, "Agence", "Fermeture du lieu"
    )

    centre = await handlers.change_membership(command, uow)

    assert centre.status is MembershipStatus.WITHDRAWN
    (event,) = uow.events
    assert isinstance(event, MembershipWithdrawn)
    assert (event.data.previous_status, event.data.reason) == ("member", "Fermeture du lieu")
    assert uow.committed
    assert repository.history[-1].action == "withdraw"


async def test_a_pending_centre_cannot_be_withdrawn() -> None:
    repository = registry()
    centre_id = (await submitted(repository)).centre.id
    uow = unit_of_work(repository)
    command = commands.ChangeMembership(centre_id, MembershipAction.WITHDRAW, "Agence", "Erreur")
    with pytest.raises(IllegalTransition, match="pending"):
        await handlers.change_membership(command, uow)
    assert uow.untouched


async def test_the_agency_approves_many_applications_at_once_or_none() -> None:
    repository = registry()
    first = (await submitted(repository)).application
    second = (await submitted(repository, pivot="24620101600085", nom="EPN de Lumbres")).application
    unknown = uuid4()
    uow = unit_of_work(repository)
    with pytest.raises(NotFound, match="nothing was approved"):
        await handlers.approve_applications(
            commands.ApproveApplications([first.id, unknown], "Agence"), uow
        )
    assert uow.untouched

    centres = await handlers.approve_applications(
        commands.ApproveApplications([first.id, second.id, first.id], "Agence"), uow
    )

    assert [c.status for c in centres] == [MembershipStatus.MEMBER, MembershipStatus.MEMBER]
    assert [type(event) for event in uow.events] == [MembershipApproved, MembershipApproved]
    assert uow.commits == 1
    assert {repository.applications[a.id].status for a in (first, second)} == {"approved"}
    with pytest.raises(Conflict, match="cannot be approved") as refused:
        await handlers.approve_applications(
            commands.ApproveApplications([second.id], "Agence"), unit_of_work(repository)
        )
    assert refused.value.details["errors"][0]["field"] == "application_ids.0"


async def test_the_agency_erases_an_animator_of_a_withdrawn_centre_once() -> None:
    repository = registry()
    centre_id = await member(repository)
    (camille,) = await repository.animators(centre_id)
    erase = commands.EraseAnimator(centre_id, camille.id)
    with pytest.raises(Conflict, match="The centre is member") as refused:
        await handlers.erase_animator(erase, unit_of_work(repository))
    assert refused.value.details == {"current_status": "member"}
    withdraw = commands.ChangeMembership(
        centre_id, MembershipAction.WITHDRAW, "Agence", "Fermeture"
    )
    await handlers.change_membership(withdraw, unit_of_work(repository))
    uow = unit_of_work(repository)

    erased = await handlers.erase_animator(erase, uow)

    assert erased.now
    (event,) = uow.events
    assert isinstance(event, PersonErased)
    assert event.data.animator_id == camille.id
    assert CAMILLE.email not in event.to_json().decode(), "the event names no address"
    (after,) = await repository.animators(centre_id)
    assert after.email != CAMILLE.email
    assert after.name != CAMILLE.name
    again = unit_of_work(repository)
    assert not (await handlers.erase_animator(erase, again)).now
    assert again.untouched
