"""Rate limits shared by every replica of a service: a counter per key and window in PostgreSQL.

A service that limits includes :data:`RATE_LIMITS_SQL` in one of its numbered migrations and
calls ``await RateLimiter(pool).check(key, limit=5, per=timedelta(hours=1))`` before the work
it protects. The check raises :class:`TooManyRequests`, which the shared HTTP layer
(:mod:`crnt_shared.http`) renders as a 429 problem with a ``Retry-After`` header.

Each key has a fixed window that opens at its first request and lasts ``per``: at most
``limit`` requests pass in it, and a refused request does not extend it (a client that keeps
knocking is let in again when the window ends, not later). One ``INSERT … ON CONFLICT`` per
check, in its own transaction: replicas share the counter through the row lock, and the count
holds even when the caller's own transaction rolls back. Keys are stored as SHA-256 digests,
never as given (they are addresses: a client's IP, a person's email), and rows whose window
ended are deleted by :meth:`RateLimiter.purge`.
"""

import hashlib
import ipaddress
import math
from datetime import timedelta

from asyncpg import Pool

RATE_LIMITS_SQL = """\
-- Rate limits (crnt_shared.ratelimit): one row per hashed key and window, shared by replicas.
CREATE TABLE IF NOT EXISTS rate_limits (
    key_hash   bytea       PRIMARY KEY,
    hits       integer     NOT NULL CHECK (hits >= 1),
    resets_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_by_reset ON rate_limits (resets_at);
"""

_CHECK = """
INSERT INTO rate_limits AS counter (key_hash, hits, resets_at)
VALUES ($1, 1, statement_timestamp() + $2::interval)
ON CONFLICT (key_hash) DO UPDATE SET
    hits = CASE WHEN counter.resets_at <= statement_timestamp() THEN 1
                ELSE LEAST(counter.hits + 1, $3::integer + 1) END,
    resets_at = CASE WHEN counter.resets_at <= statement_timestamp() THEN EXCLUDED.resets_at
                     ELSE counter.resets_at END
RETURNING hits,
    EXTRACT(EPOCH FROM counter.resets_at - statement_timestamp())::float8 AS seconds_left
"""


class TooManyRequests(Exception):
    """The caller went over a limit; ``retry_after`` is how many seconds to wait (≥ 1)."""

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        self.detail = detail or (
            f"Too many requests of this kind from you: retry in {self.retry_after} s."
        )
        super().__init__(self.detail)


def hash_key(key: str) -> bytes:
    """What the table stores of a key: its SHA-256 digest."""
    return hashlib.sha256(f"crnt.ratelimit:{key}".encode()).digest()


def client_bucket(address: str) -> str:
    """What a per-client limit counts: an IPv4 address, or an IPv6 address's /64 (a subscriber
    usually gets a whole /64, and could otherwise take a new address for each request)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class RateLimiter:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def check(self, key: str, *, limit: int, per: timedelta) -> None:
        """Count one request for ``key``; raise :class:`TooManyRequests` past ``limit`` in
        the window of length ``per``.

        Name the kind of request in the key (``"applications:client:203.0.113.7"``): two limits
        on one key share its window, so one key should have one ``per``.
        """
        if limit < 1:
            raise ValueError("a rate limit admits at least one request")
        if per <= timedelta(0):
            raise ValueError("a rate limit's window must be longer than zero")
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(_CHECK, hash_key(key), per, limit)
        assert row is not None
        if row["hits"] > limit:
            raise TooManyRequests(math.ceil(row["seconds_left"]))

    async def purge(self) -> int:
        """Delete the rows whose window ended; returns how many."""
        async with self._pool.acquire() as connection:
            status = await connection.execute(
                "DELETE FROM rate_limits WHERE resets_at <= statement_timestamp()"
            )
        return int(status.split()[-1])
