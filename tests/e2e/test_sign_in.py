"""Sign-in on the real stack: the five services as separate processes, the real Kafka,
PostgreSQL and mail catcher. A person asks for a link, reads the mail, redeems the link, and
their token is accepted by the registry and the programme, which verify it with the keys
identity announced on Kafka; an animator the agency removes is refused at once."""

import re
import time
import uuid
from typing import Any

import httpx
import pytest
from crnt_shared import samples
from crnt_shared.testing import wait_until

from tests.e2e.system import SIGN_IN_URL, SIGNING_IN, System, agency_of, system_fixture

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
AGENCY_EMAIL = f"lea.martin.{RUN}@agence.example.org"
ANIMATOR_EMAIL = f"claire.dupont.{RUN}@arques.example.org"
COLLEAGUE_EMAIL = f"marc.petit.{RUN}@arques.example.org"
SIGN_IN_SUBJECT = "Votre lien de connexion au réseau des cybercentres"
JETON = re.compile(r"jeton=([A-Za-z0-9_\-]+)")


system = system_fixture(
    "e2e-sign-in",
    agency_of(AGENCY_EMAIL),
    SIGNING_IN,
)


async def sign_in(
    system: System, client: httpx.AsyncClient, address: str, mail_timeout: float = 30
) -> dict[str, Any]:
    """Ask for a link, find it in the mail catcher, redeem it."""

    async def links() -> list[dict[str, Any]]:
        mails = await system.mails_to(address)
        return [mail for mail in mails if mail["Subject"] == SIGN_IN_SUBJECT]

    before = len(await links())
    asked = await client.post(system.url("identity", "/sign-in"), json={"email": address})
    assert asked.status_code == 202, asked.text

    async def mailed() -> list[dict[str, Any]] | None:
        mails = await links()
        return mails if len(mails) > before else None

    mails = await wait_until(mailed, timeout=mail_timeout, message=f"the sign-in mail to {address}")
    mail = mails[-1]
    found = JETON.search(mail["Text"])
    assert found, mail["Text"]
    assert f"{SIGN_IN_URL}?jeton=" in mail["Text"]
    redeemed = await client.post(
        system.url("identity", "/sign-in/redeem"), json={"token": found.group(1)}
    )
    assert redeemed.status_code == 200, redeemed.text
    grant: dict[str, Any] = redeemed.json()
    return grant


async def sign_in_once_known(
    system: System, client: httpx.AsyncClient, address: str, *, message: str
) -> dict[str, Any]:
    """Sign in as soon as identity knows ``address`` from the registry's events (until then, no
    mail comes)."""

    async def signed_in() -> dict[str, Any] | None:
        try:
            return await sign_in(system, client, address, mail_timeout=3)
        except pytest.fail.Exception:  # no mail yet: identity has not learnt it
            return None

    grant: dict[str, Any] = await wait_until(signed_in, timeout=60, interval=0.5, message=message)
    return grant


def action_led_by(centre_id: str) -> dict[str, Any]:
    """The body of an action of 2026 that the centre leads."""
    return {
        "axis": "ateliers",
        "title": "Ateliers numériques seniors",
        "lead_centre_id": centre_id,
        "starts_on": "2026-03-01",
        "ends_on": "2026-06-30",
        "estimated_cost": "800.00",
    }


def bearer(grant: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {grant['access_token']}"}


async def test_a_signed_in_person_acts_and_a_removed_animator_is_refused_at_once(
    system: System,
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        lea = await sign_in(system, client, AGENCY_EMAIL)
        assert lea["person"]["roles"] == ["agency"]
        as_lea = bearer(lea)

        # The registry verifies Léa's token with the key identity announced on Kafka.
        epci: dict[str, Any] = {
            "siren": "200069037",
            "name": "CA du Pays de Saint-Omer",
            "population": 104937,
            "communes": ["62040"],
        }

        async def registered() -> bool:
            response = await client.post(
                system.url("registry", "/epcis"), json=epci, headers=as_lea
            )
            assert response.status_code in (201, 401), response.text
            return response.status_code == 201

        await wait_until(registered, timeout=30, message="the registry knows identity's key")
        application = samples.application(
            "Cybercentre d'Arques",
            [("Claire Dupont", ANIMATOR_EMAIL), ("Marc Petit", COLLEAGUE_EMAIL)],
            commune=samples.ARQUES,
            adresse="2 rue des Tanneurs",
            workstations=6,
        )
        submitted = await client.post(
            system.url("registry", "/applications"), json=application, headers=as_lea
        )
        assert submitted.status_code == 201, submitted.text
        centre_id = submitted.json()["centre_id"]
        marc_id = next(
            a["id"] for a in submitted.json()["animators"] if a["email"] == COLLEAGUE_EMAIL
        )
        approved = await client.post(
            system.url("registry", f"/applications/{submitted.json()['id']}/approve"),
            headers=as_lea,
        )
        assert approved.status_code == 200, approved.text
        history = (
            await client.get(system.url("registry", f"/centres/{centre_id}"), headers=as_lea)
        ).json()["history"]
        name = lea["person"]["display_name"]
        assert history[-1]["by"] == name
        assert history[-1]["by_actor"] == {
            "kind": "person",
            "id": lea["person"]["id"],
            "name": name,
        }

        # Identity learns from the registry's events that Marc animates a member centre.
        marc = await sign_in_once_known(system, client, COLLEAGUE_EMAIL, message="Marc may sign in")
        assert marc["person"]["roles"] == ["animator"]
        assert marc["person"]["centres"] == [centre_id]
        as_marc = bearer(marc)
        patched = await client.patch(
            system.url("registry", f"/centres/{centre_id}"),
            json={"workstations": 9},
            headers=as_marc,
        )
        assert patched.status_code == 200, patched.text

        async def proposed() -> dict[str, Any] | None:
            response = await client.post(
                system.url("programme", "/programmes/2026/actions"),
                json=action_led_by(centre_id),
                headers=as_marc,
            )
            return response.json() if response.status_code == 201 else None

        created = await wait_until(proposed, timeout=30, message="the programme accepts Marc")
        assert created["status"] == "proposed"
        history = (
            await client.get(system.url("programme", f"/actions/{created['id']}/history"))
        ).json()
        assert history[0]["by"] == "Marc Petit"
        assert history[0]["by_actor"]["id"] == marc["person"]["id"]

        # Marc adds a colleague: the agency is told, by mail, who did it.
        added = await client.post(
            system.url("registry", f"/centres/{centre_id}/animators"),
            json={"name": "Sophie Lefebvre", "email": f"sophie.{RUN}@arques.example.org"},
            headers=as_marc,
        )
        assert added.status_code == 201, added.text

        async def agency_told() -> list[dict[str, Any]]:
            return [
                mail
                for mail in await system.mails_to(AGENCY_EMAIL)
                if mail["Subject"].startswith("Équipe d’animation modifiée")
            ]

        told = await wait_until(agency_told, timeout=30, message="the agency told of the team")
        assert "Marc Petit, animateur ou animatrice de" in told[0]["Text"]
        assert "Sophie Lefebvre" in told[0]["Text"]

        # The agency removes Marc: his token is refused by the registry and the programme.
        removed = await client.delete(
            system.url("registry", f"/centres/{centre_id}/animators/{marc_id}"), headers=as_lea
        )
        assert removed.status_code == 204, removed.text
        started = time.monotonic()

        async def refused() -> bool:
            registry = await client.get(
                system.url("registry", f"/centres/{centre_id}/animators"), headers=as_marc
            )
            programme = await client.patch(
                system.url("programme", f"/actions/{created['id']}/progress"),
                json={"progress": 10},
                headers=as_marc,
            )
            return registry.status_code == 401 and programme.status_code == 401

        await wait_until(refused, timeout=10, interval=0.05, message="Marc refused")
        elapsed = time.monotonic() - started
        print(f"removed animator refused by registry and programme after {elapsed:.2f} s")
        refreshed = await client.post(
            system.url("identity", "/sessions/refresh"),
            json={"refresh_token": marc["refresh_token"]},
        )
        assert refreshed.status_code == 401
