"""Identity's use cases, each in one unit of work: the state change and its events, or nothing.

A sign-in secret or a refresh token is returned to the caller (the API mails the one, answers
with the other) and only its digest is written: never to the outbox, never to a log.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog
from crnt_shared.auth import Actor, Role, issue_token, person_id_for
from crnt_shared.contracts.identity import (
    AccessRevoked,
    AccessRevokedData,
    PersonAdded,
    PersonData,
    PersonRemoved,
    SigningKeyAnnounced,
    SigningKeyData,
    SigningKeyRetired,
    SigningKeyRetiredData,
)
from crnt_shared.contracts.registry import (
    AnimatorRemoved,
)
from crnt_shared.db import AbstractUnitOfWork
from crnt_shared.errors import NotFound, RuleViolation
from crnt_shared.events import Event, utcnow

from crnt_identity import keys
from crnt_identity.domain import (
    LinkNotValid,
    Person,
    SessionEnded,
    Standing,
    digest,
    display_name_from,
    link_expires_at,
    new_secret,
    normalise_email,
    standing,
)
from crnt_identity.repository import IdentityRepository

log = structlog.get_logger(__name__)

SOURCE = "/crnt/identity"
MEMBER = "member"

#: The unit of work of identity's handlers: the real one, or a fake in the unit tests.
IdentityUnitOfWork = AbstractUnitOfWork[IdentityRepository]


@dataclass(frozen=True)
class TokenPolicy:
    """How tokens and sessions are made (from the settings)."""

    vault: keys.Vault
    access_token_seconds: int
    session_lifetime: timedelta


@dataclass(frozen=True)
class Grant:
    """What a sign-in or a refresh hands back: the access token, and a refresh token on sign-in."""

    access_token: str
    expires_in: int
    session_id: UUID
    standing: Standing
    refresh_token: str | None = None
    return_to: str | None = None


async def standing_of(repository: IdentityRepository, person: Person) -> Standing:
    return standing(person, await repository.animations(person.email))


async def _standing_of_id(repository: IdentityRepository, person_id: UUID) -> Standing:
    """The standing of a person that a link or a session names (it exists: never deleted)."""
    person = await repository.person(person_id)
    assert person is not None
    return await standing_of(repository, person)


async def _issue(
    repository: IdentityRepository, policy: TokenPolicy, who: Standing, session_id: UUID
) -> str:
    now = utcnow()
    key = keys.signing_key(await repository.signing_keys(), now)
    if key is None:
        raise RuntimeError("identity has no signing key yet: it creates one at start")
    return issue_token(
        policy.vault.private(key),
        key.kid,
        person_id=str(who.person.id),
        name=who.display_name,
        roles=[role.value for role in who.roles],
        centres=who.centres,
        session_id=str(session_id),
        issued_at=now,
        lifetime_seconds=policy.access_token_seconds,
    )


async def _grant(
    uow: IdentityUnitOfWork,
    policy: TokenPolicy,
    who: Standing,
    session_id: UUID,
    refresh_token: str | None = None,
    return_to: str | None = None,
) -> Grant:
    """A new access token for ``who`` in the session, handed back once the unit of work (the
    session's changes) is committed."""
    access_token = await _issue(uow.repository, policy, who, session_id)
    await uow.commit()
    return Grant(
        access_token,
        policy.access_token_seconds,
        session_id,
        who,
        refresh_token=refresh_token,
        return_to=return_to,
    )


async def revoke(
    uow: IdentityUnitOfWork, person_id: UUID, reason: str, cause: Event | None = None
) -> None:
    """End the person's sessions and have every service refuse the tokens issued until now."""
    repository = uow.repository
    now = utcnow()
    await repository.end_sessions_of(person_id, now, reason)
    await repository.record_revocation(person_id, now)
    data = AccessRevokedData(person_id=str(person_id), revoked_before=now, reason=reason)
    await uow.publish(
        AccessRevoked.create(source=SOURCE, subject=str(person_id), data=data, cause=cause)
    )


# People


def _person_data(person: Person, by: Actor, at: datetime) -> PersonData:
    """What the events about a person say of them (their roles before a removal)."""
    return PersonData(
        person_id=str(person.id),
        display_name=person.display_name,
        roles=sorted(person.roles),
        by=by.ref,
        at=at,
    )


@dataclass(frozen=True)
class SeedPeople:
    """``CRNT_AGENCY_EMAILS`` / ``CRNT_COPIL_EMAILS``: applied at every start, idempotently.
    An address the agency removed stays removed."""

    roles_by_email: Mapping[str, frozenset[Role]]


async def seed_people(command: SeedPeople, uow: IdentityUnitOfWork) -> None:
    repository = uow.repository
    for email, roles in sorted(command.roles_by_email.items()):
        address = normalise_email(email)
        person_id = person_id_for(address)
        if not await repository.insert_person(
            person_id, address, display_name_from(address), roles
        ):
            existing = await repository.person(person_id)
            if existing is not None and not existing.removed and not roles <= existing.roles:
                await repository.grant(person_id, roles, None)
    await uow.commit()


@dataclass(frozen=True)
class AddPerson:
    """The agency adds a person (or restores a removed one) with these roles."""

    email: str
    display_name: str
    roles: frozenset[Role]
    by: Actor


async def add_person(command: AddPerson, uow: IdentityUnitOfWork) -> Person:
    repository = uow.repository
    address = normalise_email(command.email)
    person_id = person_id_for(address)
    if not await repository.insert_person(person_id, address, command.display_name, command.roles):
        await repository.restore_person(person_id)
        await repository.grant(person_id, command.roles, command.display_name)
    person = await repository.person(person_id)
    assert person is not None
    data = _person_data(person, command.by, utcnow())
    await uow.publish(PersonAdded.create(source=SOURCE, subject=str(person_id), data=data))
    await uow.commit()
    return person


@dataclass(frozen=True)
class RemovePerson:
    """The agency removes a person: their sessions end and their tokens are refused."""

    person_id: UUID
    by: Actor


async def remove_person(command: RemovePerson, uow: IdentityUnitOfWork) -> None:
    repository = uow.repository
    person = await repository.person(command.person_id, lock=True)
    if person is None or person.removed:
        raise NotFound(f"There is no person {command.person_id}: list them at /people.")
    if command.by.kind.value == "person" and command.by.id == str(person.id):
        raise RuleViolation("You cannot remove yourself: ask another agency person")
    now = utcnow()
    await repository.remove_person(person.id, now)
    data = _person_data(person, command.by, now)
    await uow.publish(PersonRemoved.create(source=SOURCE, subject=str(person.id), data=data))
    await revoke(uow, person.id, "person_removed")
    await uow.commit()


# Sign-in


@dataclass(frozen=True)
class RequestSignIn:
    """Someone asks for a sign-in link at this address."""

    email: str
    return_to: str | None


async def request_sign_in(command: RequestSignIn, uow: IdentityUnitOfWork) -> str | None:
    """The link's secret to mail, or ``None`` when the address may not sign in (the caller
    answers the same either way)."""
    repository = uow.repository
    address = normalise_email(command.email)
    person = await repository.person_by_email(address)
    if person is None:
        animations = await repository.animations(address)
        if not any(animation.member for animation in animations):
            return None
        await repository.insert_person(
            person_id_for(address), address, animations[0].name, frozenset()
        )
        person = await repository.person_by_email(address)
        assert person is not None
    if not (await standing_of(repository, person)).may_sign_in:
        return None
    secret = new_secret()
    now = utcnow()
    await repository.insert_link(digest(secret), person.id, command.return_to, link_expires_at(now))
    await repository.purge_links(now - timedelta(days=1))
    await uow.commit()
    return secret


@dataclass(frozen=True)
class Redeem:
    """A sign-in link is opened: its secret buys a session."""

    secret: str
    policy: TokenPolicy


async def redeem(command: Redeem, uow: IdentityUnitOfWork) -> Grant:
    policy = command.policy
    repository = uow.repository
    now = utcnow()
    used = await repository.use_link(digest(command.secret), now)
    if used is None:
        raise LinkNotValid
    person_id, return_to = used
    who = await _standing_of_id(repository, person_id)
    if not who.may_sign_in:
        await uow.commit()  # the link is spent all the same
        raise LinkNotValid
    session_id = uuid4()
    refresh_token = new_secret()
    await repository.insert_session(
        session_id, person_id, digest(refresh_token), now + policy.session_lifetime
    )
    return await _grant(uow, policy, who, session_id, refresh_token, return_to)


@dataclass(frozen=True)
class Refresh:
    """A session's refresh token is presented for a new access token."""

    refresh_token: str
    policy: TokenPolicy


async def refresh(command: Refresh, uow: IdentityUnitOfWork) -> Grant:
    """A new access token with the person's roles and centres of now."""
    policy = command.policy
    repository = uow.repository
    session = await repository.session_by_refresh(digest(command.refresh_token))
    now = utcnow()
    if session is None or session.ended_at is not None or session.expires_at <= now:
        raise SessionEnded
    who = await _standing_of_id(repository, session.person_id)
    if not who.may_sign_in:
        await repository.end_session(session.id, now, "no_longer_allowed")
        await uow.commit()
        raise SessionEnded
    return await _grant(uow, policy, who, session.id)


@dataclass(frozen=True)
class EndSession:
    """Signing out: the session of this refresh token ends."""

    refresh_token: str


async def end_session(command: EndSession, uow: IdentityUnitOfWork) -> None:
    repository = uow.repository
    session = await repository.session_by_refresh(digest(command.refresh_token))
    if session is not None:
        await repository.end_session(session.id, utcnow(), "signed_out")
        await uow.commit()


@dataclass(frozen=True)
class WhoIs:
    """What this person may do now."""

    person_id: UUID


async def who_is(command: WhoIs, uow: IdentityUnitOfWork) -> Standing:
    repository = uow.repository
    person = await repository.person(command.person_id)
    if person is None:
        raise NotFound("This person is not known (any more).")
    return await standing_of(repository, person)


# Keys


@dataclass(frozen=True)
class MaintainKeys:
    """Create the first key, rotate, retire; announce every live key (idempotent)."""

    passphrase: str
    rotation: timedelta
    announce_ahead: timedelta
    token_seconds: int
    announce_all: bool = False


async def maintain_keys(command: MaintainKeys, uow: IdentityUnitOfWork) -> None:
    repository = uow.repository
    await repository.lock_keys()
    existing = await repository.signing_keys()
    now = utcnow()
    announce = [k for k in existing if k.retired_at is None] if command.announce_all else []
    if keys.needs_new_key(existing, now, command.rotation):
        first = keys.signing_key(existing, now) is None
        # The first key signs at once: no token exists that a service must verify meanwhile.
        signs_from = now if first else now + command.announce_ahead
        created = keys.generate(command.passphrase, now, signs_from)
        await repository.insert_signing_key(created)
        announce.append(created)
        log.info("signing key created", kid=created.kid, signs_from=signs_from.isoformat())
    for key in announce:
        await repository.record_key(key.kid, key.public_jwk, key.signs_from)
        data = SigningKeyData(
            kid=key.kid, jwk=key.public_jwk, created_at=key.created_at, signs_from=key.signs_from
        )
        await uow.publish(SigningKeyAnnounced.create(source=SOURCE, subject=key.kid, data=data))
    for key in keys.to_retire(await repository.signing_keys(), now, command.token_seconds):
        await repository.retire_signing_key(key.kid, now)
        await repository.record_retired_key(key.kid, now)
        retired = SigningKeyRetiredData(kid=key.kid, retired_at=now)
        await uow.publish(SigningKeyRetired.create(source=SOURCE, subject=key.kid, data=retired))
        log.info("signing key retired", kid=key.kid)
    await uow.commit()


# The registry's events: who animates a member centre


async def _revoke_addresses(
    uow: IdentityUnitOfWork, emails: Iterable[str], reason: str, cause: Event
) -> None:
    repository = uow.repository
    for email in sorted(set(emails)):
        person = await repository.person_by_email(email)
        if person is not None:
            await revoke(uow, person.id, reason, cause)


async def on_centre_status(event: Event, uow: IdentityUnitOfWork) -> None:
    """A membership event or a centre's news: its status and its animators as they are now."""
    data = event.data
    centre = data.centre
    repository = uow.repository
    previous = await repository.upsert_centre(centre.id, centre.nom, centre.status)
    listed = [(a.id, normalise_email(a.email), a.name) for a in data.animators]
    left = await repository.replace_animators(centre.id, listed)
    if previous == MEMBER and centre.status != MEMBER:
        await _revoke_addresses(uow, [email for _, email, _ in listed], "centre_left", event)
    if previous == MEMBER:
        await _revoke_addresses(uow, left, "animator_removed", event)
    # No commit here: the consumer commits, with the inbox rows of the events fetched together.


async def on_animator_changed(event: Event, uow: IdentityUnitOfWork) -> None:
    data = event.data
    repository = uow.repository
    previous = await repository.upsert_centre(data.centre.id, data.centre.nom, data.centre.status)
    member = previous == MEMBER or (previous is None and data.centre.status == MEMBER)
    email = normalise_email(data.animator.email)
    if isinstance(event, AnimatorRemoved):
        await repository.delete_animator(data.centre.id, data.animator.id)
        if member:
            await _revoke_addresses(uow, [email], "animator_removed", event)
    else:
        await repository.upsert_animator(
            data.centre.id, data.animator.id, email, data.animator.name
        )
        old = normalise_email(data.previous_email) if data.previous_email else None
        if member and old and old != email:
            await _revoke_addresses(uow, [old], "animator_removed", event)
