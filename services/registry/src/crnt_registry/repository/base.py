"""What the registry's SQL shares: the unit of work's connection, and the digest it keeps of an
address."""

import hashlib
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

    async def _count(self, sql: str, *args: Any) -> int:
        return int(await self.connection.fetchval(sql, *args))
