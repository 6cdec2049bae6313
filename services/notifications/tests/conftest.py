"""The notifications service on the real PostgreSQL (a fresh database per test) and Kafka (topics
of its own per test), with an in-process mail catcher on free ports. Helpers that are not
fixtures live in ``notifications_testkit`` (imported through the rootdir, as the
root tests import ``tests.foundation``)."""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from crnt_devstack.mailcatcher import MailCatcher
from crnt_notifications.app import create_app
from crnt_notifications.settings import NotificationsSettings
from crnt_shared.testing import create_topics, started, wait_until
from fastapi import FastAPI

from services.notifications.tests.notifications_testkit import (
    Desk,
    Publish,
    Topics,
    make_settings,
)


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    base = f"test.notif.{uuid.uuid4().hex[:10]}"
    names = Topics(
        f"{base}.registry", f"{base}.budget", f"{base}.notifications", f"{base}.programme"
    )
    await create_topics(
        kafka_bootstrap,
        {
            names.registry: 3,
            f"{names.registry}.dlq": 1,
            names.budget: 3,
            f"{names.budget}.dlq": 1,
            names.notifications: 3,
            names.programme: 3,
            f"{names.programme}.dlq": 1,
        },
    )
    return names


@pytest.fixture
def window() -> float:
    """The coalescing window of the test's service (seconds); a test may override it."""
    return 1.5


@pytest.fixture
def settings(
    database_url: str, kafka_bootstrap: str, topics: Topics, mail: MailCatcher, window: float
) -> NotificationsSettings:
    return make_settings(database_url, kafka_bootstrap, topics, mail.smtp_port, window)


@pytest.fixture
async def app(settings: NotificationsSettings) -> AsyncIterator[FastAPI]:
    async with started(create_app(settings)) as app:
        await wait_until(
            _consumers_assigned(app), timeout=60, message="the notifications consumers' assignment"
        )
        yield app


def _consumers_assigned(app: FastAPI) -> Callable[[], Any]:
    async def check() -> bool:
        runtime = app.state.runtime
        if not runtime.broker_connected:
            return False
        for subscriber in runtime.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None or not consumer.assignment():
                return False
        return True

    return check


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture
def publish(producer: AIOKafkaProducer, topics: Topics) -> Publish:
    return Publish(producer, topics)


@pytest.fixture
def desk(
    publish: Publish, mail: MailCatcher, client: httpx.AsyncClient, agency: dict[str, str]
) -> Desk:
    return Desk(publish, mail, client, agency)
