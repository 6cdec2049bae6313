"""``crnt-stack up`` runs every service detached: on the real Kafka and PostgreSQL, started,
found again (idempotent), restarted after it died, shown with pid and health, stopped."""

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from crnt_devstack.services import SERVICES, WEB, DetachedServices, Service, installed
from crnt_shared.testing import create_topics

from tests.databases import fresh_databases
from tests.e2e.system import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def environ(kafka_bootstrap: str, postgres_admin_url: str) -> AsyncIterator[dict[str, str]]:
    """A system of its own: a topic prefix and a database per service."""
    prefix = f"up{uuid.uuid4().hex[:8]}"
    names = [service.name for service in SERVICES]
    await create_topics(
        kafka_bootstrap,
        {
            f"{prefix}.{name}.events{suffix}": partitions
            for name in names
            for suffix, partitions in (("", 6), (".dlq", 1))
        },
    )
    async with fresh_databases(postgres_admin_url, (f"{prefix}_{n}" for n in names)) as urls:
        yield {
            **os.environ,
            "CRNT_ENV": "test",
            "CRNT_TOPIC_PREFIX": prefix,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            **{f"{name.upper()}_DATABASE_URL": urls[f"{prefix}_{name}"] for name in names},
            **{f"{name.upper()}_HTTP_PORT": str(free_port()) for name in names},
        }


def test_services_are_configured_from_the_one_list() -> None:
    ports = {"REGISTRY_HTTP_PORT": "18001"}
    found = {service.name: service.port for service in installed(ports)}
    assert found == {s.name: 18001 if s.name == "registry" else s.port for s in (WEB, *SERVICES)}


async def test_up_is_idempotent_restarts_a_dead_service_and_down_stops_all(
    environ: dict[str, str], tmp_path: Path
) -> None:
    services: list[Service] = installed(environ)
    stack = DetachedServices(tmp_path, environ)
    try:
        await asyncio.to_thread(stack.up, services)
        pids = {service.name: stack.running(service) for service in services}
        assert all(pids.values()), pids
        for service in services:
            line = stack.status(service).line()
            assert f"pid {pids[service.name]}" in line, line
            assert "(ready)" in line, line

        await asyncio.to_thread(stack.up, services)  # twice changes nothing
        assert {service.name: stack.running(service) for service in services} == pids

        victim = services[0]
        pid = pids[victim.name]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        assert stack.running(victim) is None
        assert "died" in stack.status(victim).line()
        await asyncio.to_thread(stack.up, services)
        assert stack.previous_log(victim).read_text(), "why it died is kept"
        again = {service.name: stack.running(service) for service in services}
        assert again[victim.name] not in (None, pid)
        assert {k: v for k, v in again.items() if k != victim.name} == {
            k: v for k, v in pids.items() if k != victim.name
        }
    finally:
        await asyncio.to_thread(stack.down, services)
    assert all(stack.running(service) is None for service in services)
    assert all("stopped" in stack.status(service).line() for service in services)
