"""What runs inside every service process: pool, migrations, outbox relay, Kafka consumers and
the service's background workers.

``ServiceRuntime.lifespan`` is the FastAPI lifespan of the service: it waits for the database
(wait-then-migrate), applies the migrations, starts the relay, then connects the FastStream
broker in the background, so that the HTTP API (whose writes only touch PostgreSQL) comes up
even while Kafka is down; ``/ready`` says what is missing. Then it runs the service's
``on_start`` steps and starts its workers (:meth:`ServiceRuntime.add_worker`); at the end it
stops them in reverse order, runs ``on_stop``, and closes the rest.
"""

import asyncio
import contextlib
import functools
import importlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib.resources import files
from typing import Any, Generic

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from typing_extensions import TypeVar

from crnt_shared.asyncapi import asyncapi_document, readings
from crnt_shared.auth import AUTH_HANDLERS, Authenticator, Role, database_authenticator, read_jwks
from crnt_shared.consumer import EventConsumer, Handler, RetryPolicy
from crnt_shared.db import (
    SHARED_MIGRATIONS,
    Connection,
    MigrationSource,
    Pool,
    UnitOfWork,
    create_pool,
    migrate,
)
from crnt_shared.events import Event
from crnt_shared.http import ReadinessCheck, create_http_app
from crnt_shared.logging import configure_logging
from crnt_shared.outbox import OutboxRelay
from crnt_shared.retention import Purge, RetentionWorker, published_outbox_purge
from crnt_shared.retry import Backoff
from crnt_shared.settings import ServiceSettings
from crnt_shared.tracing import configure_tracing
from crnt_shared.worker import Worker

log = structlog.get_logger(__name__)

DATABASE_WAIT_SECONDS = 60.0
POOL_CLOSE_SECONDS = 10.0
BROKER_BACKOFF = Backoff(1.0, 30.0)


#: The service's repository, which its units of work expose (``uow.repository``).
R = TypeVar("R", default=Any)
C = TypeVar("C")
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceDefinition(Generic[R]):
    """A service as the shared runtime runs it, declared once beside its wiring: its name (its
    package is ``crnt_<name>``), the repository of its units of work, the events it publishes,
    whether it reads identity's events (``False``: identity itself). Its migrations are its
    package's ``migrations`` folder; its HTTP API is titled ``crnt <name>`` and described by
    its package's docstring, after the first line."""

    name: str
    repository: Callable[[Connection], R]
    published: Sequence[type[Event]]
    identity_events: bool = True

    @property
    def package(self) -> str:
        return f"crnt_{self.name}"

    @property
    def migrations(self) -> MigrationSource:
        return MigrationSource(self.name, files(self.package) / "migrations")

    @property
    def title(self) -> str:
        return f"crnt {self.name}"

    @property
    def description(self) -> str:
        doc = inspect.cleandoc(importlib.import_module(self.package).__doc__ or "")
        _, _, body = doc.partition("\n\n")
        return " ".join(body.split())


class ServiceRuntime(Generic[R]):
    def __init__(
        self,
        service: ServiceDefinition[R] | str,
        *,
        settings: ServiceSettings,
        repository: Callable[[Connection], R] | None = None,
        migrations: MigrationSource | None = None,
        subscriptions: Sequence["Subscription"] = (),
        published: Sequence[type[Event]] = (),
        identity_events: bool = True,
    ) -> None:
        """Tokens are verified with the keys and revocations that identity announces, which a
        subscription of the service's own records (``identity_events=False``: identity itself,
        which records its own in the same tables). ``repository`` builds the service's
        repository over a transaction's connection: every unit of work of the runtime, those
        of its consumers included, exposes it. ``service`` is the service's definition, or its
        name with those parts given here."""
        self._title: str | None = None
        self._description: str | None = None
        if isinstance(service, ServiceDefinition):
            repository, migrations = service.repository, service.migrations
            published, identity_events = service.published, service.identity_events
            self._title, self._description = service.title, service.description
            service = service.name
        self.service = service
        self._repository = repository
        self.settings = settings
        self.topics = settings.topics
        self._migrations = [MigrationSource("shared", SHARED_MIGRATIONS)]
        if migrations is not None:
            self._migrations.append(migrations)
        self._subscriptions = list(subscriptions)
        if identity_events:
            self._subscriptions.append(
                Subscription(
                    settings.identity_consumer_group or f"{service}-identity",
                    [self.topics.identity],
                    AUTH_HANDLERS,
                )
            )
        #: Who makes each request: ``runtime.auth.require(Role.AGENCY)`` and the like.
        self.auth: Authenticator = database_authenticator(
            service_tokens={
                Role.AGENCY: settings.agency_token.get_secret_value(),
                Role.COPIL: settings.copil_token.get_secret_value(),
            },
            jwks=read_jwks(settings.identity_jwks),
            pool=lambda: self.pool,
        )
        self._published = published
        self.broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id=service, logger=None)
        self._pool: Pool | None = None
        self.relay: OutboxRelay | None = None
        self._broker_task: asyncio.Task[None] | None = None
        self.consumers: list[EventConsumer] = []
        self.broker_connected = False
        #: Called after every commit of a request or an event handler: workers of the service
        #: that pick up what those transactions wrote (e.g. the notifications' sender).
        self.commit_hooks: list[Callable[[], None]] = []
        #: What the retention worker purges, by name; a service adds its own.
        self.purges: dict[str, Purge] = {
            "outbox": published_outbox_purge(timedelta(days=settings.outbox_retention_days))
        }
        self.retention = RetentionWorker(
            lambda: self.pool, self.purges, settings.retention_every_seconds
        )
        self._asyncapi: dict[str, Any] | None = None
        #: The service's own background tasks (:meth:`add_worker`).
        self.workers: list[Worker] = []
        #: Steps run once the database, relay and consumers are set up, before the workers
        #: start (identity's first signing key), and after they stopped (closing SMTP clients).
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError(f"the {self.service} runtime has not started")
        return self._pool

    def add_worker(self, worker: Worker, *, woken_by_commits: bool = False) -> None:
        """A background task of the service, started with it (after ``on_start``) and stopped
        before the rest, in reverse order; ``woken_by_commits`` wakes it after every commit of a
        request or an event handler (work that those transactions wrote for it)."""
        self.workers.append(worker)
        if woken_by_commits:
            self.commit_hooks.append(worker.wake)

    def unit_of_work(self, *, wake_workers: bool = True) -> UnitOfWork[R]:
        """A transaction whose outbox rows wake the relay right after commit, and whose commit
        wakes the service's workers (``commit_hooks``) unless a worker itself commits it."""
        hooks = [self.relay.wake] if self.relay else []
        workers = self.commit_hooks if wake_workers else []
        return UnitOfWork(
            self.pool,
            repository_factory=self._repository,
            topics=self.topics,
            on_publish=hooks,
            on_commit=workers,
        )

    async def run(self, handler: Callable[[C, UnitOfWork[R]], Awaitable[T]], command: C) -> T:
        """``handler(command, uow)`` in a unit of work of its own (it commits what it keeps)."""
        async with self.unit_of_work() as uow:
            return await handler(command, uow)

    async def read(self, query: Callable[[R], Awaitable[T]]) -> T:
        """``query(repository)`` over a connection of the pool, outside any transaction: what
        the routes that only read use."""
        if self._repository is None:
            raise RuntimeError(f"the {self.service} runtime names no repository")
        async with self.pool.acquire() as connection:
            return await query(self._repository(connection))

    def http_app(
        self,
        *,
        routers: Sequence[APIRouter],
        title: str | None = None,
        description: str | None = None,
    ) -> FastAPI:
        """The service's FastAPI app: ``routers`` under ``/api/v1``, this runtime as its lifespan
        and readiness, the body limit of the settings; ``app.state.runtime`` is this runtime.
        Its title and description are those of the service's definition unless given here."""
        title = title or self._title
        description = description or self._description
        if title is None or description is None:
            raise TypeError(f"the {self.service} app wants a title and a description")
        app = create_http_app(
            service=self.service,
            title=title,
            description=description,
            lifespan=self.lifespan,
            routers=routers,
            readiness_checks=self.readiness_checks,
            max_body_bytes=self.settings.max_body_bytes,
            asyncapi=self.asyncapi,
        )
        app.state.runtime = self
        return app

    def asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI 3.0 document of the topics this service publishes and consumes."""
        if self._asyncapi is None:
            read = [
                reading
                for subscription in self._subscriptions
                for reading in readings(
                    subscription.group_id, subscription.topics, subscription.handlers, self.topics
                )
            ]
            self._asyncapi = asyncapi_document(
                service=self.service, published=self._published, read=read, names=self.topics
            )
        return self._asyncapi

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        try:
            await self.start()
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        configure_logging(self.service, self.settings.log_level, self.settings.log_json)
        configure_tracing(self.service)
        self._pool = await _wait_for_database(
            self.settings.database_url.unicode_string(), self.settings.db_pool_max_size
        )
        async with self._pool.acquire() as connection:
            await migrate(connection, self._migrations)
        self.relay = OutboxRelay(
            self._pool,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            service=self.service,
            batch_size=self.settings.outbox_batch_size,
            poll_seconds=self.settings.outbox_poll_seconds,
        )
        self.relay.start()
        self.retention.start()
        retry = RetryPolicy(
            max_attempts=self.settings.consumer_max_attempts,
            backoff_seconds=self.settings.consumer_backoff_seconds,
            backoff_max_seconds=self.settings.consumer_backoff_max_seconds,
        )
        # What every consumer group of the service shares; each subscription names the rest.
        consumer_of = functools.partial(
            EventConsumer,
            service=self.service,
            pool=self._pool,
            repository_factory=self._repository,
            publish_to=self.topics,
            on_publish=[self.relay.wake],
            on_commit=self.commit_hooks,
            retry=retry,
        )
        for subscription in self._subscriptions:
            consumer = consumer_of(
                group_id=subscription.group_id,
                topics=subscription.topics,
                handlers=subscription.handlers,
            )
            consumer.register(self.broker)
            self.consumers.append(consumer)
        self._broker_task = asyncio.create_task(self._connect_broker())
        for step in self.on_start:
            await step()
        for worker in self.workers:
            worker.start()
        log.info("service started", port=self.settings.http_port)

    async def stop(self) -> None:
        for worker in reversed(self.workers):
            await worker.stop()
        for step in self.on_stop:
            try:
                await step()
            except Exception as error:
                log.warning("a stop step failed", step=repr(step), error=repr(error))
        if self._broker_task is not None:
            self._broker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._broker_task
        for consumer in self.consumers:
            with contextlib.suppress(Exception):
                await consumer.flush()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.retention.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_SECONDS)
            except TimeoutError:
                log.warning("database connections still busy at stop: terminated")
                pool.terminate()

    async def _connect_broker(self) -> None:
        attempt = 0
        while True:
            try:
                await self.broker.start()
                self.broker_connected = True
                log.info("kafka consumers started", groups=[c.group_id for c in self.consumers])
                return
            except Exception as error:
                attempt += 1
                delay = BROKER_BACKOFF.delay(attempt)
                log.warning("kafka unavailable, retrying", error=repr(error), retry_in=delay)
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)

    def readiness_checks(self, _: FastAPI) -> Mapping[str, ReadinessCheck]:
        async def database() -> None:
            async with self.pool.acquire() as connection:
                await connection.fetchval("SELECT 1")

        async def kafka() -> None:
            if not self.broker_connected:
                raise RuntimeError("not connected yet")
            if not await self.broker.ping(timeout=2.0):
                raise RuntimeError("the broker does not answer")

        return {"database": database, "kafka": kafka}


class Subscription:
    """A consumer group of a service: the topics it reads and a handler per contract."""

    def __init__(
        self,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[type[Event], Handler],
    ) -> None:
        self.group_id = group_id
        self.topics = topics
        self.handlers = handlers


async def _wait_for_database(dsn: str, max_size: int) -> Pool:
    deadline = asyncio.get_running_loop().time() + DATABASE_WAIT_SECONDS
    while True:
        try:
            return await create_pool(dsn, max_size=max_size)
        except (OSError, ConnectionError) as error:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"PostgreSQL is not reachable after {DATABASE_WAIT_SECONDS:.0f} s ({error}):"
                    " start it (`make up`) or fix the service's DATABASE_URL"
                ) from error
            log.warning("database unavailable, waiting", error=repr(error))
            await asyncio.sleep(1.0)


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Run one service in the foreground (``python -m crnt_<service>``)."""
    uvicorn.run(
        app_factory(),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
