"""The EPCIs and the communes each lists."""

from collections.abc import Iterable, Sequence

from crnt_shared.db import unique_or_conflict

from crnt_registry.repository.base import SqlBase
from crnt_registry.repository.records import Epci, Page


class EpciSql(SqlBase):
    """EPCIs, and which EPCI lists a commune."""

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
        await self._insert_rows(
            "epci_communes", ("code_insee", "epci_siren"), [(code, siren) for code in communes]
        )

    async def epci(self, siren: str, *, for_update: bool = False) -> Epci | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.connection.fetchrow(
            f"SELECT siren, name, population FROM epcis WHERE siren = $1{lock}", siren
        )
        if row is None:
            return None
        communes = await self.connection.fetch(
            "SELECT code_insee FROM epci_communes WHERE epci_siren = $1 ORDER BY code_insee", siren
        )
        return Epci(
            row["siren"], row["name"], row["population"], [r["code_insee"] for r in communes]
        )

    async def epcis(self, *, limit: int, offset: int) -> Page[Epci]:
        rows, total = await self._page(
            "SELECT e.siren, e.name, e.population, count(*) OVER () AS total,"
            " coalesce(array_agg(ec.code_insee ORDER BY ec.code_insee)"
            "   FILTER (WHERE ec.code_insee IS NOT NULL), '{}') AS communes"
            " FROM epcis e LEFT JOIN epci_communes ec ON ec.epci_siren = e.siren"
            " GROUP BY e.siren ORDER BY e.name, e.siren LIMIT $1 OFFSET $2",
            "SELECT count(*) FROM epcis",
            (),
            limit,
            offset,
        )
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
