"""The centres: their facts (the standard's core fields in columns, the rest in ``details``) and
status."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from crnt_shared.db import unique_or_conflict

from crnt_registry.domain import (
    CORE_FIELDS,
    DETAIL_FIELDS,
    PIVOT_PLACEHOLDER,
    CentreDraft,
    MembershipStatus,
)
from crnt_registry.repository.base import SqlBase
from crnt_registry.repository.records import Centre, NewCentre, Page

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


#: The columns a centre reads as they are stored, besides its status and facts.
_CENTRE_AS_STORED = (
    "id",
    "epci_siren",
    "epci_name",
    "date_maj",
    "created_at",
    "updated_at",
    "member_since",
)


def _centre(row: Any) -> Centre:
    values = {name: row[name] for name in CORE_FIELDS}
    values.update(row["details"])
    given = set(values)
    for name, default in _DEFAULTS.items():
        if name not in values:
            values[name] = list(default) if isinstance(default, list) else default
    # Stored facts were valid when written: load them as they are.
    facts = CentreDraft.model_construct(given, **values)
    as_stored = {name: row[name] for name in _CENTRE_AS_STORED}
    return Centre(status=MembershipStatus(row["status"]), facts=facts, **as_stored)


def _details(facts: CentreDraft) -> dict[str, Any]:
    dumped = facts.model_dump(mode="json", include=set(DETAIL_FIELDS))
    return {name: value for name, value in dumped.items() if value not in (None, [])}


class CentreSql(SqlBase):
    """Centres, read with their EPCI's name and the date they became members."""

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
        where = (
            " WHERE ($1::text[] IS NULL OR c.status = ANY($1::text[]))"
            " AND ($2::text IS NULL OR c.epci_siren = $2)"
        )
        rows, total = await self._page(
            f"SELECT {_CENTRE_COLUMNS}, count(*) OVER () AS total FROM {_CENTRE_FROM}{where}"
            " ORDER BY c.nom, c.id LIMIT $3 OFFSET $4",
            f"SELECT count(*) FROM centres c{where}",
            (None if statuses is None else [status.value for status in statuses], epci_siren),
            limit,
            offset,
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

    async def set_status(self, centre_id: UUID, status: MembershipStatus) -> None:
        await self.set_statuses([centre_id], status)
