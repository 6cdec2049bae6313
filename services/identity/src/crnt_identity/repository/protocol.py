"""What identity's handlers need of their repository: the SQL one
(:class:`~crnt_identity.repository.sql.Repository`) and the fake of the unit tests both do it."""

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from crnt_shared.auth import Role

from crnt_identity.domain import Animation, Person
from crnt_identity.repository.records import Session, SigningKey


class IdentityRepository(Protocol):
    # People

    async def person(self, person_id: UUID, *, lock: bool = False) -> Person | None: ...

    async def person_by_email(self, email: str) -> Person | None: ...

    async def people(self) -> list[Person]:
        """Those with a role of their own, not removed, by address."""
        ...

    async def insert_person(
        self, person_id: UUID, email: str, display_name: str, roles: frozenset[Role]
    ) -> bool:
        """Add a person unless the address is known (even removed); whether it was added."""
        ...

    async def grant(
        self, person_id: UUID, roles: frozenset[Role], display_name: str | None
    ) -> None: ...

    async def remove_person(self, person_id: UUID, at: datetime) -> None:
        """Marked removed, without roles (the row stays: an address removed stays removed)."""

    async def restore_person(self, person_id: UUID) -> None: ...

    # The registry's read model

    async def animations(self, email: str) -> list[Animation]:
        """The centres the address animates, by centre name."""
        ...

    async def upsert_centre(self, centre_id: UUID, name: str, status: str) -> str | None:
        """Record a centre's status; returns the one it had (``None``: unknown until now)."""
        ...

    async def replace_animators(
        self, centre_id: UUID, animators: list[tuple[UUID, str, str]]
    ) -> list[str]:
        """Set a centre's animators (id, email, name); returns the addresses that left it."""
        ...

    async def upsert_animator(
        self, centre_id: UUID, animator_id: UUID, email: str, name: str
    ) -> None: ...

    async def delete_animator(self, centre_id: UUID, animator_id: UUID) -> None: ...

    # Links and sessions

    async def insert_link(
        self, secret_hash: bytes, person_id: UUID, return_to: str | None, expires_at: datetime
    ) -> None: ...

    async def use_link(self, secret_hash: bytes, now: datetime) -> tuple[UUID, str | None] | None:
        """Mark a valid link used (once, even under concurrent redeems); its person."""
        ...

    async def purge_links(self, now: datetime) -> None:
        """Delete the links that expired before ``now``."""

    async def insert_session(
        self, session_id: UUID, person_id: UUID, refresh_hash: bytes, expires_at: datetime
    ) -> None: ...

    async def session_by_refresh(self, refresh_hash: bytes) -> Session | None: ...

    async def end_session(self, session_id: UUID, at: datetime, reason: str) -> None: ...

    async def end_sessions_of(self, person_id: UUID, at: datetime, reason: str) -> int: ...

    # Keys, and what identity knows of its own keys and revocations, as every service does

    async def signing_keys(self) -> list[SigningKey]:
        """Every key, oldest first."""
        ...

    async def insert_signing_key(self, key: SigningKey) -> None: ...

    async def retire_signing_key(self, kid: str, at: datetime) -> None: ...

    async def lock_keys(self) -> None:
        """One replica at a time creates or retires keys."""

    async def record_key(self, kid: str, jwk: dict[str, Any], signs_from: datetime) -> None: ...

    async def record_retired_key(self, kid: str, at: datetime) -> None: ...

    async def record_revocation(self, person_id: UUID, revoked_before: datetime) -> None: ...

    # Erasure

    async def erased_addresses(self, animator_id: UUID, salt: str, email_digest: str) -> list[str]:
        """The animator's addresses, and those whose digest under ``salt`` is ``email_digest``."""
        ...

    async def forget_animator(self, animator_id: UUID, addresses: list[str]) -> None: ...

    async def people_without_roles(self, addresses: list[str]) -> list[UUID]:
        """The people of ``addresses`` who have no role of their own (animators only)."""
        ...

    async def delete_person(self, person_id: UUID) -> None:
        """The person, their sessions and their sign-in links."""

    async def forget_published_events(self, addresses: list[str]) -> int:
        """Delete the published outbox rows that name one of ``addresses``; how many went."""
        ...
