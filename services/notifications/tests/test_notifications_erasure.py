"""Erasure by digest on the real PostgreSQL and Kafka: a person the read model no longer knows
by id (removed since) is still found by the event's salted digest, whatever the address's case,
in the deliveries and preferences; someone else's are untouched."""

import uuid

import pytest
from crnt_shared.auth import person_id_for
from crnt_shared.contracts.registry import MembershipSuspended, PersonErased, PersonErasedData
from crnt_shared.erasure import address_digest, new_salt
from crnt_shared.events import utcnow
from crnt_shared.testing import wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    Desk,
    animators,
    centre,
    membership,
)

pytestmark = pytest.mark.integration

ERASED = "Dominique.Erased@effacement.example"
OTHER = "autre@effacement.example"


async def test_a_person_unknown_by_id_is_found_by_the_digest(app: FastAPI, desk: Desk) -> None:
    facts = centre("Lieu effacé", status="suspended")
    await desk.publish.registry(
        membership(
            MembershipSuspended, facts, animators(ERASED, OTHER), previous="member", reason="x"
        )
    )

    await desk.all_sent(at_least=2, message="the suspension mailed")
    for address in (ERASED, OTHER):
        put = await desk.client.put(
            f"/api/v1/preferences/{address}", json={"opted_out": []}, headers=desk.agency
        )
        assert put.status_code == 200, put.text
    assert (await desk.deliveries(recipient=ERASED.lower()))["total"] == 1

    salt = new_salt()
    erased = PersonErased.create(
        source="/crnt/registry",
        subject=str(facts.id),
        data=PersonErasedData(
            animator_id=uuid.uuid4(),  # not one the read model knows
            centre_id=facts.id,
            person_id=person_id_for(ERASED),
            salt=salt,
            email_digest=address_digest(ERASED.upper(), salt),
            at=utcnow(),
        ),
    )
    assert ERASED.lower() not in erased.model_dump_json().lower()
    await desk.publish.registry(erased)

    async def gone() -> bool:
        page = await desk.client.get("/api/v1/deliveries", headers=desk.agency)
        return ERASED.lower() not in page.text.lower()

    await wait_until(gone, timeout=30, message="the erased person's deliveries pseudonymised")
    assert (await desk.deliveries(recipient=OTHER))["total"] == 1
    async with app.state.runtime.pool.acquire() as connection:
        kept = await connection.fetch("SELECT email FROM preferences ORDER BY email")
        assert [row["email"].lower() for row in kept] == [OTHER]
        named = await connection.fetchval(
            "SELECT count(*) FROM deliveries WHERE position($1 IN lower(recipient || subject"
            " || body_text || body_html)) > 0",
            ERASED.lower(),
        )
        assert named == 0
