"""Identity's SQL (asyncpg): people, the registry's read model, links, sessions and keys."""

from datetime import datetime
from typing import Any
from uuid import UUID

from crnt_shared import auth
from crnt_shared.auth import Role
from crnt_shared.db import Connection, fetch_record, fetch_records
from crnt_shared.erasure import digest_matches, forget_published_events

from crnt_identity.domain import Animation, Person
from crnt_identity.repository.records import Session, SigningKey

_ERASED_ADDRESSES = f"""
SELECT email AS address FROM animators WHERE animator_id = $1
UNION SELECT email FROM animators WHERE {digest_matches("email", "$2", "$3")}
UNION SELECT email FROM people WHERE {digest_matches("email", "$2", "$3")}
"""


def _insert(table: str, columns: tuple[str, ...], then: str = "") -> str:
    """The statement that inserts one row of ``columns`` (``$1`` onwards, in their order) into
    ``table``, followed by ``then`` (an ``ON CONFLICT`` clause)."""
    values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}){then}"


_INSERT_PERSON = _insert(
    "people", ("id", "email", "display_name", "roles"), " ON CONFLICT (email) DO NOTHING"
)
_ANIMATOR_COLUMNS = ("centre_id", "animator_id", "email", "name")
_INSERT_LINK = _insert("sign_in_links", ("secret_hash", "person_id", "return_to", "expires_at"))
_INSERT_SESSION = _insert("sessions", ("id", "person_id", "refresh_hash", "expires_at"))
#: What a :class:`SigningKey` stores when it is made (it is retired later).
_KEY_COLUMNS = ("kid", "private_pem", "public_jwk", "created_at", "signs_from")


def _person(row: Any) -> Person:
    return Person(
        row["id"],
        row["email"],
        row["display_name"],
        frozenset(Role(role) for role in row["roles"]),
        row["removed_at"] is not None,
    )


class Repository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # People

    async def person(self, person_id: UUID, *, lock: bool = False) -> Person | None:
        sql = "SELECT * FROM people WHERE id = $1" + (" FOR UPDATE" if lock else "")
        row = await self.connection.fetchrow(sql, person_id)
        return None if row is None else _person(row)

    async def person_by_email(self, email: str) -> Person | None:
        row = await self.connection.fetchrow("SELECT * FROM people WHERE email = $1", email)
        return None if row is None else _person(row)

    async def people(self) -> list[Person]:
        rows = await self.connection.fetch(
            "SELECT * FROM people WHERE removed_at IS NULL AND roles <> '{}' ORDER BY email"
        )
        return [_person(row) for row in rows]

    async def insert_person(
        self, person_id: UUID, email: str, display_name: str, roles: frozenset[Role]
    ) -> bool:
        """Add a person unless the address is known (even removed); whether it was added."""
        status = await self.connection.execute(
            _INSERT_PERSON, person_id, email, display_name, sorted(roles)
        )
        return bool(status.endswith(" 1"))

    async def grant(
        self, person_id: UUID, roles: frozenset[Role], display_name: str | None
    ) -> None:
        await self.connection.execute(
            "UPDATE people"
            " SET roles = ARRAY(SELECT DISTINCT unnest(roles || $2::text[]) ORDER BY 1),"
            " display_name = COALESCE($3, display_name) WHERE id = $1",
            person_id,
            sorted(roles),
            display_name,
        )

    async def remove_person(self, person_id: UUID, at: datetime) -> None:
        await self.connection.execute(
            "UPDATE people SET removed_at = $2, roles = '{}' WHERE id = $1", person_id, at
        )

    async def restore_person(self, person_id: UUID) -> None:
        await self.connection.execute(
            "UPDATE people SET removed_at = NULL WHERE id = $1", person_id
        )

    # The registry's read model

    async def animations(self, email: str) -> list[Animation]:
        return await fetch_records(
            self.connection,
            Animation,
            "SELECT a.centre_id, a.name, c.status = 'member' AS member"
            " FROM animators a JOIN centres c ON c.id = a.centre_id"
            " WHERE a.email = $1 ORDER BY c.name, a.centre_id",
            email,
        )

    async def upsert_centre(self, centre_id: UUID, name: str, status: str) -> str | None:
        """Record a centre's status; returns the previous one (``None`` if new)."""
        previous = await self.connection.fetchval(
            "SELECT status FROM centres WHERE id = $1 FOR UPDATE", centre_id
        )
        await self.connection.execute(
            "INSERT INTO centres (id, name, status) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status",
            centre_id,
            name,
            status,
        )
        return None if previous is None else str(previous)

    async def centre_emails(self, centre_id: UUID) -> list[str]:
        rows = await self.connection.fetch(
            "SELECT email FROM animators WHERE centre_id = $1", centre_id
        )
        return [row["email"] for row in rows]

    async def replace_animators(
        self, centre_id: UUID, animators: list[tuple[UUID, str, str]]
    ) -> list[str]:
        """Set a centre's animators (id, email, name); returns the addresses that left it."""
        before = set(await self.centre_emails(centre_id))
        await self.connection.execute("DELETE FROM animators WHERE centre_id = $1", centre_id)
        await self.connection.executemany(
            _insert("animators", _ANIMATOR_COLUMNS, " ON CONFLICT DO NOTHING"),
            [(centre_id, animator_id, email, name) for animator_id, email, name in animators],
        )
        return sorted(before - {email for _, email, _ in animators})

    async def upsert_animator(
        self, centre_id: UUID, animator_id: UUID, email: str, name: str
    ) -> None:
        upsert = _insert(
            "animators",
            _ANIMATOR_COLUMNS,
            " ON CONFLICT (centre_id, animator_id)"
            " DO UPDATE SET email = excluded.email, name = excluded.name",
        )
        await self.connection.execute(upsert, centre_id, animator_id, email, name)

    async def delete_animator(self, centre_id: UUID, animator_id: UUID) -> None:
        await self.connection.execute(
            "DELETE FROM animators WHERE centre_id = $1 AND animator_id = $2",
            centre_id,
            animator_id,
        )

    # Links

    async def insert_link(
        self, secret_hash: bytes, person_id: UUID, return_to: str | None, expires_at: datetime
    ) -> None:
        await self.connection.execute(_INSERT_LINK, secret_hash, person_id, return_to, expires_at)

    async def use_link(self, secret_hash: bytes, now: datetime) -> tuple[UUID, str | None] | None:
        """Mark a valid link used (once, even under concurrent redeems); its person."""
        row = await self.connection.fetchrow(
            "UPDATE sign_in_links SET used_at = $2"
            " WHERE secret_hash = $1 AND used_at IS NULL AND expires_at > $2"
            " RETURNING person_id, return_to",
            secret_hash,
            now,
        )
        return None if row is None else (row["person_id"], row["return_to"])

    async def purge_links(self, now: datetime) -> None:
        await self.connection.execute("DELETE FROM sign_in_links WHERE expires_at < $1", now)

    # Sessions

    async def insert_session(
        self, session_id: UUID, person_id: UUID, refresh_hash: bytes, expires_at: datetime
    ) -> None:
        await self.connection.execute(
            _INSERT_SESSION, session_id, person_id, refresh_hash, expires_at
        )

    async def session_by_refresh(self, refresh_hash: bytes) -> Session | None:
        return await fetch_record(
            self.connection,
            Session,
            "SELECT id, person_id, expires_at, ended_at FROM sessions WHERE refresh_hash = $1",
            refresh_hash,
        )

    async def end_session(self, session_id: UUID, at: datetime, reason: str) -> None:
        await self.connection.execute(
            "UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL",
            session_id,
            at,
            reason,
        )

    async def end_sessions_of(self, person_id: UUID, at: datetime, reason: str) -> int:
        status = await self.connection.execute(
            "UPDATE sessions SET ended_at = $2, end_reason = $3"
            " WHERE person_id = $1 AND ended_at IS NULL",
            person_id,
            at,
            reason,
        )
        return int(status.split()[-1])

    # Keys

    async def signing_keys(self) -> list[SigningKey]:
        query = "SELECT * FROM signing_keys ORDER BY created_at"
        return await fetch_records(self.connection, SigningKey, query)

    async def insert_signing_key(self, key: SigningKey) -> None:
        await self.connection.execute(
            _insert("signing_keys", _KEY_COLUMNS),
            *(getattr(key, column) for column in _KEY_COLUMNS),
        )

    async def retire_signing_key(self, kid: str, at: datetime) -> None:
        await self.connection.execute(
            "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1", kid, at
        )

    async def lock_keys(self) -> None:
        """One replica at a time creates or retires keys."""
        await self.connection.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")

    # What identity knows of its own keys and revocations, as every service does

    async def record_key(self, kid: str, jwk: dict[str, Any], signs_from: datetime) -> None:
        await auth.record_key(self.connection, kid, jwk, signs_from)

    async def record_retired_key(self, kid: str, at: datetime) -> None:
        await auth.record_retired_key(self.connection, kid, at)

    async def record_revocation(self, person_id: UUID, revoked_before: datetime) -> None:
        await auth.record_revocation(self.connection, str(person_id), revoked_before)

    # Erasure

    async def erased_addresses(self, animator_id: UUID, salt: str, email_digest: str) -> list[str]:
        rows = await self.connection.fetch(_ERASED_ADDRESSES, animator_id, salt, email_digest)
        return sorted({row["address"] for row in rows})

    async def forget_animator(self, animator_id: UUID, addresses: list[str]) -> None:
        await self.connection.execute(
            "DELETE FROM animators WHERE animator_id = $1 OR email = ANY($2::text[])",
            animator_id,
            addresses,
        )

    async def people_without_roles(self, addresses: list[str]) -> list[UUID]:
        rows = await self.connection.fetch(
            "SELECT id FROM people WHERE email = ANY($1::text[]) AND roles = '{}'", addresses
        )
        return [row["id"] for row in rows]

    async def delete_person(self, person_id: UUID) -> None:
        await self.connection.execute("DELETE FROM sign_in_links WHERE person_id = $1", person_id)
        await self.connection.execute("DELETE FROM sessions WHERE person_id = $1", person_id)
        await self.connection.execute("DELETE FROM people WHERE id = $1", person_id)

    async def forget_published_events(self, addresses: list[str]) -> int:
        return await forget_published_events(self.connection, addresses)
