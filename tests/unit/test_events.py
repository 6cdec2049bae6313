import json
from uuid import UUID

import pytest
from crnt_shared.context import set_correlation_id
from crnt_shared.events import EventCatalog, EventDecodeError

from tests.foundation.contracts import PingData, Pinged

CATALOG = EventCatalog([Pinged])


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
def test_invalid_messages_are_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(EventDecodeError, match=message):
        CATALOG.decode(raw)
