"""The Kafka topics of the system: created explicitly, never by auto-creation.

One topic per publishing service; the key of every record is the aggregate id (centre, budget
year, programme year or action), so that events of one aggregate keep their order. Every topic
that a service consumes has a dead-letter twin named ``<topic>.dlq``.
"""

from dataclasses import dataclass

PARTITIONS = 6


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = PARTITIONS


REGISTRY = "crnt.registry.events"
PROGRAMME = "crnt.programme.events"
BUDGET = "crnt.budget.events"
NOTIFICATIONS = "crnt.notifications.events"

DOMAIN_TOPICS = (REGISTRY, PROGRAMME, BUDGET, NOTIFICATIONS)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[TopicSpec]:
    """Every topic the system needs, dead-letter topics included."""
    specs = [TopicSpec(name) for name in DOMAIN_TOPICS]
    specs += [TopicSpec(dead_letter_topic(name), partitions=1) for name in DOMAIN_TOPICS]
    return specs
