"""Erasing a person (RGPD) across the whole system: the services as separate processes on the
real Kafka and PostgreSQL. An animator of a centre is welcomed, signs in, proposes an action and
sets a preference; the centre withdraws; the agency erases the animator. Then no service's API
returns the address (nor the programme's history the name), no row of any service's database
holds the address, and the erasure event on Kafka does not name it."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from crnt_shared import samples
from crnt_shared.erasure import address_digest
from crnt_shared.testing import wait_until

from tests.e2e.system import SIGNING_IN, System, agency_of, system_fixture
from tests.e2e.test_sign_in import action_led_by, bearer, sign_in_once_known

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
AGENCY_EMAIL = f"agence.{RUN}@agence.example.org"
ERASED = f"claire.dupont.{RUN}@arques.example.org"
STAYS = f"marc.petit.{RUN}@arques.example.org"
WELCOME = "Bienvenue"


system = system_fixture(
    "e2e-erasure",
    agency_of(AGENCY_EMAIL),
    SIGNING_IN,
    NOTIFICATIONS_COALESCING_WINDOW_SECONDS="1",
)


@pytest.fixture
def logs(system: System) -> Path:
    return system.processes.log_dir


def _read_logs(logs: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(logs.glob("*.log")))


async def rows_naming(dsn: str, address: str) -> dict[str, int]:
    """Every table of a database whose rows name ``address`` (the outbox's bytea payload read
    as text), with how many."""
    connection = await asyncpg.connect(dsn)
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        found: dict[str, int] = {}
        for (table,) in tables:
            row = "convert_from(t.payload, 'UTF8')" if table == "outbox" else "t::text"
            count = await connection.fetchval(
                f'SELECT count(*) FROM "{table}" AS t WHERE position($1 IN lower({row})) > 0',
                address.lower(),
            )
            if count:
                found[table] = count
        return found
    finally:
        await connection.close()


async def test_an_erased_animator_is_held_by_no_service(
    system: System, postgres_admin_url: str, kafka_bootstrap: str, logs: Path
) -> None:
    base = postgres_admin_url.rpartition("/")[0]
    databases = {name: f"{base}/{system.prefix}_{name}" for name in system.services}
    async with httpx.AsyncClient(timeout=30) as client:

        async def call(method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
            headers = kwargs.pop("headers", system.agency)
            return await client.request(
                method, system.url(service, path), headers=headers, **kwargs
            )

        epci = {"siren": "200069037", "name": "CAPSO", "population": 104937, "communes": ["62040"]}
        assert (await call("POST", "registry", "/epcis", json=epci)).status_code == 201
        submitted = await call(
            "POST",
            "registry",
            "/applications",
            json=samples.application(
                f"Cybercentre d'Arques {RUN}",
                [("Claire Dupont", ERASED), ("Marc Petit", STAYS)],
                commune=samples.ARQUES,
                adresse="2 rue des Tanneurs",
            ),
        )
        assert submitted.status_code == 201, submitted.text
        centre_id = submitted.json()["centre_id"]
        claire_id = next(a["id"] for a in submitted.json()["animators"] if a["email"] == ERASED)
        approved = await call("POST", "registry", f"/applications/{submitted.json()['id']}/approve")
        assert approved.status_code == 200, approved.text

        async def welcomed() -> bool:
            mails = await system.mails_to(ERASED)
            return any(WELCOME in mail["Subject"] for mail in mails)

        await wait_until(welcomed, timeout=60, message="the welcome to Claire")

        claire = await sign_in_once_known(system, client, ERASED, message="sign-in")
        as_claire = bearer(claire)

        async def proposed() -> str | None:
            response = await call(
                "POST",
                "programme",
                "/programmes/2026/actions",
                json=action_led_by(centre_id),
                headers=as_claire,
            )
            return str(response.json()["id"]) if response.status_code == 201 else None

        action_id = await wait_until(proposed, timeout=30, message="Claire proposes an action")
        history = await call("GET", "programme", f"/actions/{action_id}/history")
        assert "Claire Dupont" in history.text
        put = await call("PUT", "notifications", f"/preferences/{ERASED}", json={"opted_out": []})
        assert put.status_code == 200, put.text

        erasure = f"/centres/{centre_id}/animators/{claire_id}/erasure"
        refused = await call("POST", "registry", erasure)
        assert refused.status_code == 409, refused.text
        withdrawn = await call(
            "POST", "registry", f"/centres/{centre_id}/withdraw", json={"reason": "fermeture"}
        )
        assert withdrawn.status_code == 200, withdrawn.text
        await asyncio.sleep(1)  # the withdrawal's mails and events, before the erasure
        erased = await call("POST", "registry", erasure)
        assert erased.status_code == 200, erased.text

        async def nowhere() -> dict[str, dict[str, int]] | None:
            held = {name: await rows_naming(dsn, ERASED) for name, dsn in databases.items()}
            return None if any(held.values()) else held

        try:
            await wait_until(nowhere, timeout=60, interval=0.5, message="no row names Claire")
        except pytest.fail.Exception:
            held = {name: await rows_naming(dsn, ERASED) for name, dsn in databases.items()}
            pytest.fail(f"rows still name the erased address: {held}")

        listed = await call("GET", "notifications", "/deliveries", params={"limit": 500})
        assert listed.status_code == 200
        assert ERASED not in listed.text.lower()
        assert STAYS in listed.text.lower(), "only the erased person's mails are pseudonymised"
        animators = await call("GET", "registry", f"/centres/{centre_id}/animators")
        assert ERASED not in animators.text.lower()
        assert STAYS in animators.text.lower()
        centre = await call("GET", "registry", f"/centres/{centre_id}")
        assert ERASED not in centre.text.lower()
        refreshed = await call(
            "POST",
            "identity",
            "/sessions/refresh",
            headers={},
            json={"refresh_token": claire["refresh_token"]},
        )
        assert refreshed.status_code == 401, refreshed.text

        # Programme holds her name, not her address: wait for its own pseudonymisation.
        async def history_anonymous() -> Any:
            response = await call("GET", "programme", f"/actions/{action_id}/history")
            return None if "Claire Dupont" in response.text else response.json()

        entries = await wait_until(
            history_anonymous, timeout=60, interval=0.5, message="programme forgets Claire's name"
        )
        assert "Personne effacée" in entries[0]["by"]
        people = await call("GET", "identity", "/people")
        assert ERASED not in people.text.lower()

    # The erasure event names nobody: the animator's id and a salted digest.
    consumer = AIOKafkaConsumer(
        f"{system.prefix}.registry.events",
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        erasures: list[bytes] = []
        async with asyncio.timeout(30):
            while not erasures:
                batch = await consumer.getmany(timeout_ms=1000)
                erasures += [
                    record.value
                    for records in batch.values()
                    for record in records
                    if record.value and b"fr.crnt.registry.person.erased.v1" in record.value
                ]
    finally:
        await consumer.stop()
    [payload] = erasures
    assert ERASED.encode() not in payload.lower()
    assert b"Claire" not in payload
    data = json.loads(payload)["data"]
    assert data["animator_id"] == claire_id
    assert data["email_digest"] == address_digest(ERASED, data["salt"])

    # Nor did any service log it, the erasure included (which logs counts only).
    text = await asyncio.to_thread(_read_logs, logs)
    assert "person erased" in text
    assert ERASED not in text.lower()
