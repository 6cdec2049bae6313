"""The AsyncAPI 3.0 document of a service, built from the event contracts it publishes and
those its consumer groups handle (never kept by hand).

One channel per Kafka topic, with a message per event type: its payload is the contract's
JSON schema (the CloudEvents envelope and its ``data``), its Kafka key the event's subject.
A ``send`` operation for what the service publishes (its outbox relay), a ``receive`` per
consumer group and topic, and a ``send`` of the dead letters of each topic it reads.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic.json_schema import models_json_schema

from crnt_shared.catalog import summary
from crnt_shared.events import CONTENT_TYPE, Event
from crnt_shared.topics import (
    DAY_MS,
    DEAD_LETTER_RETENTION_DAYS,
    EVENT_RETENTION_DAYS,
    PARTITIONS,
    Topics,
    dead_letter_topic,
)

VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
DEAD_LETTER = "DeadLetter"
#: The prefixes of the operations' keys: what the service publishes, reads, sets aside.
PUBLISH, CONSUME, SET_ASIDE = "publish.", "consume.", "dead-letter."

#: What the consumer writes beside a record it sends to the dead-letter topic.
DEAD_LETTER_HEADERS: dict[str, str] = {
    "dlq-reason": "`invalid` (not a valid event of a known contract) or `handler-failed`",
    "dlq-error": "The error, its type first",
    "dlq-original-topic": "Where the record was read",
    "dlq-original-partition": "Its partition",
    "dlq-original-offset": "Its offset",
    "dlq-consumer-group": "The group that gave up on it",
    "dlq-failed-at": "When (ISO 8601)",
}


@dataclass(frozen=True)
class Reading:
    """What one consumer group of the service handles from one topic."""

    group_id: str
    topic: str
    contracts: tuple[type[Event], ...]


def readings(
    group_id: str, topics: Sequence[str], contracts: Iterable[type[Event]], names: Topics
) -> list[Reading]:
    """A consumer group's contracts, each on the topic of its publisher (``names``, the
    service's topics as its settings have them)."""
    by_topic: dict[str, list[type[Event]]] = {topic: [] for topic in topics}
    for contract in contracts:
        by_topic.setdefault(names.of(contract.publisher), []).append(contract)
    return [Reading(group_id, topic, tuple(found)) for topic, found in by_topic.items() if found]


def _description(contract: type[Event]) -> str | None:
    """What a contract's docstring says after its summary, a line per paragraph."""
    paragraphs = (contract.__doc__ or "").strip().split("\n\n")[1:]
    return "\n\n".join(" ".join(p.split()) for p in paragraphs) or None


EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "content-type": {"type": "string", "const": CONTENT_TYPE},
        "traceparent": {
            "type": "string",
            "description": "The W3C trace context the event was made in.",
        },
    },
}
DEAD_LETTER_MESSAGE: dict[str, Any] = {
    "name": DEAD_LETTER,
    "title": "Dead letter",
    "summary": "The record as it was read (its key and value unchanged).",
    "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
    "payload": {"description": "The bytes of the record, as they were read."},
}


class _Channels:
    """The channels and operations of a document, as they are added."""

    def __init__(self) -> None:
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}

    def add(self, key: str, action: str, topic: str, messages: list[str], **more: Any) -> None:
        """An operation on ``topic`` (its channel made on first use) with ``messages``."""
        dead_letters = messages == [DEAD_LETTER]
        channel = self.channels.setdefault(
            topic,
            {
                "address": topic,
                "title": topic,
                "messages": {},
                "bindings": {"kafka": _topic_binding(topic, dead_letters=dead_letters)},
            },
        )
        for name in messages:
            channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        self.operations[key] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"} for name in messages],
            **more,
        }


def asyncapi_document(
    *,
    service: str,
    published: Sequence[type[Event]],
    read: Sequence[Reading],
    names: Topics,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``service``."""
    contracts = list(dict.fromkeys([*published, *(c for r in read for c in r.contracts)]))
    refs, definitions = models_json_schema(
        [(contract, "validation") for contract in contracts],
        ref_template="#/components/schemas/{model}",
    )
    refs_of = {c: refs[(c, "validation")]["$ref"].rsplit("/", 1)[1] for c in contracts}
    document = _Channels()
    by_topic: dict[str, list[str]] = {}
    for contract in published:
        by_topic.setdefault(names.of(contract.publisher), []).append(refs_of[contract])
    for topic, published_there in by_topic.items():
        document.add(
            f"{PUBLISH}{topic}",
            "send",
            topic,
            published_there,
            title=f"{service} publishes",
            summary=f"The outbox relay of the {service} service publishes these events, in"
            " order per key.",
        )
    for reading in read:
        document.add(
            f"{CONSUME}{reading.group_id}.{reading.topic}",
            "receive",
            reading.topic,
            [refs_of[contract] for contract in reading.contracts],
            title=f"{reading.group_id} reads",
            summary=f"The consumer group {reading.group_id} handles these events, each once;"
            " it ignores the other types of the topic.",
            bindings={
                "kafka": {
                    "groupId": {"type": "string", "enum": [reading.group_id]},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        )
    for topic in dict.fromkeys(reading.topic for reading in read):
        document.add(
            f"{SET_ASIDE}{topic}",
            "send",
            dead_letter_topic(topic),
            [DEAD_LETTER],
            title=f"{service} sets aside what it cannot handle",
            summary=f"A record of {topic} that is not a valid event, or whose handling keeps"
            " failing after bounded retries, goes here with the error in its headers.",
        )
    schemas = {**definitions.get("$defs", {}), "EventHeaders": EVENT_HEADERS}
    messages = {name: _message(contract, name) for contract, name in refs_of.items()}
    if read:
        schemas["DeadLetterHeaders"] = {
            "type": "object",
            "required": sorted(DEAD_LETTER_HEADERS),
            "properties": {
                name: {"type": "string", "description": text}
                for name, text in DEAD_LETTER_HEADERS.items()
            },
        }
        messages[DEAD_LETTER] = DEAD_LETTER_MESSAGE
    return {
        "asyncapi": VERSION,
        "info": {
            "title": f"crnt {service}: events",
            "version": "1.0.0",
            "description": (
                f"What the {service} service publishes and consumes on Kafka. Every message is"
                " a CloudEvents 1.0 envelope in structured JSON (`correlationid`, `causationid`"
                " and `traceparent` extensions); its Kafka key is the event's `subject`, the"
                " aggregate id, so that the events of one aggregate keep their order. A change"
                " that is not additive gets a new type, with the next version."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": document.channels,
        "operations": document.operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "correlationid": {
                    "description": "The request or event that started the chain of events.",
                    "location": "$message.payload#/correlationid",
                }
            },
        },
    }


def _message(contract: type[Event], name: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": contract.event_type(),
        "title": name,
        "summary": summary(contract),
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/EventHeaders"},
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "correlationId": {"$ref": "#/components/correlationIds/correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The event's subject: the aggregate id."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    description = _description(contract)
    if description:
        message["description"] = description
    return message


def _topic_binding(topic: str, *, dead_letters: bool) -> dict[str, Any]:
    days = DEAD_LETTER_RETENTION_DAYS if dead_letters else EVENT_RETENTION_DAYS
    return {
        "topic": topic,
        "partitions": 1 if dead_letters else PARTITIONS,
        "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": days * DAY_MS},
        "bindingVersion": KAFKA_BINDING,
    }
