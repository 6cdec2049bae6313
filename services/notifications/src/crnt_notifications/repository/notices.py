"""Coalesced notices: events that wait together for their window to close, and the share
amounts last announced."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared.db import Connection
from crnt_shared.events import utcnow

from crnt_notifications.repository.rows import Notice, NoticeEntry, NoticeItem
from crnt_notifications.repository.wakeup import Due, due_written


def _closed_already(open_until: datetime) -> None:
    """A notice that closes now (no coalescing window) is sealed and sent at the commit."""
    if open_until <= utcnow():
        due_written(Due.NOTICE)


class Notices:
    connection: Connection

    # Coalesced notices

    async def add_to_notice(
        self, *, kind: str, key: str, event_id: UUID, data: dict[str, Any], open_until: datetime
    ) -> None:
        """Add an event to the open notice of (kind, key), opening one that closes at
        ``open_until`` when there is none. An event already added is not added again. One
        statement: an approval's transaction, which the welcome mail waits for, is short."""
        await self.connection.execute(
            "WITH notice AS (INSERT INTO notices (id, kind, key, open_until)"
            " VALUES (gen_random_uuid(), $1, $2, $3)"
            " ON CONFLICT (kind, key) WHERE sealed_at IS NULL"
            " DO UPDATE SET kind = EXCLUDED.kind RETURNING id)"
            " INSERT INTO notice_items (kind, event_id, notice_id, data)"
            " SELECT $1, $4, id, $5 FROM notice ON CONFLICT DO NOTHING",
            kind,
            key,
            open_until,
            event_id,
            data,
        )
        _closed_already(open_until)

    async def add_many_to_notices(
        self, *, kind: str, items: Sequence[NoticeEntry], open_until: datetime
    ) -> None:
        """:meth:`add_to_notice` for many events in two statements, in their order: what one
        budget version says to every centre is taken in one go, not in a round trip each."""
        if not items:
            return
        keys = list(dict.fromkeys(item.key for item in items))
        rows = await self.connection.fetch(
            "INSERT INTO notices (id, kind, key, open_until)"
            " SELECT gen_random_uuid(), $1, key, $3 FROM unnest($2::text[]) AS key"
            " ON CONFLICT (kind, key) WHERE sealed_at IS NULL"
            " DO UPDATE SET kind = EXCLUDED.kind RETURNING id, key",
            kind,
            keys,
            open_until,
        )
        notices = {row["key"]: row["id"] for row in rows}
        await self.connection.execute(
            "INSERT INTO notice_items (kind, event_id, notice_id, data)"
            " SELECT $1, event_id, notice_id, data::jsonb"
            " FROM unnest($2::uuid[], $3::uuid[], $4::text[]) WITH ORDINALITY"
            " AS item(event_id, notice_id, data, n) ORDER BY n"
            " ON CONFLICT DO NOTHING",
            kind,
            [item.event_id for item in items],
            [notices[item.key] for item in items],
            [json.dumps(item.data) for item in items],
        )
        _closed_already(open_until)

    async def lock_due_notices(self, limit: int) -> list[Notice]:
        rows = await self.connection.fetch(
            "SELECT id, kind, key, created_at FROM notices"
            " WHERE sealed_at IS NULL AND open_until <= clock_timestamp()"
            " ORDER BY open_until LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [Notice(**dict(row)) for row in rows]

    async def notice_items(self, notice_id: UUID) -> list[NoticeItem]:
        rows = await self.connection.fetch(
            "SELECT event_id, data FROM notice_items WHERE notice_id = $1 ORDER BY position",
            notice_id,
        )
        return [NoticeItem(row["event_id"], row["data"]) for row in rows]

    async def seal_notice(self, notice_id: UUID) -> None:
        await self.connection.execute(
            "UPDATE notices SET sealed_at = clock_timestamp() WHERE id = $1", notice_id
        )

    async def postpone_notice(self, notice_id: UUID, until: datetime) -> None:
        await self.connection.execute(
            "UPDATE notices SET open_until = $2 WHERE id = $1", notice_id, until
        )

    async def last_announced(self, centre_id: UUID, year: int) -> int | None:
        value = await self.connection.fetchval(
            "SELECT amount_cents FROM share_announcements WHERE centre_id = $1 AND year = $2",
            centre_id,
            year,
        )
        return int(value) if value is not None else None

    async def record_announcement(
        self, centre_id: UUID, year: int, amount_cents: int, version: int
    ) -> None:
        await self.connection.execute(
            "INSERT INTO share_announcements (centre_id, year, amount_cents, version)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (centre_id, year) DO UPDATE SET"
            " amount_cents = EXCLUDED.amount_cents, version = EXCLUDED.version,"
            " announced_at = now()",
            centre_id,
            year,
            amount_cents,
            version,
        )
