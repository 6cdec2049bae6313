"""The Kafka topics of the system: created explicitly, never by auto-creation.

One topic per publishing service; the key of every record is the aggregate id (centre, budget
year, programme year or action), so that events of one aggregate keep their order. Every topic
that a service consumes has a dead-letter twin named ``<topic>.dlq``.

Retention is set on every topic where it is created (RGPD, storage limitation: the registry's
events name animators and their addresses, and a dead letter copies an event): an event stays
``EVENT_RETENTION_DAYS`` on its topic, a dead letter ``DEAD_LETTER_RETENTION_DAYS``. Services do
not replay topics from the beginning: each keeps what it needs in its own database.

``CRNT_TOPIC_PREFIX`` (default ``crnt``) namespaces the topics, so that a whole system under
test (the end-to-end tests) has topics of its own on a shared broker.
"""

import os
from dataclasses import dataclass

PARTITIONS = 6
DAY_MS = 86_400_000
#: Long enough for a consumer down over a long weekend, or a holiday, to catch up.
EVENT_RETENTION_DAYS = 30
#: Long enough for a person to look at a dead letter and send it again.
DEAD_LETTER_RETENTION_DAYS = 14


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = PARTITIONS
    retention_days: int = EVENT_RETENTION_DAYS

    @property
    def configs(self) -> dict[str, str]:
        """The topic's configuration, set at creation (and on a topic that exists already)."""
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_days * DAY_MS)}


DEFAULT_PREFIX = "crnt"
PREFIX = os.environ.get("CRNT_TOPIC_PREFIX", DEFAULT_PREFIX)
SERVICES = ("registry", "programme", "budget", "notifications", "identity")


def domain_topics(prefix: str = PREFIX) -> tuple[str, ...]:
    """The topic of each publishing service: ``<prefix>.<service>.events``."""
    return tuple(f"{prefix}.{service}.events" for service in SERVICES)


REGISTRY, PROGRAMME, BUDGET, NOTIFICATIONS, IDENTITY = domain_topics()


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics(prefix: str = PREFIX) -> list[TopicSpec]:
    """Every topic the system needs, dead-letter topics included."""
    names = domain_topics(prefix)
    specs = [TopicSpec(name) for name in names]
    specs += [
        TopicSpec(dead_letter_topic(name), partitions=1, retention_days=DEAD_LETTER_RETENTION_DAYS)
        for name in names
    ]
    return specs
