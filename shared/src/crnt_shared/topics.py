"""The Kafka topics of the system: created explicitly, never by auto-creation.

One topic per publishing service; the key of every record is the aggregate id (centre, budget
year, programme year or action), so that events of one aggregate keep their order. Every topic
that a service consumes has a dead-letter twin named ``<topic>.dlq``.

Retention is set on every topic where it is created (RGPD, storage limitation: the registry's
events name animators and their addresses, and a dead letter copies an event): an event stays
``EVENT_RETENTION_DAYS`` on its topic, a dead letter ``DEAD_LETTER_RETENTION_DAYS``. Services do
not replay topics from the beginning: each keeps what it needs in its own database.

``CRNT_TOPIC_PREFIX`` (default ``crnt``) namespaces the topics, so that a whole system under
test (the end-to-end tests) has topics of its own on a shared broker. It is read with the other
settings (:attr:`crnt_shared.settings.ServiceSettings.topics`), never at import time: a contract
names the service that publishes it, and :class:`Topics` turns that into a topic.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import overload

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
#: The publishing services, each the name of its topic: what a contract's ``publisher`` says.
SERVICES = ("registry", "programme", "budget", "notifications", "identity")


def environment_prefix() -> str:
    """``CRNT_TOPIC_PREFIX`` as the process has it now (for tools and tests; the services read it
    with their settings)."""
    return os.environ.get("CRNT_TOPIC_PREFIX", DEFAULT_PREFIX)


def events_topic(service: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}.{service}.events"


def domain_topics(prefix: str = DEFAULT_PREFIX) -> tuple[str, ...]:
    """The topic of each publishing service: ``<prefix>.<service>.events``."""
    return tuple(events_topic(service, prefix) for service in SERVICES)


class _ServiceTopic:
    """The topic of the service an attribute of :class:`Topics` is named after."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._service = name

    @overload
    def __get__(self, topics: None, owner: type) -> "_ServiceTopic": ...

    @overload
    def __get__(self, topics: "Topics", owner: type) -> str: ...

    def __get__(self, topics: "Topics | None", owner: type) -> "str | _ServiceTopic":
        return self if topics is None else topics.of(self._service)


@dataclass(frozen=True)
class Topics:
    """Where each service's events go: ``<prefix>.<service>.events``, unless ``overrides`` names
    another topic for that service (tests give each run topics of its own)."""

    prefix: str = DEFAULT_PREFIX
    overrides: Mapping[str, str] = field(default_factory=dict)

    def of(self, service: str) -> str:
        return self.overrides.get(service) or events_topic(service, self.prefix)

    registry = _ServiceTopic()
    programme = _ServiceTopic()
    budget = _ServiceTopic()
    notifications = _ServiceTopic()
    identity = _ServiceTopic()


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics(prefix: str = DEFAULT_PREFIX) -> list[TopicSpec]:
    """Every topic the system needs, dead-letter topics included."""
    names = domain_topics(prefix)
    specs = [TopicSpec(name) for name in names]
    specs += [
        TopicSpec(dead_letter_topic(name), partitions=1, retention_days=DEAD_LETTER_RETENTION_DAYS)
        for name in names
    ]
    return specs


def environment_topics() -> Topics:
    """The topics under ``CRNT_TOPIC_PREFIX`` as the process has it now (tools and tests)."""
    return Topics(environment_prefix())
