"""Keys and revocations across services, on the real Kafka and PostgreSQL: a rotation that no
token notices, and a revocation that two replicas of a service apply though only one of them
receives it."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from aiokafka import AIOKafkaProducer
from crnt_devstack.mailcatcher import MailCatcher
from crnt_identity import handlers
from crnt_identity.settings import IdentitySettings
from crnt_registry.app import create_app as registry_app
from crnt_registry.settings import RegistrySettings
from crnt_shared.auth import issue_token, new_signing_key, public_jwk
from crnt_shared.contracts.identity import AccessRevoked, AccessRevokedData
from crnt_shared.testing import app_client, create_topics, service_settings, wait_until
from crnt_shared.topics import environment_topics
from fastapi import FastAPI

from .conftest import AGENCY_EMAIL, bearer, sign_in

pytestmark = pytest.mark.integration


def registry_settings(database_url: str, kafka_bootstrap: str, **more: Any) -> RegistrySettings:
    return service_settings(RegistrySettings, database_url, kafka_bootstrap, **more)


@pytest.fixture
async def registry(
    postgres_admin_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A registry on a database of its own, reading identity's real topic (its own group)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await create_topics(kafka_bootstrap, {environment_topics().registry: 6})
    app = registry_app(
        registry_settings(
            f"{postgres_admin_url.rpartition('/')[0]}/{name}",
            kafka_bootstrap,
            identity_consumer_group=f"registry-identity-{uuid.uuid4().hex[:8]}",
        )
    )
    async with app.router.lifespan_context(app), app_client(app, "registry") as client:
        yield app, client
    admin = await asyncpg.connect(postgres_admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_a_key_rotation_goes_unnoticed_by_the_services(
    client: httpx.AsyncClient,
    mail: MailCatcher,
    app: FastAPI,
    settings: IdentitySettings,
    registry: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    registry_app_, registry_client = registry
    grant = await sign_in(client, mail, AGENCY_EMAIL)
    first_kid = jwt.get_unverified_header(grant["access_token"])["kid"]

    async def accepted(token: str) -> bool:
        response = await registry_client.get(
            "/api/v1/applications", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code in (200, 401), response.text
        return response.status_code == 200

    await wait_until(lambda: accepted(grant["access_token"]), message="the registry knows the key")

    # Rotate now; the new key is announced 2 s before it signs.
    async with app.state.runtime.unit_of_work() as uow:
        await handlers.maintain_keys(
            handlers.MaintainKeys(
                passphrase=settings.key_passphrase.get_secret_value(),
                rotation=timedelta(0),
                announce_ahead=timedelta(seconds=2),
                token_seconds=settings.access_token_seconds,
            ),
            uow,
        )
    keys = (await client.get("/api/v1/keys")).json()["keys"]
    assert len(keys) == 2
    second_kid = next(key["kid"] for key in keys if key["kid"] != first_kid)
    refreshed = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert jwt.get_unverified_header(refreshed.json()["access_token"])["kid"] == first_kid

    async def registry_knows_the_new_key() -> bool:
        async with registry_app_.state.runtime.pool.acquire() as connection:
            return bool(
                await connection.fetchval("SELECT 1 FROM identity_keys WHERE kid = $1", second_kid)
            )

    await wait_until(registry_knows_the_new_key, message="the new key announced")
    await asyncio.sleep(2.1)
    rotated = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert jwt.get_unverified_header(rotated.json()["access_token"])["kid"] == second_kid
    # Both keys' tokens are accepted: the first's until they expire.
    assert await accepted(rotated.json()["access_token"])
    assert await accepted(grant["access_token"])
    assert (
        await client.get("/api/v1/me", headers=bearer(rotated.json()["access_token"]))
    ).status_code == 200


async def test_two_replicas_refuse_a_revoked_person_though_one_received_it(
    database_url: str, kafka_bootstrap: str, topic: str
) -> None:
    key = new_signing_key()
    person = str(uuid.uuid4())
    common = {
        "identity_jwks": json.dumps({"keys": [public_jwk(key, "replicas-key")]}),
        "identity_topic": topic,
        "identity_consumer_group": f"registry-identity-{uuid.uuid4().hex[:8]}",
    }
    await create_topics(kafka_bootstrap, {environment_topics().registry: 6})
    replicas = [
        registry_app(registry_settings(database_url, kafka_bootstrap, **common)) for _ in range(2)
    ]
    token = issue_token(
        key,
        "replicas-key",
        person_id=person,
        name="Léa Martin",
        roles=["agency"],
        centres=[],
        session_id="s1",
        issued_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    async with AsyncExitStack() as stack:
        clients = []
        for replica in replicas:
            await stack.enter_async_context(replica.router.lifespan_context(replica))
            clients.append(await stack.enter_async_context(app_client(replica, "registry")))
        for client in clients:
            assert (
                await client.get("/api/v1/applications", headers=bearer(token))
            ).status_code == 200
        revoked = AccessRevoked.create(
            source="/crnt/identity",
            subject=person,
            data=AccessRevokedData(
                person_id=person, revoked_before=datetime.now(UTC), reason="person_removed"
            ),
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, revoked.to_json(), key=person.encode())
        finally:
            await producer.stop()

        async def recorded() -> bool:
            async with replicas[0].state.runtime.pool.acquire() as connection:
                return bool(
                    await connection.fetchval(
                        "SELECT count(*) FROM inbox WHERE event_id = $1", revoked.id
                    )
                )

        await wait_until(recorded, message="the revocation handled by one replica")
        for client in clients:
            refused = await client.get("/api/v1/applications", headers=bearer(token))
            assert refused.status_code == 401
            assert "Léa" not in refused.text
        async with replicas[0].state.runtime.pool.acquire() as connection:
            handled = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = $1", revoked.id
            )
        assert handled == 1  # one group, one replica handled it, both refuse
