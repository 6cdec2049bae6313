import json
from typing import Literal
from uuid import UUID

import pytest
from crnt_shared.context import set_correlation_id
from crnt_shared.events import Contract, Event, EventCatalog, EventDecodeError

from tests.foundation.contracts import PingData, Pinged

CATALOG = EventCatalog([Pinged])


class PongData(Contract):
    answer: str


class Ponged(Event):
    type: Literal["fr.crnt.test.ponged.v1"] = "fr.crnt.test.ponged.v1"
    data: PongData


#: Two contracts: told apart by their type in one parse.
CATALOGS = [CATALOG, EventCatalog([Ponged, Pinged])]


def test_an_event_is_a_structured_cloudevent_that_round_trips() -> None:
    event = Pinged.create(source="/registry", subject="centre-1", data=PingData(sequence=1))
    body = json.loads(event.to_json())
    assert body["specversion"] == "1.0"
    assert body["type"] == "fr.crnt.test.pinged.v1"
    assert body["datacontenttype"] == "application/json"
    assert {"id", "source", "time", "subject", "data", "correlationid", "causationid"} <= set(body)
    assert CATALOG.decode(event.to_json()) == event


def test_the_correlation_id_follows_the_request_and_the_cause() -> None:
    set_correlation_id("request-42")
    cause = Pinged.create(source="/a", subject="s", data=PingData(sequence=1))
    effect = Pinged.create(source="/b", subject="s", data=PingData(sequence=2), cause=cause)
    set_correlation_id(None)
    assert cause.correlationid == "request-42"
    assert effect.correlationid == "request-42"
    assert effect.causationid == str(cause.id)
    assert isinstance(cause.id, UUID)


def test_unknown_fields_are_ignored_and_unknown_types_are_skipped() -> None:
    event = Pinged.create(source="/a", subject="s", data=PingData(sequence=1))
    body = json.loads(event.to_json())
    body["data"]["added_later"] = True
    body["newextension"] = "x"
    assert CATALOG.decode(json.dumps(body).encode()) == event
    body["type"] = "fr.crnt.test.other.v1"
    assert CATALOG.decode(json.dumps(body).encode()) is None


def test_a_catalog_of_several_contracts_decodes_each_to_its_own() -> None:
    ping = Pinged.create(source="/a", subject="s", data=PingData(sequence=1))
    pong = Ponged.create(source="/a", subject="s", data=PongData(answer="oui"))
    catalog = CATALOGS[1]
    assert catalog.decode(ping.to_json()) == ping
    assert type(catalog.decode(ping.to_json())) is Pinged
    assert catalog.decode(pong.to_json()) == pong
    assert type(catalog.decode(pong.to_json())) is Ponged
    assert CATALOG.decode(pong.to_json()) is None
    with pytest.raises(EventDecodeError, match="data does not match the contract"):
        catalog.decode(pong.to_json().replace(b'"answer"', b'"sequence"'))


def test_events_are_frozen() -> None:
    event = Pinged.create(source="/a", subject="s", data=PingData(sequence=1))
    with pytest.raises(ValueError, match="frozen"):
        event.subject = "t"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff", "not a valid CloudEvent"),
        (b"{}", "not a valid CloudEvent"),
        (
            b'{"specversion": "0.3", "id": "00000000-0000-0000-0000-000000000001", "source": "/a",'
            b' "type": "fr.crnt.test.pinged.v1", "subject": "s", "data": {"sequence": 1}}',
            "specversion",
        ),
        (
            b'{"id": "00000000-0000-0000-0000-000000000001", "source": "/a",'
            b' "type": "fr.crnt.test.pinged.v1", "subject": "s", "data": {"sequence": "x"}}',
            "data does not match",
        ),
    ],
)
@pytest.mark.parametrize("catalog", CATALOGS)
def test_invalid_messages_are_refused_with_a_reason(
    raw: bytes, message: str, catalog: EventCatalog
) -> None:
    with pytest.raises(EventDecodeError, match=message):
        catalog.decode(raw)
