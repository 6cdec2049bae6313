"""The stack creates each topic with its retention set explicitly (RGPD), and sets it on a topic
that exists already, on the real Kafka."""

import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from crnt_devstack.kafka import create_topics
from crnt_shared.topics import DAY_MS, TopicSpec, all_topics

pytestmark = pytest.mark.integration


async def _retention_ms(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": None})]
        )
        [resource] = response.to_object()["resources"]
        [entry] = [e for e in resource["config_entries"] if e["config_names"] == "retention.ms"]
        return int(entry["config_value"])
    finally:
        await admin.close()


async def test_topics_get_their_retention_at_creation_and_after(kafka_bootstrap: str) -> None:
    name = f"test.retention.{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + 30
    created = await create_topics(kafka_bootstrap, [TopicSpec(name, 1, 3)], deadline)
    assert created == [name]
    assert await _retention_ms(kafka_bootstrap, name) == 3 * DAY_MS

    assert await create_topics(kafka_bootstrap, [TopicSpec(name, 1, 5)], deadline) == []
    assert await _retention_ms(kafka_bootstrap, name) == 5 * DAY_MS


def test_events_are_kept_a_month_and_dead_letters_two_weeks() -> None:
    retention = {spec.name: spec.configs["retention.ms"] for spec in all_topics("crnt")}
    assert retention["crnt.registry.events"] == str(30 * DAY_MS)
    assert retention["crnt.registry.events.dlq"] == str(14 * DAY_MS)
    assert all(spec.configs["cleanup.policy"] == "delete" for spec in all_topics("crnt"))
