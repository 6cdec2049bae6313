"""The whole system under test: the services as separate processes, on the real Kafka,
PostgreSQL and mail catcher, with topics and databases of their own; optionally several replicas
of each (same consumer groups and databases, ports of their own), as a deployment scales out."""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from crnt_devstack.services import SERVICES, Service, ServiceProcesses
from crnt_shared.testing import create_topics

from tests.databases import fresh_databases

AGENCY_TOKEN = "e2e-agency-token"
COPIL_TOKEN = "e2e-copil-token"


def free_port() -> int:
    """A port nobody listens on now: several systems (and a `make run`) can run side by side."""
    (port,) = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nobody listens on now: each probe stays bound until all are
    chosen, so the system cannot hand the same port out twice."""
    with ExitStack() as probes:
        ports = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


@dataclass
class System:
    prefix: str
    services: dict[str, Service]
    processes: ServiceProcesses
    mail_url: str
    #: Every replica: its services on their ports and its processes; the first is
    #: ``services`` / ``processes``.
    replicas: list[tuple[dict[str, Service], ServiceProcesses]] = field(default_factory=list)
    agency: dict[str, str] = field(
        default_factory=lambda: {"Authorization": f"Bearer {AGENCY_TOKEN}"}
    )
    copil: dict[str, str] = field(
        default_factory=lambda: {"Authorization": f"Bearer {COPIL_TOKEN}"}
    )

    def replica(self, index: int) -> tuple[dict[str, Service], ServiceProcesses]:
        return self.replicas[index] if self.replicas else (self.services, self.processes)

    def url(self, service: str, path: str, replica: int = 0) -> str:
        return f"{self.replica(replica)[0][service].url}/api/v1{path}"

    def restart(self, name: str, replica: int = 0) -> None:
        services, processes = self.replica(replica)
        processes.start(services[name])
        processes.wait_ready([services[name]])

    async def mails_to(self, address: str) -> list[dict[str, Any]]:
        """Every mail for ``address``, with its text, oldest first."""
        async with httpx.AsyncClient(base_url=self.mail_url, timeout=10) as client:
            found = await client.get("/api/v1/search", params={"query": f"to:{address}"})
            found.raise_for_status()
            mails = []
            for summary in reversed(found.json()["messages"]):
                message = await client.get(f"/api/v1/message/{summary['ID']}")
                message.raise_for_status()
                mails.append(message.json())
            return mails


@asynccontextmanager
async def running_system(
    kafka_bootstrap: str,
    postgres_admin_url: str,
    log_dir: Path,
    *,
    replicas: int = 1,
    mail_url: str | None = None,
    **settings: str,
) -> AsyncIterator[System]:
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    await create_topics(
        kafka_bootstrap,
        {
            f"{prefix}.{name}.events{suffix}": partitions
            for name in ("registry", "programme", "budget", "notifications", "identity")
            for suffix, partitions in (("", 6), (".dlq", 1))
        },
    )
    names = {service.name: f"{prefix}_{service.name}" for service in SERVICES}
    async with fresh_databases(postgres_admin_url, names.values()) as urls:
        databases = {service: urls[name] for service, name in names.items()}
        running = _processes(kafka_bootstrap, prefix, log_dir, databases, replicas, settings)
        async with running as started:
            mail = mail_url if mail_url is not None else os.environ["MAILCATCHER_URL"]
            services, processes = started[0]
            yield System(prefix, services, processes, mail, replicas=started)


@asynccontextmanager
async def _processes(
    kafka_bootstrap: str,
    prefix: str,
    log_dir: Path,
    databases: dict[str, str],
    replicas: int,
    settings: dict[str, str],
) -> AsyncIterator[list[tuple[dict[str, Service], ServiceProcesses]]]:
    """Every service's processes, ``replicas`` of each, started and ready; stopped after."""
    env = {
        **os.environ,
        "CRNT_ENV": "test",
        "CRNT_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRNT_AGENCY_TOKEN": AGENCY_TOKEN,
        "CRNT_COPIL_TOKEN": COPIL_TOKEN,
        **{f"{name.upper()}_DATABASE_URL": url for name, url in databases.items()},
        **settings,
    }
    ports = iter(free_ports(len(SERVICES) * replicas))
    started = [
        (
            {s.name: Service(s.name, next(ports)) for s in SERVICES},
            ServiceProcesses(env, log_dir if index == 0 else log_dir / f"replica-{index + 1}"),
        )
        for index in range(replicas)
    ]
    try:
        for services, processes in started:
            for service in services.values():
                processes.start(service)
        for services, processes in started:
            await asyncio.to_thread(processes.wait_ready, list(services.values()))
        yield started
    finally:
        for _, processes in started:
            processes.stop_all()


#: Where the sign-in links lead when no web runs (whatever WEB_PORT the shell exports).
SIGN_IN_URL = "http://127.0.0.1:8000/connexion/lien"
#: Sign-in links to :data:`SIGN_IN_URL` as often as a test asks (the limits are tested in
#: services/identity): a test asks again until identity has learnt a person from the registry's
#: events.
SIGNING_IN = {
    "IDENTITY_SIGN_IN_URL": SIGN_IN_URL,
    "IDENTITY_SIGN_IN_PER_ADDRESS_PER_HOUR": "1000",
    "IDENTITY_SIGN_IN_PER_CLIENT_PER_HOUR": "1000",
}


def agency_of(address: str) -> dict[str, str]:
    """The agency's one person: who signs in as the agency, and to whom its mails go."""
    return {"CRNT_AGENCY_EMAILS": address, "NOTIFICATIONS_AGENCY_EMAILS": address}


def system_fixture(
    name: str,
    *environments: Mapping[str, str],
    scope: Literal["function", "module"] = "function",
    **settings: str,
) -> Callable[..., AsyncIterator[System]]:
    """A test module's ``system`` fixture: the whole system with ``environments`` and
    ``settings`` in its environment, its logs in a temporary folder named after ``name``
    (``system.processes.log_dir``)."""
    environment: dict[str, Any] = {k: v for each in environments for k, v in each.items()}
    environment |= settings

    @pytest.fixture(scope=scope, name="system")
    async def system(
        kafka_bootstrap: str, postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[System]:
        logs = tmp_path_factory.mktemp(f"{name}-logs")
        async with running_system(kafka_bootstrap, postgres_admin_url, logs, **environment) as ours:
            yield ours

    return system
