"""Personal data stays out of the logs: an end-to-end run in which an SMTP server refuses an
animator's address (and says it back, as real servers do) and the agency reads and sets
preferences by address; then every log line of every service is scanned for the fixture's
addresses."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from crnt_shared import samples
from crnt_shared.testing import wait_until

from tests.e2e.system import System, free_port, running_system
from tests.e2e.test_journey import CAPSO, _siret

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
ACCEPTED = f"Camille.Martin.{RUN}@lumbres.example"
REFUSED = f"refuse.{RUN}@lumbres.example"
AGENCY = f"agence.{RUN}@example.org"
ADDRESSES = (ACCEPTED, REFUSED, AGENCY)


class RefusingServer:
    """Accepts every mail except those to ``refuse.*``, refused as Postfix does."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("refuse."):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK: queued"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(RefusingServer(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
async def logged_system(
    kafka_bootstrap: str,
    postgres_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_port: int,
) -> AsyncIterator[tuple[System, Path]]:
    logs = tmp_path_factory.mktemp("personal-data-logs")
    async with running_system(
        kafka_bootstrap,
        postgres_admin_url,
        logs,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        NOTIFICATIONS_COALESCING_WINDOW_SECONDS="1",
        NOTIFICATIONS_AGENCY_EMAILS=AGENCY,
    ) as system:
        yield system, logs


async def test_no_log_line_names_a_person_by_address(
    logged_system: tuple[System, Path],
) -> None:
    system, logs = logged_system
    async with httpx.AsyncClient(timeout=30) as client:

        async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
            headers = kwargs.pop("headers", system.agency)
            response = await client.request(
                method, system.url(service, path), headers=headers, **kwargs
            )
            assert response.status_code < 300, response.text
            return response.json()

        await call(
            "POST",
            "registry",
            "/epcis",
            json={"siren": CAPSO, "name": "CAPSO", "population": 104937, "communes": ["62765"]},
        )
        application = await call(
            "POST",
            "registry",
            "/applications",
            headers={},
            json=samples.application(
                f"Cybercentre {RUN}",
                [("Camille Martin", ACCEPTED), ("Refusé", REFUSED)],
                pivot=_siret(int(uuid.uuid4().int % 10**12)),
            ),
        )
        await call("POST", "registry", f"/applications/{application['id']}/approve")
        for address in ADDRESSES:
            await call("GET", "notifications", f"/preferences/{address}")
        await call("PUT", "notifications", f"/preferences/{AGENCY}", json={"opted_out": []})

        async def refused_and_sent() -> bool:
            failed = await call(
                "GET", "notifications", "/deliveries", params={"recipient": REFUSED}
            )
            sent = await call("GET", "notifications", "/deliveries", params={"recipient": ACCEPTED})
            return any(d["status"] == "failed" for d in failed["items"]) and any(
                d["status"] == "sent" for d in sent["items"]
            )

        await wait_until(refused_and_sent, timeout=90, message="a refusal and a welcome")
    await asyncio.sleep(0.5)  # the lines of the last requests

    text = "\n".join(path.read_text(errors="replace") for path in sorted(logs.glob("*.log")))
    assert "delivery failed" in text, "the refusal is logged (without the address)"
    lowered = text.lower()
    for address in ADDRESSES:
        for form in (address.lower(), address.lower().replace("@", "%40")):
            found = [line for line in lowered.splitlines() if form in line]
            assert not found, f"{address} is in the logs:\n" + "\n".join(found[:5])
