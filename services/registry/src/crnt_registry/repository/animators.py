"""Animators, and what erasing one (RGPD) changes."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from crnt_shared.db import fetch_records, unique_or_conflict
from crnt_shared.erasure import forget_published_events

from crnt_registry.domain import CLOSED
from crnt_registry.repository.base import SqlBase, email_hash
from crnt_registry.repository.records import Animator

#: An animator as :class:`Animator` names its fields (what the reads select).
_ANIMATORS = "SELECT id, centre_id, name, email, confirmed_at FROM animators"


class AnimatorSql(SqlBase):
    """Animators of the centres; erasure pseudonymises them."""

    async def add_animator(self, animator: Animator) -> None:
        await self.add_animators([animator])

    async def add_animators(self, animators: Sequence[Animator]) -> None:
        emails = ", ".join(sorted({animator.email for animator in animators}))
        conflict = f"An animator of this centre has the email {emails}."
        with unique_or_conflict(conflict):
            await self._insert_rows(
                "animators",
                ("id", "centre_id", "name", "email", "confirmed_at"),
                [(a.id, a.centre_id, a.name, a.email, a.confirmed_at) for a in animators],
            )

    async def update_animator(self, animator: Animator) -> None:
        await self.connection.execute(
            "UPDATE animators SET name = $2, email = $3, confirmed_at = $4, updated_at = now()"
            " WHERE id = $1",
            animator.id,
            animator.name,
            animator.email,
            animator.confirmed_at,
        )

    async def remove_animator(self, animator_id: UUID) -> None:
        await self.connection.execute("DELETE FROM animators WHERE id = $1", animator_id)

    async def animators(self, centre_id: UUID) -> list[Animator]:
        query = f"{_ANIMATORS} WHERE centre_id = $1 ORDER BY created_at, id"
        return await fetch_records(self.connection, Animator, query, centre_id)

    async def animators_of(self, centre_ids: Sequence[UUID]) -> dict[UUID, list[Animator]]:
        """The animators of each of ``centre_ids`` that has any, in the order of
        :meth:`animators`."""
        query = f"{_ANIMATORS} WHERE centre_id = ANY($1::uuid[]) ORDER BY created_at, id"
        teams: dict[UUID, list[Animator]] = {}
        for animator in await fetch_records(self.connection, Animator, query, list(centre_ids)):
            teams.setdefault(animator.centre_id, []).append(animator)
        return teams

    # Erasure (RGPD)

    async def centre_status(self, centre_id: UUID, *, for_update: bool = False) -> str | None:
        lock = " FOR UPDATE" if for_update else ""
        status: str | None = await self.connection.fetchval(
            f"SELECT status FROM centres WHERE id = $1{lock}", centre_id
        )
        return status

    async def animator_address(
        self, centre_id: UUID, animator_id: UUID
    ) -> tuple[str, datetime | None] | None:
        """The animator's address and when it was erased (None: not yet)."""
        row = await self.connection.fetchrow(
            "SELECT email, erased_at FROM animators WHERE id = $1 AND centre_id = $2",
            animator_id,
            centre_id,
        )
        return None if row is None else (row["email"], row["erased_at"])

    async def open_centre_of(self, email: str, *, besides: UUID) -> tuple[UUID, str] | None:
        """A centre not closed (and its status) that another animator with ``email`` animates."""
        row = await self.connection.fetchrow(
            "SELECT c.id, c.status FROM animators a JOIN centres c ON c.id = a.centre_id"
            " WHERE lower(a.email) = lower($1) AND a.id <> $2 AND c.status <> ALL($3::text[])"
            " ORDER BY c.id LIMIT 1",
            email,
            besides,
            sorted(status.value for status in CLOSED),
        )
        return None if row is None else (row["id"], row["status"])

    async def erase_animator(
        self, animator_id: UUID, email: str, pseudonym: str, address: str, at: datetime
    ) -> int:
        """The animator's name and address become ``pseudonym`` and ``address``; what the
        registry kept of ``email`` goes, published outbox rows that name it included (how many
        of those is returned)."""
        await self.connection.execute(
            "UPDATE animators SET name = $2, email = $3, erased_at = $4, updated_at = $4"
            " WHERE id = $1",
            animator_id,
            pseudonym,
            address,
            at,
        )
        await self.connection.execute(
            "DELETE FROM confirmation_requests WHERE email_hash = $1", email_hash(email)
        )
        return await forget_published_events(self.connection, [email])
