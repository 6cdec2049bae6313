"""Applications, the membership history and the confirmation requests of anonymous
applications."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from crnt_shared.db import fetch_record, fetch_records

from crnt_registry.domain import Confirmation
from crnt_registry.repository.base import SqlBase, email_hash
from crnt_registry.repository.records import Application, Decision, HistoryEntry, Page, Transition

#: What the membership history records of a transition.
_HISTORY_COLUMNS = (
    "centre_id",
    "action",
    "previous_status",
    "status",
    "reason",
    "actor",
    "at",
    "actor_ref",
)


class ApplicationSql(SqlBase):
    """Applications and their decisions, the history of each centre, confirmation requests."""

    async def add_applications(self, applications: Sequence[Application]) -> None:
        await self._insert_rows(
            "applications",
            ("id", "centre_id", "status", "channel", "confirmation", "expires_at", "submitted_at"),
            [
                (
                    a.id,
                    a.centre_id,
                    a.status,
                    a.channel,
                    a.confirmation.value,
                    a.expires_at,
                    a.submitted_at,
                )
                for a in applications
            ],
        )

    async def applications_by_id(
        self, application_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Application]:
        lock = " FOR UPDATE" if for_update else ""
        rows = await self.connection.fetch(
            f"SELECT * FROM applications WHERE id = ANY($1::uuid[]) ORDER BY id{lock}",
            list(application_ids),
        )
        return {row["id"]: Application(**dict(row)) for row in rows}

    async def decide_applications(
        self, application_ids: Sequence[UUID], decision: Decision
    ) -> None:
        await self.connection.execute(
            "UPDATE applications SET status = $2, decided_by = $3, reason = $4, decided_at = $5"
            " WHERE id = ANY($1::uuid[])",
            list(application_ids),
            decision.status,
            decision.actor,
            decision.reason,
            decision.at,
        )

    async def set_confirmation(self, application_id: UUID, confirmation: Confirmation) -> None:
        await self.connection.execute(
            "UPDATE applications SET confirmation = $2 WHERE id = $1",
            application_id,
            confirmation.value,
        )

    async def expired_applications(self, now: datetime, *, limit: int) -> list[Application]:
        """Pending applications no address confirmed before their expiry, locked (and skipped
        by another replica's expirer)."""
        return await fetch_records(
            self.connection,
            Application,
            "SELECT * FROM applications WHERE status = 'pending' AND confirmation = 'awaiting'"
            " AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )

    async def claim_confirmation_request(
        self, email: str, application_id: UUID, *, resend_after: timedelta
    ) -> bool:
        """Whether a confirmation request may be mailed to ``email`` now: none was within
        ``resend_after``. Claims it if so. Atomic under concurrent applications: the second
        waits on the first's row and then finds it recent."""
        claimed = await self.connection.fetchval(
            "INSERT INTO confirmation_requests AS r (email_hash, application_id, requested_at)"
            " VALUES ($1, $2, statement_timestamp())"
            " ON CONFLICT (email_hash) DO UPDATE"
            " SET application_id = EXCLUDED.application_id, requested_at = EXCLUDED.requested_at"
            " WHERE r.requested_at <= EXCLUDED.requested_at - $3::interval"
            " RETURNING true",
            email_hash(email),
            application_id,
            resend_after,
        )
        return bool(claimed)

    async def forget_confirmation_requests(self, older_than: datetime) -> None:
        await self.connection.execute(
            "DELETE FROM confirmation_requests WHERE requested_at < $1", older_than
        )

    async def application(
        self, application_id: UUID, *, for_update: bool = False
    ) -> Application | None:
        lock = " FOR UPDATE" if for_update else ""
        query = f"SELECT * FROM applications WHERE id = $1{lock}"
        return await fetch_record(self.connection, Application, query, application_id)

    async def application_of(self, centre_id: UUID) -> Application | None:
        query = "SELECT * FROM applications WHERE centre_id = $1"
        return await fetch_record(self.connection, Application, query, centre_id)

    async def applications(
        self, *, status: str | None, limit: int, offset: int, confirmation: str | None = None
    ) -> Page[Application]:
        where = (
            " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR confirmation = $2)"
        )
        rows, total = await self._page(
            f"SELECT *, count(*) OVER () AS total FROM applications{where}"
            " ORDER BY submitted_at, id LIMIT $3 OFFSET $4",
            f"SELECT count(*) FROM applications{where}",
            (status, confirmation),
            limit,
            offset,
        )
        items = [Application(**{k: v for k, v in dict(r).items() if k != "total"}) for r in rows]
        return Page(items, total)

    async def record_transition(self, transition: Transition) -> None:
        await self.record_transitions([transition])

    async def record_transitions(self, transitions: Sequence[Transition]) -> None:
        await self._insert_rows(
            "membership_history",
            _HISTORY_COLUMNS,
            [
                (
                    t.centre_id,
                    t.action,
                    None if t.previous is None else t.previous.value,
                    t.status.value,
                    t.reason,
                    t.actor,
                    t.at,
                    None if t.actor_ref is None else t.actor_ref.model_dump(),
                )
                for t in transitions
            ],
        )

    async def history(self, centre_id: UUID) -> list[HistoryEntry]:
        query = (
            "SELECT action, previous_status, status, reason, actor, at, actor_ref"
            " FROM membership_history WHERE centre_id = $1 ORDER BY id"
        )
        return await fetch_records(self.connection, HistoryEntry, query, centre_id)
