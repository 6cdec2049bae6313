"""Identity's main use cases, run on the fake unit of work (no PostgreSQL, no Kafka): who may
sign in, what a link and a session give, and whose access ends when the registry says so."""

import uuid
from datetime import timedelta

import pytest
from crnt_identity import handlers
from crnt_identity.domain import LinkNotValid, SessionEnded, digest
from crnt_identity.erasure import on_person_erased
from crnt_identity.keys import Vault
from crnt_identity.repository import IdentityRepository
from crnt_shared.auth import Actor, ActorKind, Role, person_id_for
from crnt_shared.contracts.identity import (
    AccessRevoked,
    PersonAdded,
    PersonRemoved,
    SigningKeyAnnounced,
)
from crnt_shared.contracts.registry import (
    AnimatorFacts,
    CentreFacts,
    MembershipApproved,
    MembershipWithdrawn,
    PersonErased,
)
from crnt_shared.errors import NotFound, RuleViolation
from crnt_shared.events import utcnow
from crnt_shared.person_erased import person_erased_data
from crnt_shared.testing import centre_facts, membership_event

from services.identity.tests.fakes import FakeIdentityRepository, IdentityWork, unit_of_work

#: The fake does what the handlers need of the repository.
_: type[IdentityRepository] = FakeIdentityRepository

PASSPHRASE = "a passphrase for the unit tests only"
POLICY = handlers.TokenPolicy(
    vault=Vault(PASSPHRASE), access_token_seconds=600, session_lifetime=timedelta(hours=12)
)
LEA = "lea.martin@agence.example.org"
CAMILLE = "camille.roux@lumbres.example"
AGENCY = Actor(ActorKind.SERVICE, "agency", "agency", frozenset({Role.AGENCY}))


async def with_key(repository: FakeIdentityRepository) -> None:
    command = handlers.MaintainKeys(
        passphrase=PASSPHRASE,
        rotation=timedelta(days=30),
        announce_ahead=timedelta(seconds=60),
        token_seconds=600,
    )
    await handlers.maintain_keys(command, unit_of_work(repository))


async def seeded(*emails: str) -> FakeIdentityRepository:
    repository = FakeIdentityRepository()
    roles = dict.fromkeys(emails, frozenset({Role.AGENCY}))
    await handlers.seed_people(handlers.SeedPeople(roles), unit_of_work(repository))
    await with_key(repository)
    return repository


async def member_centre(
    repository: FakeIdentityRepository, email: str = CAMILLE
) -> tuple[CentreFacts, AnimatorFacts]:
    """A centre that Camille Roux animates becomes a member, as the registry's event says."""
    facts = centre_facts("Cybercentre de Lumbres")
    camille = AnimatorFacts(id=uuid.uuid4(), name="Camille Roux", email=email)
    approved = membership_event(MembershipApproved, facts, [camille], previous="pending")
    await handlers.on_centre_status(approved, unit_of_work(repository))
    return facts, camille


async def signed_in(repository: FakeIdentityRepository, email: str) -> handlers.Grant:
    secret = await handlers.request_sign_in(
        handlers.RequestSignIn(email, "/budget"), unit_of_work(repository)
    )
    assert secret is not None
    return await handlers.redeem(handlers.Redeem(secret, POLICY), unit_of_work(repository))


async def test_the_first_key_signs_at_once_and_is_announced() -> None:
    repository = FakeIdentityRepository()
    uow = unit_of_work(repository)
    await handlers.maintain_keys(
        handlers.MaintainKeys(PASSPHRASE, timedelta(days=30), timedelta(seconds=60), 600), uow
    )
    [key] = repository.keys
    assert key.signs_from == key.created_at
    assert [type(e) for e in uow.events] == [SigningKeyAnnounced]
    assert key.kid in repository.recorded_keys
    assert uow.committed


async def test_seeding_twice_keeps_one_person_and_a_removed_one_stays_removed() -> None:
    repository = await seeded(LEA)
    person_id = person_id_for(LEA)
    await handlers.remove_person(handlers.RemovePerson(person_id, AGENCY), unit_of_work(repository))
    roles = {LEA: frozenset({Role.AGENCY})}
    await handlers.seed_people(handlers.SeedPeople(roles), unit_of_work(repository))
    person = repository.people_by_id[person_id]
    assert person.removed
    assert not person.roles
    assert len(repository.people_by_id) == 1


async def test_a_mailed_link_gives_a_session_once() -> None:
    repository = await seeded(LEA)
    command = handlers.RequestSignIn(LEA.upper(), "/budget")
    secret = await handlers.request_sign_in(command, unit_of_work(repository))
    assert secret is not None
    assert list(repository.links) == [digest(secret)]  # only its digest is kept

    uow = unit_of_work(repository)
    grant = await handlers.redeem(handlers.Redeem(secret, POLICY), uow)
    assert uow.committed
    assert grant.return_to == "/budget"
    assert grant.standing.roles == {Role.AGENCY}
    assert grant.refresh_token is not None
    assert digest(grant.refresh_token) in repository.sessions
    with pytest.raises(LinkNotValid):
        await handlers.redeem(handlers.Redeem(secret, POLICY), unit_of_work(repository))


async def test_an_unknown_address_gets_no_link_and_nothing_is_written() -> None:
    repository = await seeded(LEA)
    uow = unit_of_work(repository)
    assert await handlers.request_sign_in(handlers.RequestSignIn(CAMILLE, None), uow) is None
    assert uow.untouched
    assert not repository.links


async def test_an_animator_of_a_member_centre_signs_in_as_animator() -> None:
    repository = await seeded(LEA)
    facts, _ = await member_centre(repository, CAMILLE.upper())

    grant = await signed_in(repository, CAMILLE)
    assert grant.standing.roles == {Role.ANIMATOR}
    assert grant.standing.centres == {facts.id}
    assert grant.standing.display_name == "Camille Roux"


async def test_a_centre_that_leaves_ends_its_animators_sessions() -> None:
    repository = await seeded(LEA)
    facts, camille = await member_centre(repository)
    grant = await signed_in(repository, CAMILLE)
    assert grant.refresh_token is not None

    withdrawn = membership_event(
        MembershipWithdrawn,
        facts.model_copy(update={"status": "withdrawn"}),
        [camille],
        previous="member",
    )
    uow = unit_of_work(repository)
    await handlers.on_centre_status(withdrawn, uow)
    [revoked] = uow.events
    assert isinstance(revoked, AccessRevoked)
    assert revoked.data.reason == "centre_left"
    assert not uow.committed  # the consumer commits, with the inbox rows
    with pytest.raises(SessionEnded):
        await handlers.refresh(
            handlers.Refresh(grant.refresh_token, POLICY), unit_of_work(repository)
        )


async def test_the_agency_adds_and_removes_a_person() -> None:
    repository = await seeded(LEA)
    uow = unit_of_work(repository)
    added = await handlers.add_person(
        handlers.AddPerson(CAMILLE, "Camille Roux", frozenset({Role.COPIL}), AGENCY), uow
    )
    assert [type(e) for e in uow.events] == [PersonAdded]
    assert added.roles == {Role.COPIL}
    grant = await signed_in(repository, CAMILLE)

    uow = unit_of_work(repository)
    await handlers.remove_person(handlers.RemovePerson(added.id, AGENCY), uow)
    assert [type(e) for e in uow.events] == [PersonRemoved, AccessRevoked]
    assert added.id in repository.revocations
    session = repository.sessions[digest(grant.refresh_token or "")]
    assert session.ended_at is not None
    with pytest.raises(NotFound):
        await handlers.remove_person(
            handlers.RemovePerson(added.id, AGENCY), unit_of_work(repository)
        )


async def test_nobody_removes_themselves() -> None:
    repository = await seeded(LEA)
    lea = Actor(ActorKind.PERSON, str(person_id_for(LEA)), "Lea", frozenset({Role.AGENCY}))
    uow = unit_of_work(repository)
    with pytest.raises(RuleViolation):
        await handlers.remove_person(handlers.RemovePerson(person_id_for(LEA), lea), uow)
    assert uow.untouched


async def test_an_erased_animator_is_forgotten_with_their_sessions() -> None:
    repository = await seeded(LEA)
    facts, camille = await member_centre(repository)
    await signed_in(repository, CAMILLE)
    repository.published_addresses = [CAMILLE, LEA]
    erased = PersonErased.create(
        source="/crnt/registry",
        subject=str(camille.id),
        data=person_erased_data(camille.id, facts.id, CAMILLE, utcnow()),
    )
    uow: IdentityWork = unit_of_work(repository)
    await on_person_erased(erased, uow)
    assert [type(e) for e in uow.events] == [AccessRevoked]
    assert await repository.person_by_email(CAMILLE) is None
    assert await repository.animations(CAMILLE) == []
    assert all(s.person_id != person_id_for(CAMILLE) for s in repository.sessions.values())
    assert repository.published_addresses == [LEA]
    assert await repository.person_by_email(LEA) is not None
