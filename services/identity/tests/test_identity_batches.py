"""Registry events fetched together are handled in one transaction by the consumer: a handler
must leave the commit to it. (The fault suite found identity's handlers committing themselves:
the second event of a batch then failed on a spent transaction and, retried, was skipped as if
handled, since the first commit had written the whole batch's inbox rows.)"""

from typing import Any

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.contracts.registry import MembershipApproved, MembershipChangeData
from crnt_shared.events import utcnow
from fastapi import FastAPI

from .conftest import animator, centre, handled, sign_in

pytestmark = pytest.mark.integration


async def test_every_event_of_a_batch_is_handled(
    client: httpx.AsyncClient, mail: MailCatcher, app: FastAPI, publish: Any
) -> None:
    key = "one-partition"  # one key: the events land on one partition and come as one batch
    people = [animator(f"animateur.{n}@lieux.example.org", f"Animateur {n}") for n in range(5)]
    events = []
    for n, person in enumerate(people):
        facts = centre(f"Lieu n°{n}")
        data = MembershipChangeData(
            previous_status="pending",
            status="member",
            by="agency",
            at=utcnow(),
            centre=facts,
            animators=[person],
        )
        events.append(MembershipApproved.create(source="/crnt/registry", subject=key, data=data))
    await publish(*events)
    await handled(app, *events)

    for person in people:
        grant = await sign_in(client, mail, person.email)
        assert grant["person"]["roles"] == ["animator"], person.email
