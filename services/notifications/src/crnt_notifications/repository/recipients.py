"""Who may be mailed: the recipients' read model (EPCIs, centres, animators) built from the
registry's events, their preferences and the addresses confirmed."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from uuid import UUID

from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts

from crnt_notifications.domain import HEARING_STATUSES, Recipient, normalise_email
from crnt_notifications.repository.rows import CentreRow
from crnt_notifications.repository.tables import Tables

#: The columns of ``centres``, as a CentreRow holds them and the registry's facts name them.
_CENTRE_COLUMNS = "id, status, nom, commune, code_postal, epci_siren, epci_name"
_centre_values = attrgetter(*_CENTRE_COLUMNS.split(", "))


class Recipients(Tables):
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

    async def upsert_centres(self, centres: Sequence[CentreFacts]) -> None:
        """The centres' facts, in one statement (a centre named twice is written as last
        named)."""
        latest = list({centre.id: centre for centre in centres}.values())
        if not latest:
            return
        await self.connection.execute(
            f"INSERT INTO centres ({_CENTRE_COLUMNS})"
            " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
            " $6::text[], $7::text[])"
            " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, nom = EXCLUDED.nom,"
            " commune = EXCLUDED.commune, code_postal = EXCLUDED.code_postal,"
            " epci_siren = EXCLUDED.epci_siren, epci_name = EXCLUDED.epci_name,"
            " updated_at = now()",
            *(list(column) for column in zip(*map(_centre_values, latest), strict=True)),
        )

    async def replace_teams(self, teams: Sequence[tuple[UUID, Sequence[AnimatorFacts]]]) -> None:
        """Each centre's animators become exactly those given (events carry the full list), in
        one statement for all the centres (an animator named twice is written as last named)."""
        teams = list({centre_id: (centre_id, team) for centre_id, team in teams}.values())
        if not teams:
            return
        named = {
            animator.id: (centre_id, animator) for centre_id, team in teams for animator in team
        }
        await self.connection.execute(
            "WITH gone AS (DELETE FROM animators"
            " WHERE centre_id = ANY($1::uuid[]) AND NOT (id = ANY($2::uuid[])))"
            " INSERT INTO animators (id, centre_id, name, email)"
            " SELECT id, centre_id, name, email"
            " FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[])"
            " WITH ORDINALITY AS a (id, centre_id, name, email, n) ORDER BY n"
            " ON CONFLICT (id) DO UPDATE SET centre_id = EXCLUDED.centre_id,"
            " name = EXCLUDED.name, email = EXCLUDED.email, updated_at = now()",
            [centre_id for centre_id, _ in teams],
            list(named),
            [centre_id for centre_id, _ in named.values()],
            [animator.name for _, animator in named.values()],
            [normalise_email(animator.email) for _, animator in named.values()],
        )

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

    async def centres(self, centre_ids: Iterable[UUID]) -> dict[UUID, CentreRow]:
        """The centres known among ``centre_ids``."""
        rows = await self.connection.fetch(
            f"SELECT {_CENTRE_COLUMNS} FROM centres WHERE id = ANY($1::uuid[])",
            list(centre_ids),
        )
        return {row["id"]: CentreRow(**dict(row)) for row in rows}

    async def animators_of(self, centre_id: UUID) -> list[Recipient]:
        return (await self.teams([centre_id])).get(centre_id, [])

    async def teams(self, centre_ids: Iterable[UUID]) -> dict[UUID, list[Recipient]]:
        """The animators of each of these centres that has some, by name."""
        rows = await self.connection.fetch(
            "SELECT email, name, centre_id FROM animators WHERE centre_id = ANY($1::uuid[])"
            " ORDER BY name, id",
            list(centre_ids),
        )
        teams: dict[UUID, list[Recipient]] = {}
        for row in rows:
            teams.setdefault(row["centre_id"], []).append(
                Recipient(row["email"], row["name"], row["centre_id"])
            )
        return teams

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
