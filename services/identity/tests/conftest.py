"""Identity on the real PostgreSQL (a fresh database per test) and Kafka, with a mail catcher
of its own; registry events are produced to a topic of the test's own."""

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from crnt_devstack.mailcatcher import MailCatcher
from crnt_identity.app import create_app
from crnt_identity.settings import IdentitySettings
from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipChangeData
from crnt_shared.events import Event, utcnow
from crnt_shared.testing import AGENCY_TOKEN, COPIL_TOKEN, app_client, create_topics, wait_until
from crnt_shared.topics import environment_topics
from fastapi import FastAPI

AGENCY_EMAIL = "lea.martin@agence.example.org"
COPIL_EMAIL = "paul.roux@copil.example.org"


@pytest.fixture
async def mail() -> AsyncIterator[MailCatcher]:
    catcher = MailCatcher("127.0.0.1", smtp_port=0, http_port=0)
    await catcher.start()
    try:
        yield catcher
    finally:
        await catcher.stop()


@pytest.fixture
async def settings(
    database_url: str, kafka_bootstrap: str, topic: str, mail: MailCatcher
) -> IdentitySettings:
    await create_topics(kafka_bootstrap, {environment_topics().identity: 6})
    return IdentitySettings(
        _env_file=None,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        agency_token=AGENCY_TOKEN,
        copil_token=COPIL_TOKEN,
        agency_emails=f"{AGENCY_EMAIL}, ",
        copil_emails=COPIL_EMAIL,
        smtp_host="127.0.0.1",
        smtp_port=mail.smtp_port,
        smtp_from="CRNT <crnt@agence.example.org>",
        registry_topic=topic,
        consumer_group=f"identity-test-{uuid.uuid4().hex[:8]}",
        env="test",
        log_json=False,
        log_level="WARNING",
        outbox_poll_seconds=0.2,
        consumer_backoff_seconds=0.05,
        consumer_max_attempts=2,
    )


@pytest.fixture
async def app(settings: IdentitySettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app, "identity") as client:
        yield client


@pytest.fixture
async def publish(kafka_bootstrap: str, topic: str) -> AsyncIterator[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()

    async def send(*events: Event) -> None:
        for event in events:
            await producer.send(topic, event.to_json(), key=event.subject.encode())
        await producer.flush()

    try:
        yield send
    finally:
        await producer.stop()


def centre(nom: str, status: str = "member") -> CentreFacts:
    return CentreFacts(
        id=uuid.uuid4(),
        status=status,
        nom=nom,
        pivot="43493312300029",
        adresse="2 rue des Tanneurs",
        code_postal="62510",
        commune="Arques",
        code_insee="62040",
        epci_siren="200069037",
        epci_name="CAPSO",
        typologie=["EPN"],
        workstations=6,
    )


def animator(email: str, name: str) -> AnimatorFacts:
    return AnimatorFacts(id=uuid.uuid4(), name=name, email=email)


def membership(
    contract: type[Event], facts: CentreFacts, people: list[AnimatorFacts], previous: str
) -> Event:
    data = MembershipChangeData(
        previous_status=previous,
        status=facts.status,
        by="agency",
        at=utcnow(),
        centre=facts,
        animators=people,
    )
    return contract.create(source="/crnt/registry", subject=str(facts.id), data=data)


async def handled(app: FastAPI, *events: Event) -> None:
    ids = [event.id for event in events]

    async def all_in() -> bool:
        async with app.state.runtime.pool.acquire() as connection:
            count = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
        return bool(count == len(ids))

    await wait_until(all_in, timeout=60, message=f"{len(ids)} event(s) handled")


JETON = re.compile(r"jeton=([A-Za-z0-9_\-]+)")


async def link_secret(mail: MailCatcher, address: str, count: int = 1) -> str:
    """The secret of the last sign-in link mailed to ``address`` (waits for ``count`` mails)."""

    def to() -> list[Any]:
        return [m for m in mail.messages if any(a["Address"] == address for a in m.to)]

    async def arrived() -> bool:
        return len(to()) >= count

    await wait_until(arrived, timeout=20, message=f"{count} mail(s) to {address}")
    found = JETON.search(to()[-1].text)
    assert found, to()[-1].text
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, mail: MailCatcher, address: str) -> dict[str, Any]:
    before = len([m for m in mail.messages if any(a["Address"] == address for a in m.to)])
    response = await client.post("/api/v1/sign-in", json={"email": address})
    assert response.status_code == 202, response.text
    secret = await link_secret(mail, address, before + 1)
    redeemed = await client.post("/api/v1/sign-in/redeem", json={"token": secret})
    assert redeemed.status_code == 200, redeemed.text
    body: dict[str, Any] = redeemed.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
