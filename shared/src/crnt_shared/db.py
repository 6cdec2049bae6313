"""PostgreSQL: the pool, the unit of work, and the migration runner."""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import TracebackType
from typing import Any, Generic, Protocol, Self

import asyncpg
import structlog
from asyncpg import Connection as Connection
from asyncpg import Pool as Pool
from typing_extensions import TypeVar

from crnt_shared.errors import Conflict
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


#: The repository a unit of work exposes: the service's own, built from the transaction's
#: connection (``Any`` for a service that names none and still reads ``uow.connection``).
R = TypeVar("R", default=Any)
R_co = TypeVar("R_co", covariant=True, default=Any)
T = TypeVar("T")


class AbstractUnitOfWork(Protocol[R_co]):
    """What a handler needs of its unit of work: the service's repository, the outbox and the
    commit. :class:`UnitOfWork` is the real one; :mod:`crnt_shared.fakes` has one in memory."""

    @property
    def repository(self) -> R_co: ...

    async def publish(self, event: Event, *, topic: str | None = None) -> None: ...

    async def publish_many(self, events: Sequence[Event], *, topic: str | None = None) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWork(Generic[R]):
    """One transaction: rolled back unless :meth:`commit` is called.

    ``repository`` is the service's repository over the transaction's connection, built by
    ``repository_factory`` (which the service gives its runtime) the first time it is read.

    Events added with :meth:`publish` are written to the outbox in the same transaction, bound
    for their publisher's topic among ``topics``.
    After a successful commit, ``on_publish`` hooks (the relay's wake-up) run if it wrote
    events, and ``on_commit`` hooks (a worker with work to pick up) run in any case.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        repository_factory: Callable[[Connection], R] | None = None,
        topics: Topics | None = None,
        on_publish: Sequence[Callable[[], None]] = (),
        on_commit: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._pool = pool
        self._repository_factory = repository_factory
        self._repository: R | None = None
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

    @property
    def repository(self) -> R:
        if self._repository is None:
            if self._repository_factory is None:
                raise RuntimeError("this unit of work has no repository: the runtime names none")
            self._repository = self._repository_factory(self.connection)
        return self._repository

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
        self._repository = None
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
        ids, topics, keys, types, payloads, traceparents = [], [], [], [], [], []
        for event in events:
            if not (topic or event.publisher):
                raise ValueError(f"{event.type} has no publisher: set it on the contract")
            ids.append(event.id)
            topics.append(topic or self._topics.of(event.publisher))
            keys.append(event.subject)
            types.append(event.type)
            payloads.append(event.to_json())
            traceparents.append(event.traceparent)
        # One statement for the lot, in the order given (the relay publishes by id).
        await self.connection.execute(
            "INSERT INTO outbox (event_id, topic, key, event_type, payload, headers)"
            " SELECT event_id, topic, key, event_type, payload,"
            " CASE WHEN traceparent IS NULL THEN '{}'::jsonb"
            " ELSE jsonb_build_object('traceparent', traceparent) END"
            " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])"
            " WITH ORDINALITY AS u (event_id, topic, key, event_type, payload, traceparent, n)"
            " ORDER BY n",
            ids,
            topics,
            keys,
            types,
            payloads,
            traceparents,
        )
        self._published += len(ids)


@contextmanager
def unique_or_conflict(message: str, **details: Any) -> Iterator[None]:
    """A write that a unique constraint refuses (a concurrent one got there first) becomes a
    :class:`~crnt_shared.errors.Conflict` saying ``message``: a repository's translation, so
    that no handler sees asyncpg. The transaction is spoilt: the handler's error rolls it back."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise Conflict(message, **details) from error


async def fetch_records(
    connection: Connection, record: Callable[..., T], query: str, *args: Any
) -> list[T]:
    """The rows of ``query`` as ``record``s, each built from its columns by name: what a
    repository's reads return (its dataclasses name their fields as the columns)."""
    return [record(**dict(row)) for row in await connection.fetch(query, *args)]


async def fetch_record(
    connection: Connection, record: Callable[..., T], query: str, *args: Any
) -> T | None:
    """The first row of ``query`` as a ``record`` (see :func:`fetch_records`), or ``None``."""
    row = await connection.fetchrow(query, *args)
    return None if row is None else record(**dict(row))


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
