"""The deliveries: written once rendered, claimed by the sender a batch at a time, listed for the
agency."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from crnt_notifications.domain import Status, normalise_email
from crnt_notifications.repository.rows import Delivery, DeliveryFilters, NewDelivery
from crnt_notifications.repository.tables import Tables
from crnt_notifications.repository.wakeup import Due, due_written

#: Sorts essential mail (a centre's own membership, the agency's) before routine mail; the
#: same expression as the index ``deliveries_due_essential_first`` (migration 0002).
_ROUTINE_LAST = "(category NOT IN ('membership', 'agency'))"

_DELIVERY_COLUMNS = (
    "id, event_id, event_ids, recipient, kind, category, centre_id, subject, body_text,"
    " body_html, unsubscribe_url, status, attempts, next_attempt_at, last_error, message_id,"
    " created_at, updated_at, sent_at, notice_id"
)


def _delivery(row: Any) -> Delivery:
    return Delivery(**dict(row))


class Deliveries(Tables):
    # Deliveries

    async def insert_deliveries(self, deliveries: Sequence[NewDelivery]) -> None:
        """A delivery that exists already for its (event, recipient, kind) is left as it is."""
        if not deliveries:
            return
        await self.connection.executemany(
            "INSERT INTO deliveries (id, event_id, event_ids, recipient, kind, category,"
            " centre_id, subject, body_text, body_html, unsubscribe_url, status,"
            " next_attempt_at, message_id, notice_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
            " CASE WHEN $12 = 'pending' THEN now() END, $13, $14)"
            " ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING",
            [
                (
                    d.id,
                    d.event_id,
                    list(d.event_ids),
                    d.recipient,
                    d.kind,
                    d.category,
                    d.centre_id,
                    d.subject,
                    d.body_text,
                    d.body_html,
                    d.unsubscribe_url,
                    d.status.value,
                    d.message_id,
                    d.notice_id,
                )
                for d in deliveries
            ],
        )
        if any(d.status is Status.PENDING for d in deliveries):
            due_written(Due.MAIL)

    async def claim_due(self, limit: int) -> list[Delivery]:
        """The next deliveries to send, in sending order, locked until the end of the
        transaction; those another sender holds are skipped (that one sends them). Essential
        mail (a centre's own membership, the agency's) goes first: a coalesced round of
        thousands of share mails must not hold back a welcome. One scan for a batch: the front
        of the index is the entries of the mails sent since the last vacuum (tens of thousands
        after a national import), which every scan walks through."""
        rows = await self.connection.fetch(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries"
            " WHERE status IN ('pending', 'retrying') AND next_attempt_at <= clock_timestamp()"
            f" ORDER BY {_ROUTINE_LAST}, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [_delivery(row) for row in rows]

    async def mark_sent(self, delivery_ids: Sequence[UUID]) -> None:
        """The claimed deliveries that the SMTP server accepted, their attempt counted."""
        await self.connection.execute(
            "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = now(),"
            " next_attempt_at = NULL, last_error = NULL, updated_at = now()"
            " WHERE id = ANY($1::uuid[])",
            delivery_ids,
        )

    async def mark_retrying(
        self, delivery_id: UUID, attempts: int, delay_seconds: float, error: str
    ) -> None:
        await self.connection.execute(
            "UPDATE deliveries SET status = 'retrying', attempts = $2,"
            " next_attempt_at = now() + make_interval(secs => $3), last_error = $4,"
            " updated_at = now() WHERE id = $1",
            delivery_id,
            attempts,
            delay_seconds,
            error,
        )

    async def mark_failed(self, delivery_id: UUID, attempts: int, error: str) -> None:
        await self.connection.execute(
            "UPDATE deliveries SET status = 'failed', attempts = $2, next_attempt_at = NULL,"
            " last_error = $3, updated_at = now() WHERE id = $1",
            delivery_id,
            attempts,
            error,
        )

    async def requeue(self, delivery_id: UUID) -> None:
        await self.connection.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),"
            " updated_at = now() WHERE id = $1",
            delivery_id,
        )
        due_written(Due.MAIL)

    async def delivery(self, delivery_id: UUID, *, lock: bool = False) -> Delivery | None:
        suffix = " FOR UPDATE" if lock else ""
        row = await self.connection.fetchrow(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = $1{suffix}", delivery_id
        )
        return _delivery(row) if row else None

    async def deliveries(
        self, filters: DeliveryFilters, *, limit: int, offset: int
    ) -> tuple[list[Delivery], int]:
        conditions: list[str] = []
        arguments: list[object] = []
        if filters.recipient:
            arguments.append(normalise_email(filters.recipient))
            conditions.append(f"recipient = ${len(arguments)}")
        if filters.status:
            arguments.append(filters.status)
            conditions.append(f"status = ${len(arguments)}")
        if filters.kind:
            arguments.append(filters.kind)
            conditions.append(f"kind = ${len(arguments)}")
        if filters.event_id:
            arguments.append(filters.event_id)
            conditions.append(
                f"(event_ids @> ARRAY[${len(arguments)}::uuid] OR notice_id IN"
                f" (SELECT notice_id FROM notice_items WHERE event_id = ${len(arguments)}))"
            )
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        total = await self.connection.fetchval(
            f"SELECT count(*) FROM deliveries{where}", *arguments
        )
        rows = await self.connection.fetch(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries{where}"
            f" ORDER BY created_at DESC, id"
            f" LIMIT ${len(arguments) + 1} OFFSET ${len(arguments) + 2}",
            *arguments,
            limit,
            offset,
        )
        return [_delivery(row) for row in rows], int(total)
