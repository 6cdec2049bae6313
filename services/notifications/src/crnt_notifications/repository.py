"""The notifications service's SQL, over one asyncpg connection (the unit of work's)."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts
from crnt_shared.db import Connection

from crnt_notifications.domain import HEARING_STATUSES, Recipient, Status, normalise_email


@dataclass(frozen=True)
class CentreRow:
    id: UUID
    status: str
    nom: str
    commune: str
    code_postal: str
    epci_siren: str
    epci_name: str


@dataclass(frozen=True)
class NewDelivery:
    id: UUID
    event_id: UUID
    event_ids: Sequence[UUID]
    recipient: str
    kind: str
    category: str
    centre_id: UUID | None
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str | None
    status: Status
    message_id: str
    #: The coalesced notice it comes from, whose items are every event it tells about.
    notice_id: UUID | None = None


@dataclass(frozen=True)
class Delivery:
    id: UUID
    event_id: UUID
    event_ids: list[UUID]
    recipient: str
    kind: str
    category: str
    centre_id: UUID | None
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    notice_id: UUID | None = None


@dataclass(frozen=True)
class Notice:
    id: UUID
    kind: str
    key: str
    created_at: datetime


@dataclass(frozen=True)
class NoticeItem:
    event_id: UUID
    data: dict[str, Any]


@dataclass(frozen=True)
class NoticeEntry:
    """An event to add to the open notice of its key."""

    key: str
    event_id: UUID
    data: dict[str, Any]


@dataclass(frozen=True)
class DeliveryFilters:
    recipient: str | None = None
    status: str | None = None
    kind: str | None = None
    event_id: UUID | None = None


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


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # The recipients read model

    async def upsert_epci(self, siren: str, name: str) -> None:
        await self.connection.execute(
            "INSERT INTO epcis (siren, name) VALUES ($1, $2)"
            " ON CONFLICT (siren) DO UPDATE SET name = EXCLUDED.name, updated_at = now()",
            siren,
            name,
        )
        await self.connection.execute(
            "UPDATE centres SET epci_name = $2, updated_at = now()"
            " WHERE epci_siren = $1 AND epci_name <> $2",
            siren,
            name,
        )

    async def upsert_centre(self, centre: CentreFacts) -> None:
        await self.connection.execute(
            "INSERT INTO centres (id, status, nom, commune, code_postal, epci_siren, epci_name)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, nom = EXCLUDED.nom,"
            " commune = EXCLUDED.commune, code_postal = EXCLUDED.code_postal,"
            " epci_siren = EXCLUDED.epci_siren, epci_name = EXCLUDED.epci_name,"
            " updated_at = now()",
            centre.id,
            centre.status,
            centre.nom,
            centre.commune,
            centre.code_postal,
            centre.epci_siren,
            centre.epci_name,
        )

    async def replace_animators(self, centre_id: UUID, animators: Sequence[AnimatorFacts]) -> None:
        """The centre's animators become exactly ``animators`` (events carry the full list)."""
        await self.connection.execute(
            "DELETE FROM animators WHERE centre_id = $1 AND NOT (id = ANY($2::uuid[]))",
            centre_id,
            [animator.id for animator in animators],
        )
        for animator in animators:
            await self.upsert_animator(centre_id, animator)

    async def upsert_animator(self, centre_id: UUID, animator: AnimatorFacts) -> None:
        await self.connection.execute(
            "INSERT INTO animators (id, centre_id, name, email) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (id) DO UPDATE SET centre_id = EXCLUDED.centre_id,"
            " name = EXCLUDED.name, email = EXCLUDED.email, updated_at = now()",
            animator.id,
            centre_id,
            animator.name,
            normalise_email(animator.email),
        )

    async def remove_animator(self, animator_id: UUID) -> None:
        await self.connection.execute("DELETE FROM animators WHERE id = $1", animator_id)

    async def centre(self, centre_id: UUID) -> CentreRow | None:
        row = await self.connection.fetchrow(
            "SELECT id, status, nom, commune, code_postal, epci_siren, epci_name"
            " FROM centres WHERE id = $1",
            centre_id,
        )
        return CentreRow(**dict(row)) if row else None

    async def animators_of(self, centre_id: UUID) -> list[Recipient]:
        rows = await self.connection.fetch(
            "SELECT email, name, centre_id FROM animators WHERE centre_id = $1 ORDER BY name, id",
            centre_id,
        )
        return [Recipient(row["email"], row["name"], row["centre_id"]) for row in rows]

    async def hearing_animators(self) -> list[Recipient]:
        """The animators of the centres that hear the network's news (members, suspended)."""
        rows = await self.connection.fetch(
            "SELECT a.email, a.name, a.centre_id FROM animators a"
            " JOIN centres c ON c.id = a.centre_id"
            " WHERE c.status = ANY($1::text[]) ORDER BY a.email, a.centre_id",
            sorted(HEARING_STATUSES),
        )
        return [Recipient(row["email"], row["name"], row["centre_id"]) for row in rows]

    async def animators_with_centre(self, statuses: Iterable[str]) -> list[tuple[Recipient, str]]:
        """The animators of the centres in one of ``statuses``, each with its centre's name (an
        address that animates two centres comes twice)."""
        rows = await self.connection.fetch(
            "SELECT a.email, a.name, a.centre_id, c.nom FROM animators a"
            " JOIN centres c ON c.id = a.centre_id"
            " WHERE c.status = ANY($1::text[]) ORDER BY a.email, c.nom, a.centre_id",
            sorted(statuses),
        )
        return [
            (Recipient(row["email"], row["name"], row["centre_id"]), row["nom"]) for row in rows
        ]

    # Preferences

    async def opted_out(self, emails: Iterable[str]) -> dict[str, list[str]]:
        rows = await self.connection.fetch(
            "SELECT email, opted_out FROM preferences WHERE email = ANY($1::text[])",
            [normalise_email(email) for email in emails],
        )
        return {row["email"]: list(row["opted_out"]) for row in rows}

    async def preferences(self, email: str) -> tuple[list[str], datetime | None]:
        row = await self.connection.fetchrow(
            "SELECT opted_out, updated_at FROM preferences WHERE email = $1",
            normalise_email(email),
        )
        return (sorted(row["opted_out"]), row["updated_at"]) if row else ([], None)

    async def set_preferences(self, email: str, opted_out: Iterable[str]) -> None:
        await self.connection.execute(
            "INSERT INTO preferences (email, opted_out) VALUES ($1, $2)"
            " ON CONFLICT (email) DO UPDATE SET opted_out = EXCLUDED.opted_out, updated_at = now()",
            normalise_email(email),
            sorted(set(opted_out)),
        )

    async def opt_out(self, email: str, category: str) -> None:
        await self.connection.execute(
            "INSERT INTO preferences (email, opted_out) VALUES ($1, ARRAY[$2::text])"
            " ON CONFLICT (email) DO UPDATE SET updated_at = now(), opted_out ="
            " (SELECT array_agg(DISTINCT c ORDER BY c)"
            "  FROM unnest(preferences.opted_out || $2::text) AS c)",
            normalise_email(email),
            category,
        )

    # Address confirmations

    async def record_confirmation(self, application_id: UUID, email: str) -> datetime | None:
        """When this address confirmed this application now; None if it had already."""
        confirmed: datetime | None = await self.connection.fetchval(
            "INSERT INTO address_confirmations (application_id, email) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING confirmed_at",
            application_id,
            normalise_email(email),
        )
        return confirmed

    # Coalesced notices

    async def add_to_notice(
        self, *, kind: str, key: str, event_id: UUID, data: dict[str, Any], open_until: datetime
    ) -> None:
        """Add an event to the open notice of (kind, key), opening one that closes at
        ``open_until`` when there is none. An event already added is not added again."""
        notice_id = await self.connection.fetchval(
            "INSERT INTO notices (id, kind, key, open_until) VALUES (gen_random_uuid(), $1, $2, $3)"
            " ON CONFLICT (kind, key) WHERE sealed_at IS NULL"
            " DO UPDATE SET kind = EXCLUDED.kind RETURNING id",
            kind,
            key,
            open_until,
        )
        await self.connection.execute(
            "INSERT INTO notice_items (kind, event_id, notice_id, data) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            kind,
            event_id,
            notice_id,
            data,
        )

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

    async def due_deliveries(self, limit: int) -> list[UUID]:
        """The next deliveries to send, in sending order, not locked. Essential mail (a
        centre's own membership, the agency's) goes first: a coalesced round of thousands of
        share mails must not hold back a welcome. One scan for many mails: the front of the
        index is the entries of the mails sent since the last vacuum (tens of thousands after
        a national import), which every scan walks through."""
        rows = await self.connection.fetch(
            "SELECT id FROM deliveries"
            " WHERE status IN ('pending', 'retrying') AND next_attempt_at <= clock_timestamp()"
            f" ORDER BY {_ROUTINE_LAST}, next_attempt_at LIMIT $1",
            limit,
        )
        return [row["id"] for row in rows]

    async def lock_if_due(self, delivery_id: UUID) -> Delivery | None:
        """The delivery, locked until the end of the transaction, if it is still due and no
        other sender holds it (that one sends it; this one skips it)."""
        row = await self.connection.fetchrow(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"
            " AND status IN ('pending', 'retrying') AND next_attempt_at <= clock_timestamp()"
            " FOR UPDATE SKIP LOCKED",
            delivery_id,
        )
        return _delivery(row) if row else None

    async def mark_sent(self, delivery_id: UUID, attempts: int) -> None:
        await self.connection.execute(
            "UPDATE deliveries SET status = 'sent', attempts = $2, sent_at = now(),"
            " next_attempt_at = NULL, last_error = NULL, updated_at = now() WHERE id = $1",
            delivery_id,
            attempts,
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
