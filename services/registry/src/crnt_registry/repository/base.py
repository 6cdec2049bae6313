"""What the registry's SQL shares: the unit of work's connection, and the digest it keeps of an
address."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from crnt_shared.db import Connection


def email_hash(email: str) -> bytes:
    """What the registry keeps of an address once its application is gone: a digest."""
    return hashlib.sha256(email.strip().lower().encode()).digest()


class SqlBase:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def now(self) -> datetime:
        """The transaction's time, what ``now()`` writes."""
        moment: datetime = await self.connection.fetchval("SELECT now()")
        return moment

    async def _insert_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Insert ``rows`` into ``table``, each with its values in the order of ``columns``."""
        values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})", list(rows)
        )

    async def _page(
        self, query: str, count: str, filters: Sequence[Any], limit: int | None, offset: int
    ) -> tuple[list[Any], int]:
        """One page of rows and the total: ``query`` selects ``count(*) OVER () AS total`` and
        takes the filters, then the limit and the offset; ``count`` counts with the filters
        alone, for a page past the end (no row to read the total from)."""
        rows = await self.connection.fetch(query, *filters, limit, offset)
        if rows:
            return rows, rows[0]["total"]
        return rows, int(await self.connection.fetchval(count, *filters))
