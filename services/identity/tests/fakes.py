"""Identity's repository in memory, for unit tests of its handlers without PostgreSQL: what
:class:`~crnt_identity.repository.IdentityRepository` says, with the constraints of the
migrations that the handlers rely on (an address once, a link used once)."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_identity.domain import Animation, Person
from crnt_identity.repository import Session, SigningKey
from crnt_shared.auth import Role
from crnt_shared.erasure import address_digest
from crnt_shared.fakes import FakeUnitOfWork


@dataclass
class StoredLink:
    person_id: UUID
    return_to: str | None
    expires_at: datetime
    used_at: datetime | None = None


@dataclass
class StoredCentre:
    name: str
    status: str
    #: animator id → (address, name)
    animators: dict[UUID, tuple[str, str]] = field(default_factory=dict)


@dataclass
class FakeIdentityRepository:
    people_by_id: dict[UUID, Person] = field(default_factory=dict)
    centres: dict[UUID, StoredCentre] = field(default_factory=dict)
    links: dict[bytes, StoredLink] = field(default_factory=dict)
    sessions: dict[bytes, Session] = field(default_factory=dict)
    keys: list[SigningKey] = field(default_factory=list)
    #: What identity knows of its keys as every service does: kid → retired at.
    recorded_keys: dict[str, datetime | None] = field(default_factory=dict)
    revocations: dict[UUID, datetime] = field(default_factory=dict)
    #: The addresses named by the published outbox rows still kept.
    published_addresses: list[str] = field(default_factory=list)

    # People

    async def person(self, person_id: UUID, *, lock: bool = False) -> Person | None:
        return self.people_by_id.get(person_id)

    async def person_by_email(self, email: str) -> Person | None:
        return next((p for p in self.people_by_id.values() if p.email == email), None)

    async def people(self) -> list[Person]:
        kept = [p for p in self.people_by_id.values() if not p.removed and p.roles]
        return sorted(kept, key=lambda p: p.email)

    async def insert_person(
        self, person_id: UUID, email: str, display_name: str, roles: frozenset[Role]
    ) -> bool:
        if await self.person_by_email(email) is not None:
            return False
        self.people_by_id[person_id] = Person(person_id, email, display_name, roles, False)
        return True

    async def grant(
        self, person_id: UUID, roles: frozenset[Role], display_name: str | None
    ) -> None:
        person = self.people_by_id[person_id]
        self.people_by_id[person_id] = replace(
            person, roles=person.roles | roles, display_name=display_name or person.display_name
        )

    async def remove_person(self, person_id: UUID, at: datetime) -> None:
        person = self.people_by_id[person_id]
        self.people_by_id[person_id] = replace(person, removed=True, roles=frozenset())

    async def restore_person(self, person_id: UUID) -> None:
        self.people_by_id[person_id] = replace(self.people_by_id[person_id], removed=False)

    # The registry's read model

    async def animations(self, email: str) -> list[Animation]:
        found = [
            (centre.name, centre_id, Animation(centre_id, name, centre.status == "member"))
            for centre_id, centre in self.centres.items()
            for address, name in centre.animators.values()
            if address == email
        ]
        return [animation for _, _, animation in sorted(found, key=lambda f: (f[0], f[1]))]

    async def upsert_centre(self, centre_id: UUID, name: str, status: str) -> str | None:
        centre = self.centres.get(centre_id)
        if centre is None:
            self.centres[centre_id] = StoredCentre(name, status)
            return None
        previous = centre.status
        centre.name, centre.status = name, status
        return previous

    async def replace_animators(
        self, centre_id: UUID, animators: list[tuple[UUID, str, str]]
    ) -> list[str]:
        centre = self.centres[centre_id]
        before = {address for address, _ in centre.animators.values()}
        centre.animators = {animator_id: (email, name) for animator_id, email, name in animators}
        return sorted(before - {email for _, email, _ in animators})

    async def upsert_animator(
        self, centre_id: UUID, animator_id: UUID, email: str, name: str
    ) -> None:
        self.centres[centre_id].animators[animator_id] = (email, name)

    async def delete_animator(self, centre_id: UUID, animator_id: UUID) -> None:
        self.centres[centre_id].animators.pop(animator_id, None)

    # Links and sessions

    async def insert_link(
        self, secret_hash: bytes, person_id: UUID, return_to: str | None, expires_at: datetime
    ) -> None:
        self.links[secret_hash] = StoredLink(person_id, return_to, expires_at)

    async def use_link(self, secret_hash: bytes, now: datetime) -> tuple[UUID, str | None] | None:
        link = self.links.get(secret_hash)
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        link.used_at = now
        return link.person_id, link.return_to

    async def purge_links(self, now: datetime) -> None:
        self.links = {key: link for key, link in self.links.items() if link.expires_at >= now}

    async def insert_session(
        self, session_id: UUID, person_id: UUID, refresh_hash: bytes, expires_at: datetime
    ) -> None:
        self.sessions[refresh_hash] = Session(session_id, person_id, expires_at, None)

    async def session_by_refresh(self, refresh_hash: bytes) -> Session | None:
        return self.sessions.get(refresh_hash)

    async def end_session(self, session_id: UUID, at: datetime, reason: str) -> None:
        for key, session in self.sessions.items():
            if session.id == session_id and session.ended_at is None:
                self.sessions[key] = replace(session, ended_at=at)

    async def end_sessions_of(self, person_id: UUID, at: datetime, reason: str) -> int:
        live = [s for s in self.sessions.values() if s.person_id == person_id and not s.ended_at]
        for session in live:
            await self.end_session(session.id, at, reason)
        return len(live)

    # Keys and revocations

    async def signing_keys(self) -> list[SigningKey]:
        return sorted(self.keys, key=lambda k: k.created_at)

    async def insert_signing_key(self, key: SigningKey) -> None:
        self.keys.append(key)

    async def retire_signing_key(self, kid: str, at: datetime) -> None:
        self.keys = [replace(k, retired_at=at) if k.kid == kid else k for k in self.keys]

    async def lock_keys(self) -> None:
        pass

    async def record_key(self, kid: str, jwk: dict[str, Any], signs_from: datetime) -> None:
        self.recorded_keys.setdefault(kid, None)

    async def record_retired_key(self, kid: str, at: datetime) -> None:
        if kid in self.recorded_keys:
            self.recorded_keys[kid] = at

    async def record_revocation(self, person_id: UUID, revoked_before: datetime) -> None:
        self.revocations[person_id] = max(
            revoked_before, self.revocations.get(person_id, revoked_before)
        )

    # Erasure

    async def erased_addresses(self, animator_id: UUID, salt: str, email_digest: str) -> list[str]:
        animators = [
            (found_id, email)
            for centre in self.centres.values()
            for found_id, (email, _) in centre.animators.items()
        ]
        people = [(None, person.email) for person in self.people_by_id.values()]
        return sorted(
            {
                email
                for found_id, email in animators + people
                if found_id == animator_id or address_digest(email, salt) == email_digest
            }
        )

    async def forget_animator(self, animator_id: UUID, addresses: list[str]) -> None:
        for centre in self.centres.values():
            centre.animators = {
                found_id: (email, name)
                for found_id, (email, name) in centre.animators.items()
                if found_id != animator_id and email not in addresses
            }

    async def people_without_roles(self, addresses: list[str]) -> list[UUID]:
        return [p.id for p in self.people_by_id.values() if p.email in addresses and not p.roles]

    async def delete_person(self, person_id: UUID) -> None:
        self.links = {k: link for k, link in self.links.items() if link.person_id != person_id}
        self.sessions = {k: s for k, s in self.sessions.items() if s.person_id != person_id}
        del self.people_by_id[person_id]

    async def forget_published_events(self, addresses: list[str]) -> int:
        kept = [a for a in self.published_addresses if a not in addresses]
        forgotten = len(self.published_addresses) - len(kept)
        self.published_addresses = kept
        return forgotten


IdentityWork = FakeUnitOfWork[FakeIdentityRepository]


def unit_of_work(repository: FakeIdentityRepository | None = None) -> IdentityWork:
    """A fake unit of work over ``repository`` (a new, empty one by default)."""
    return FakeUnitOfWork(repository or FakeIdentityRepository())
