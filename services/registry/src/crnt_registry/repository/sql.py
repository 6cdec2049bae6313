"""The registry's SQL, over one asyncpg connection (the unit of work's); a unique constraint that
refuses a write becomes a :class:`~crnt_shared.errors.Conflict`."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from crnt_shared.db import Connection, unique_or_conflict
from crnt_shared.erasure import forget_published_events

from crnt_registry.domain import (
    CLOSED,
    CORE_FIELDS,
    DETAIL_FIELDS,
    PIVOT_PLACEHOLDER,
    CentreDraft,
    Confirmation,
    MembershipStatus,
)
from crnt_registry.repository.records import (
    Animator,
    Application,
    Centre,
    Epci,
    HistoryEntry,
    NewCentre,
    Page,
    Transition,
)

_CENTRE_COLUMNS = (
    "c.id, c.status, c.nom, c.pivot, c.adresse, c.code_postal, c.commune, c.code_insee,"
    " c.epci_siren, c.typologie, c.workstations, c.horaires, c.services, c.date_maj, c.details,"
    " c.created_at, c.updated_at, e.name AS epci_name,"
    " (SELECT a.decided_at FROM applications a WHERE a.centre_id = c.id"
    "   AND a.status = 'approved') AS member_since"
)
_CENTRE_FROM = "centres c JOIN epcis e ON e.siren = c.epci_siren"


#: CentreDraft's defaults, computed once: ``model_construct`` would work out each default
#: factory's signature (``inspect``, parsing its text) for every field of every centre loaded,
#: 0.9 ms a centre.
_DEFAULTS = {
    name: info.get_default(call_default_factory=True)
    for name, info in CentreDraft.model_fields.items()
    if not info.is_required()
}


def _centre(row: Any) -> Centre:
    values = {name: row[name] for name in CORE_FIELDS}
    values.update(row["details"])
    given = set(values)
    for name, default in _DEFAULTS.items():
        if name not in values:
            values[name] = list(default) if isinstance(default, list) else default
    # Stored facts were valid when written: load them as they are.
    facts = CentreDraft.model_construct(given, **values)
    return Centre(
        id=row["id"],
        status=MembershipStatus(row["status"]),
        facts=facts,
        epci_siren=row["epci_siren"],
        epci_name=row["epci_name"],
        date_maj=row["date_maj"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        member_since=row["member_since"],
    )


def _details(facts: CentreDraft) -> dict[str, Any]:
    dumped = facts.model_dump(mode="json", include=set(DETAIL_FIELDS))
    return {name: value for name, value in dumped.items() if value not in (None, [])}


def email_hash(email: str) -> bytes:
    """What the registry keeps of an address once its application is gone: a digest."""
    return hashlib.sha256(email.strip().lower().encode()).digest()


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # EPCIs

    async def add_epci(self, epci: Epci) -> None:
        with unique_or_conflict(
            f"EPCI {epci.siren} or one of its communes was registered meanwhile: retry."
        ):
            await self.connection.execute(
                "INSERT INTO epcis (siren, name, population) VALUES ($1, $2, $3)",
                epci.siren,
                epci.name,
                epci.population,
            )
            await self._set_communes(epci.siren, epci.communes)

    async def update_epci(self, epci: Epci) -> None:
        await self.connection.execute(
            "UPDATE epcis SET name = $2, population = $3, updated_at = now() WHERE siren = $1",
            epci.siren,
            epci.name,
            epci.population,
        )
        await self.connection.execute("DELETE FROM epci_communes WHERE epci_siren = $1", epci.siren)
        await self._set_communes(epci.siren, epci.communes)

    async def _set_communes(self, siren: str, communes: Sequence[str]) -> None:
        await self.connection.executemany(
            "INSERT INTO epci_communes (code_insee, epci_siren) VALUES ($1, $2)",
            [(code, siren) for code in communes],
        )

    async def epci(self, siren: str, *, for_update: bool = False) -> Epci | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.connection.fetchrow(
            f"SELECT siren, name, population FROM epcis WHERE siren = $1{lock}", siren
        )
        if row is None:
            return None
        communes = await self.connection.fetch(
            "SELECT code_insee FROM epci_communes WHERE epci_siren = $1 ORDER BY code_insee",
            siren,
        )
        return Epci(
            row["siren"], row["name"], row["population"], [r["code_insee"] for r in communes]
        )

    async def epcis(self, *, limit: int, offset: int) -> Page[Epci]:
        rows = await self.connection.fetch(
            "SELECT e.siren, e.name, e.population, count(*) OVER () AS total,"
            " coalesce(array_agg(ec.code_insee ORDER BY ec.code_insee)"
            "   FILTER (WHERE ec.code_insee IS NOT NULL), '{}') AS communes"
            " FROM epcis e LEFT JOIN epci_communes ec ON ec.epci_siren = e.siren"
            " GROUP BY e.siren ORDER BY e.name, e.siren LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        total = rows[0]["total"] if rows else await self._count("SELECT count(*) FROM epcis")
        items = [Epci(r["siren"], r["name"], r["population"], list(r["communes"])) for r in rows]
        return Page(items, total)

    async def commune_owners(self, communes: Iterable[str]) -> dict[str, str]:
        """The EPCI SIREN of each of ``communes`` that an EPCI lists."""
        rows = await self.connection.fetch(
            "SELECT code_insee, epci_siren FROM epci_communes WHERE code_insee = ANY($1::text[])",
            list(communes),
        )
        return {row["code_insee"]: row["epci_siren"] for row in rows}

    async def epci_names(self, sirens: Iterable[str]) -> dict[str, str]:
        rows = await self.connection.fetch(
            "SELECT siren, name FROM epcis WHERE siren = ANY($1::text[])", list(sirens)
        )
        return {row["siren"]: row["name"] for row in rows}

    async def existing_epcis(self, sirens: Iterable[str]) -> set[str]:
        rows = await self.connection.fetch(
            "SELECT siren FROM epcis WHERE siren = ANY($1::text[])", list(sirens)
        )
        return {row["siren"] for row in rows}

    # Centres

    async def add_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        await self.add_centres([NewCentre(centre_id, facts, epci_siren, date_maj)])

    async def add_centres(self, centres: Sequence[NewCentre]) -> None:
        pivots = ", ".join(sorted({centre.facts.pivot for centre in centres}))
        conflict = (
            f"A centre with pivot {pivots} was submitted meanwhile: check the pending applications."
        )
        with unique_or_conflict(conflict):
            await self.connection.executemany(
                "INSERT INTO centres (id, status, nom, pivot, adresse, code_postal, commune,"
                " code_insee, epci_siren, typologie, workstations, horaires, services, date_maj,"
                " details) VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                " $13, $14)",
                [
                    (
                        centre.id,
                        centre.facts.nom,
                        centre.facts.pivot,
                        centre.facts.adresse,
                        centre.facts.code_postal,
                        centre.facts.commune,
                        centre.facts.code_insee,
                        centre.epci_siren,
                        centre.facts.typologie,
                        centre.facts.workstations,
                        centre.facts.horaires,
                        centre.facts.services,
                        centre.date_maj,
                        _details(centre.facts),
                    )
                    for centre in centres
                ],
            )

    async def update_centre(
        self, centre_id: UUID, facts: CentreDraft, epci_siren: str, date_maj: date
    ) -> None:
        with unique_or_conflict(
            f"Another centre took pivot {facts.pivot} meanwhile: check it and retry."
        ):
            await self.connection.execute(
                "UPDATE centres SET nom = $2, pivot = $3, adresse = $4, code_postal = $5,"
                " commune = $6, code_insee = $7, epci_siren = $8, typologie = $9,"
                " workstations = $10, horaires = $11, services = $12, date_maj = $13,"
                " details = $14, updated_at = now() WHERE id = $1",
                centre_id,
                facts.nom,
                facts.pivot,
                facts.adresse,
                facts.code_postal,
                facts.commune,
                facts.code_insee,
                epci_siren,
                facts.typologie,
                facts.workstations,
                facts.horaires,
                facts.services,
                date_maj,
                _details(facts),
            )

    async def centre(self, centre_id: UUID, *, for_update: bool = False) -> Centre | None:
        lock = " FOR UPDATE OF c" if for_update else ""
        row = await self.connection.fetchrow(
            f"SELECT {_CENTRE_COLUMNS} FROM {_CENTRE_FROM} WHERE c.id = $1{lock}", centre_id
        )
        return None if row is None else _centre(row)

    async def centres_by_id(
        self, centre_ids: Sequence[UUID], *, for_update: bool = False
    ) -> dict[UUID, Centre]:
        """The centres of ``centre_ids`` that exist, locked in id order if asked."""
        lock = " FOR UPDATE OF c" if for_update else ""
        rows = await self.connection.fetch(
            f"SELECT {_CENTRE_COLUMNS} FROM {_CENTRE_FROM} WHERE c.id = ANY($1::uuid[])"
            f" ORDER BY c.id{lock}",
            list(centre_ids),
        )
        return {row["id"]: _centre(row) for row in rows}

    async def centres(
        self,
        *,
        statuses: Sequence[MembershipStatus] | None,
        epci_siren: str | None,
        limit: int | None,
        offset: int,
    ) -> Page[Centre]:
        rows = await self.connection.fetch(
            f"SELECT {_CENTRE_COLUMNS}, count(*) OVER () AS total FROM {_CENTRE_FROM}"
            " WHERE ($1::text[] IS NULL OR c.status = ANY($1::text[]))"
            " AND ($2::text IS NULL OR c.epci_siren = $2)"
            " ORDER BY c.nom, c.id LIMIT $3 OFFSET $4",
            None if statuses is None else [status.value for status in statuses],
            epci_siren,
            limit,
            offset,
        )
        if rows:
            total = rows[0]["total"]
        else:
            total = await self._count(
                "SELECT count(*) FROM centres c"
                " WHERE ($1::text[] IS NULL OR c.status = ANY($1::text[]))"
                " AND ($2::text IS NULL OR c.epci_siren = $2)",
                None if statuses is None else [status.value for status in statuses],
                epci_siren,
            )
        return Page([_centre(row) for row in rows], total)

    async def live_centres_with_pivots(self, pivots: Iterable[str]) -> dict[str, UUID]:
        """The centre holding each pivot among those pending, member or suspended."""
        rows = await self.connection.fetch(
            "SELECT pivot, id FROM centres WHERE pivot = ANY($1::text[]) AND pivot <> $2"
            " AND status IN ('pending', 'member', 'suspended')",
            list(pivots),
            PIVOT_PLACEHOLDER,
        )
        return {row["pivot"]: row["id"] for row in rows}

    async def set_statuses(self, centre_ids: Sequence[UUID], status: MembershipStatus) -> None:
        await self.connection.execute(
            "UPDATE centres SET status = $2, updated_at = now() WHERE id = ANY($1::uuid[])",
            list(centre_ids),
            status.value,
        )

    async def now(self) -> datetime:
        """The transaction's time, what ``now()`` writes."""
        moment: datetime = await self.connection.fetchval("SELECT now()")
        return moment

    async def set_status(self, centre_id: UUID, status: MembershipStatus) -> None:
        await self.connection.execute(
            "UPDATE centres SET status = $2, updated_at = now() WHERE id = $1",
            centre_id,
            status.value,
        )

    # Applications and history

    async def add_application(
        self,
        application_id: UUID,
        centre_id: UUID,
        channel: str,
        *,
        confirmation: Confirmation = Confirmation.NOT_REQUIRED,
        expires_at: datetime | None = None,
    ) -> Application:
        row = await self.connection.fetchrow(
            "INSERT INTO applications (id, centre_id, status, channel, confirmation, expires_at)"
            " VALUES ($1, $2, 'pending', $3, $4, $5) RETURNING *",
            application_id,
            centre_id,
            channel,
            confirmation.value,
            expires_at,
        )
        return Application(**dict(row))

    async def add_applications(self, applications: Sequence[Application]) -> None:
        await self.connection.executemany(
            "INSERT INTO applications"
            " (id, centre_id, status, channel, confirmation, expires_at, submitted_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        self,
        application_ids: Sequence[UUID],
        status: str,
        actor: str,
        reason: str | None,
        at: datetime,
    ) -> None:
        await self.connection.execute(
            "UPDATE applications SET status = $2, decided_by = $3, reason = $4, decided_at = $5"
            " WHERE id = ANY($1::uuid[])",
            list(application_ids),
            status,
            actor,
            reason,
            at,
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
        rows = await self.connection.fetch(
            "SELECT * FROM applications WHERE status = 'pending' AND confirmation = 'awaiting'"
            " AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [Application(**dict(row)) for row in rows]

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
        row = await self.connection.fetchrow(
            f"SELECT * FROM applications WHERE id = $1{lock}", application_id
        )
        return None if row is None else Application(**dict(row))

    async def application_of(self, centre_id: UUID) -> Application | None:
        row = await self.connection.fetchrow(
            "SELECT * FROM applications WHERE centre_id = $1", centre_id
        )
        return None if row is None else Application(**dict(row))

    async def applications(
        self, *, status: str | None, limit: int, offset: int, confirmation: str | None = None
    ) -> Page[Application]:
        where = (
            " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR confirmation = $2)"
        )
        rows = await self.connection.fetch(
            f"SELECT *, count(*) OVER () AS total FROM applications{where}"
            " ORDER BY submitted_at, id LIMIT $3 OFFSET $4",
            status,
            confirmation,
            limit,
            offset,
        )
        if rows:
            total = rows[0]["total"]
        else:
            total = await self._count(
                f"SELECT count(*) FROM applications{where}", status, confirmation
            )
        items = [Application(**{k: v for k, v in dict(r).items() if k != "total"}) for r in rows]
        return Page(items, total)

    async def decide_application(
        self, application_id: UUID, status: str, actor: str, reason: str | None, at: datetime
    ) -> None:
        await self.connection.execute(
            "UPDATE applications SET status = $2, decided_by = $3, reason = $4, decided_at = $5"
            " WHERE id = $1",
            application_id,
            status,
            actor,
            reason,
            at,
        )

    async def record_transition(self, transition: Transition) -> None:
        await self.record_transitions([transition])

    async def record_transitions(self, transitions: Sequence[Transition]) -> None:
        await self.connection.executemany(
            "INSERT INTO membership_history"
            " (centre_id, action, previous_status, status, reason, actor, at, actor_ref)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        rows = await self.connection.fetch(
            "SELECT action, previous_status, status, reason, actor, at, actor_ref"
            " FROM membership_history"
            " WHERE centre_id = $1 ORDER BY id",
            centre_id,
        )
        return [HistoryEntry(**dict(row)) for row in rows]

    # Animators

    async def add_animator(self, animator: Animator) -> None:
        await self.add_animators([animator])

    async def add_animators(self, animators: Sequence[Animator]) -> None:
        emails = ", ".join(sorted({animator.email for animator in animators}))
        conflict = f"An animator of this centre has the email {emails}."
        with unique_or_conflict(conflict):
            await self.connection.executemany(
                "INSERT INTO animators (id, centre_id, name, email, confirmed_at)"
                " VALUES ($1, $2, $3, $4, $5)",
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
        rows = await self.connection.fetch(
            "SELECT id, centre_id, name, email, confirmed_at FROM animators WHERE centre_id = $1"
            " ORDER BY created_at, id",
            centre_id,
        )
        return [Animator(**dict(row)) for row in rows]

    async def animators_of(self, centre_ids: Sequence[UUID]) -> dict[UUID, list[Animator]]:
        """The animators of each of ``centre_ids`` that has any, in the order of
        :meth:`animators`."""
        rows = await self.connection.fetch(
            "SELECT id, centre_id, name, email, confirmed_at FROM animators"
            " WHERE centre_id = ANY($1::uuid[]) ORDER BY created_at, id",
            list(centre_ids),
        )
        teams: dict[UUID, list[Animator]] = {}
        for row in rows:
            teams.setdefault(row["centre_id"], []).append(Animator(**dict(row)))
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

    async def _count(self, sql: str, *args: Any) -> int:
        return int(await self.connection.fetchval(sql, *args))
