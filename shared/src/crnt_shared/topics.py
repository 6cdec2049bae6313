"""The Kafka topics of the system: created explicitly, never by auto-creation.

One topic per publishing service; the key of every record is the aggregate id (centre, budget
year, programme year or action), so that events of one aggregate keep their order. Every topic
that a service consumes has a dead-letter twin named ``<topic>.dlq``.

``CRNT_TOPIC_PREFIX`` (default ``crnt``) namespaces the topics, so that a whole system under
test (the end-to-end tests) has topics of its own on a shared broker.
"""

import os
from dataclasses import dataclass

PARTITIONS = 6


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = PARTITIONS


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
    specs += [TopicSpec(dead_letter_topic(name), partitions=1) for name in names]
    return specs
