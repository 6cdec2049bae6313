"""PostgreSQL: the pool, the unit of work, and the migration runner."""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import TracebackType
from typing import Any, Self

import asyncpg
import structlog
from asyncpg import Connection as Connection
from asyncpg import Pool as Pool

from crnt_shared.events import Event
from crnt_shared.topics import Topics
from crnt_shared.tracing import committed

log = structlog.get_logger(__name__)

SHARED_MIGRATIONS = files("crnt_shared") / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


async def _init_connection(connection: Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, *, max_size: int = 10) -> Pool:
    """A pool whose connections read and write json/jsonb as Python objects."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool


class UnitOfWork:
    """One transaction: rolled back unless :meth:`commit` is called.

    Events added with :meth:`publish` are written to the outbox in the same transaction, bound
    for their publisher's topic among ``topics``.
    After a successful commit, ``on_publish`` hooks (the relay's wake-up) run if it wrote
    events, and ``on_commit`` hooks (a worker with work to pick up) run in any case.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        topics: Topics | None = None,
        on_publish: Sequence[Callable[[], None]] = (),
        on_commit: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._pool = pool
        self._topics = topics or Topics()
        self._on_publish = on_publish
        self._on_commit = on_commit
        self._connection: Connection | None = None
        self._transaction: Any = None
        self._published = 0
        self.committed = False

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use `async with`")
        return self._connection

    async def __aenter__(self) -> Self:
        self._connection = await self._pool.acquire()
        try:
            self._transaction = self._connection.transaction()
            await self._transaction.start()
        except BaseException:
            await self._pool.release(self._connection)
            self._connection = None
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self.committed:
                try:
                    await self._transaction.rollback()
                except Exception:
                    if exc is None:
                        raise
                    # The error (or the cancellation) that brought us here must not be replaced
                    # by the rollback's: a swallowed cancellation keeps a task from stopping.
                    # The connection is in doubt: close it rather than reuse it.
                    log.warning("rollback failed after an error", error=repr(exc))
                    connection.terminate()
        finally:
            await self._pool.release(connection)

    async def commit(self) -> None:
        await self._transaction.commit()
        self.committed = True
        committed(self._published)
        hooks = [*self._on_publish, *self._on_commit] if self._published else self._on_commit
        for hook in hooks:
            hook()

    async def publish(self, event: Event, *, topic: str | None = None) -> None:
        """Write ``event`` to the outbox, keyed by its subject (the aggregate id)."""
        await self.publish_many([event], topic=topic)

    async def publish_many(self, events: Sequence[Event], *, topic: str | None = None) -> None:
        if not events:
            return
        rows: list[tuple[Any, ...]] = []
        for event in events:
            if not (topic or event.publisher):
                raise ValueError(f"{event.type} has no publisher: set it on the contract")
            destination = topic or self._topics.of(event.publisher)
            headers = {"traceparent": event.traceparent} if event.traceparent else {}
            rows.append(
                (event.id, destination, event.subject, event.type, event.to_json(), headers)
            )
        await self.connection.executemany(
            "INSERT INTO outbox (event_id, topic, key, event_type, payload, headers)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            rows,
        )
        self._published += len(rows)


#: A handler of one event contract: its effects go through the unit of work.
EventHandler = Callable[[Any, UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class MigrationSource:
    """Numbered SQL files (``0001_name.sql``) recorded under ``namespace``."""

    namespace: str
    folder: Traversable


def _migration_files(source: MigrationSource) -> list[tuple[int, str, str]]:
    found = []
    for entry in source.folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    versions = [version for version, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number in {source.namespace}")
    return sorted(found)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def migrate(connection: Connection, sources: Sequence[MigrationSource]) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction.

    An advisory lock makes two replicas that start together apply each migration once.
    Returns the names of the files applied now.
    """
    applied_now: list[str] = []
    await connection.execute("SELECT pg_advisory_lock($1)", _lock_key("crnt.migrations"))
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " namespace text NOT NULL, version integer NOT NULL, name text NOT NULL,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (namespace, version))"
        )
        for source in sources:
            rows = await connection.fetch(
                "SELECT version, checksum FROM schema_migrations WHERE namespace = $1",
                source.namespace,
            )
            applied = {row["version"]: row["checksum"] for row in rows}
            for version, name, sql in _migration_files(source):
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in applied:
                    if applied[version] != checksum:
                        raise RuntimeError(
                            f"migration {source.namespace}/{name} changed after it was applied:"
                            " add a new numbered file instead of editing an applied one"
                        )
                    continue
                async with connection.transaction():
                    await connection.execute(sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (namespace, version, name, checksum)"
                        " VALUES ($1, $2, $3, $4)",
                        source.namespace,
                        version,
                        name,
                        checksum,
                    )
                applied_now.append(f"{source.namespace}/{name}")
                log.info("migration applied", migration=f"{source.namespace}/{name}")
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _lock_key("crnt.migrations"))
    return applied_now
