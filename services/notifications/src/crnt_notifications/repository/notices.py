"""Coalesced notices: events that wait together for their window to close, and the share
amounts last announced."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared.contracts.budget import ChangedCentre, ClassDotation
from crnt_shared.events import utcnow
from crnt_shared.money import cents_from_amount

from crnt_notifications.repository.rows import (
    ClassChanges,
    Notice,
    NoticeEntry,
    NoticeItem,
    ShareAnnouncement,
)
from crnt_notifications.repository.tables import Tables
from crnt_notifications.repository.wakeup import Due, due_written

#: The share change of every member of year ``$1`` that version ``$2`` did not list (its
#: workstations are those an earlier version listed) whose class's dotation moved: the
#: dotations ``$3``-``$5`` against the version before's ``$6``-``$8``; each added to its
#: centre's open notice of kind ``$9`` (opened until ``$10``), as an item of id
#: :func:`~crnt_notifications.repository.rows.notice_item_id` made of ``$12`` and the centre's
#: fields.
_CLASS_CHANGES = """
WITH now AS (
    SELECT * FROM unnest($3::int[], $4::bigint[], $5::uuid[]) AS d (workstations, base, extra)
), before AS (
    SELECT * FROM unnest($6::int[], $7::bigint[], $8::uuid[]) AS d (workstations, base, extra)
), moved AS (
    SELECT m.centre_id, m.centre_id::text || ':' || m.year::text AS key,
           n.base + coalesce(m.centre_id <= n.extra, false)::int AS amount_cents,
           b.base + coalesce(m.centre_id <= b.extra, false)::int AS previous_cents
      FROM dotation_members m
      JOIN now n ON n.workstations = m.workstations
      JOIN before b ON b.workstations = m.workstations
     WHERE m.year = $1 AND m.is_member AND m.version < $2
), changed AS (
    SELECT * FROM moved WHERE amount_cents <> previous_cents
), notice AS (
    INSERT INTO notices (id, kind, key, open_until)
    SELECT gen_random_uuid(), $9, key, $10 FROM changed
    ON CONFLICT (kind, key) WHERE sealed_at IS NULL
    DO UPDATE SET kind = EXCLUDED.kind RETURNING id, key
)
INSERT INTO notice_items (kind, event_id, notice_id, data)
SELECT $9, md5($11::uuid::text || c.centre_id::text)::uuid, n.id,
       $12::jsonb || jsonb_build_object('centre_id', c.centre_id,
                                        'amount_cents', c.amount_cents,
                                        'previous_cents', c.previous_cents)
  FROM changed c JOIN notice n USING (key)
 ORDER BY c.centre_id
ON CONFLICT DO NOTHING
"""


def _by_class(classes: Sequence[ClassDotation]) -> tuple[list[Any], ...]:
    """Dotations as three arrays (workstations, base, extra through) for ``unnest``."""
    return (
        [c.workstations for c in classes],
        [cents_from_amount(c.base) for c in classes],
        [c.extra_through for c in classes],
    )


def _closed_already(open_until: datetime) -> None:
    """A notice that closes now (no coalescing window) is sealed and sent at the commit."""
    if open_until <= utcnow():
        due_written(Due.NOTICE)


class Notices(Tables):
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

    async def record_dotation_members(
        self, year: int, version: int, centres: Sequence[ChangedCentre]
    ) -> None:
        """What version ``version`` of ``year`` lists of these centres: their workstations and
        membership from now on (a version never overwrites a later one's)."""
        if not centres:
            return
        await self.connection.execute(
            "INSERT INTO dotation_members AS m (year, centre_id, workstations, is_member, version)"
            " SELECT $1, *, $2 FROM unnest($3::uuid[], $4::int[], $5::bool[])"
            " ON CONFLICT (year, centre_id) DO UPDATE SET"
            " workstations = EXCLUDED.workstations, is_member = EXCLUDED.is_member,"
            " version = EXCLUDED.version WHERE m.version <= EXCLUDED.version",
            year,
            version,
            [c.centre_id for c in centres],
            [c.workstations for c in centres],
            [c.member for c in centres],
        )

    async def add_class_changes_to_notices(self, changes: ClassChanges) -> None:
        """Add to its centre's notice the change of every member whose dotation moved with
        its class (one that the version did not list as changed): one statement, whatever
        the number of members."""
        await self.connection.execute(
            _CLASS_CHANGES,
            changes.year,
            changes.version,
            *_by_class(changes.classes),
            *_by_class(changes.previous),
            changes.kind,
            changes.open_until,
            changes.event_id,
            changes.data,
        )
        _closed_already(changes.open_until)

    async def lock_due_notices(self, limit: int) -> list[Notice]:
        rows = await self.connection.fetch(
            "SELECT id, kind, key, created_at FROM notices"
            " WHERE sealed_at IS NULL AND open_until <= clock_timestamp()"
            " ORDER BY open_until LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [Notice(**dict(row)) for row in rows]

    async def notices_items(self, notice_ids: Sequence[UUID]) -> dict[UUID, list[NoticeItem]]:
        """Each notice's items, in the order they came (an empty list for a notice without)."""
        rows = await self.connection.fetch(
            "SELECT notice_id, event_id, data FROM notice_items"
            " WHERE notice_id = ANY($1::uuid[]) ORDER BY position",
            list(notice_ids),
        )
        items: dict[UUID, list[NoticeItem]] = {notice_id: [] for notice_id in notice_ids}
        for row in rows:
            items[row["notice_id"]].append(NoticeItem(row["event_id"], row["data"]))
        return items

    async def seal_notices(self, notice_ids: Sequence[UUID]) -> None:
        await self.connection.execute(
            "UPDATE notices SET sealed_at = clock_timestamp() WHERE id = ANY($1::uuid[])",
            list(notice_ids),
        )

    async def postpone_notice(self, notice_id: UUID, until: datetime) -> None:
        await self.connection.execute(
            "UPDATE notices SET open_until = $2 WHERE id = $1", notice_id, until
        )

    async def last_announced(
        self, shares: Iterable[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], int]:
        """The amount last announced of each (centre, year) announced before."""
        keys = list(shares)
        rows = await self.connection.fetch(
            "SELECT a.centre_id, a.year, a.amount_cents FROM share_announcements a"
            " JOIN unnest($1::uuid[], $2::int[]) AS k(centre_id, year) USING (centre_id, year)",
            [centre_id for centre_id, _ in keys],
            [year for _, year in keys],
        )
        return {(row["centre_id"], row["year"]): int(row["amount_cents"]) for row in rows}

    async def record_announcements(self, announcements: Sequence[ShareAnnouncement]) -> None:
        """Each (centre, year) at most once: the amount and version its mail announced."""
        if not announcements:
            return
        await self.connection.execute(
            "INSERT INTO share_announcements (centre_id, year, amount_cents, version)"
            " SELECT * FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::int[])"
            " ON CONFLICT (centre_id, year) DO UPDATE SET"
            " amount_cents = EXCLUDED.amount_cents, version = EXCLUDED.version,"
            " announced_at = now()",
            *(list(column) for column in zip(*announcements, strict=True)),
        )
