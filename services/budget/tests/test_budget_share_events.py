"""A version's ``centre.share.changed`` events, built in bulk for up to every member: each is
the event :meth:`~crnt_shared.events.Event.create` makes, correlated and traced alike."""

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

from crnt_budget.handlers.events import SOURCE, version_events
from crnt_budget.repository import CauseRow, CentreShareRow, VersionRow
from crnt_shared.context import set_correlation_id
from crnt_shared.contracts.budget import Cause, CausingEvent, CentreShareChanged
from crnt_shared.events import Event
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

FINANCING = {
    "status": "balanced",
    "expenses": "100.00",
    "resources": "100.00",
    "gap": "0.00",
    "grants": "0.00",
    "reste_a_charge": "100.00",
    "investment_rule": {"holds": True},
}


def _envelope(event: Event) -> dict[str, object]:
    """The event's JSON without what every new event draws afresh (its id and time)."""
    payload = json.loads(event.to_json())
    return {key: value for key, value in payload.items() if key not in ("id", "time")}


def test_each_centre_event_is_the_one_create_makes_in_the_request_and_its_trace() -> None:
    mover, joiner, still = uuid4(), uuid4(), uuid4()
    version = VersionRow(2026, 3, datetime.now(UTC), {}, {}, FINANCING, 300, 300, 100, 2, 2)
    centres = [
        CentreShareRow(mover, "EPN du port", "200041762", 4, True, 12_345, 10_000),
        CentreShareRow(joiner, "EPN neuf", "200041762", 0, True, 5_000, 0),
        CentreShareRow(still, "EPN calme", "200041762", 2, True, 700, 700),
    ]
    approval = CauseRow(uuid4(), "fr.crnt.registry.membership.approved.v1", str(joiner))
    causes = [approval]
    set_correlation_id("request-42")
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("recalculation"):
            events = version_events(version, centres, [], causes, None)
            traceparent = trace.get_current_span().get_span_context().trace_id
    finally:
        set_correlation_id(None)
    shares = [e for e in events if isinstance(e, CentreShareChanged)]
    assert [e.subject for e in shares] == [str(mover), str(joiner)]
    assert len({e.id for e in shares}) == 2
    types = [approval.event_type]
    expected = [
        CentreShareChanged.create(
            source=SOURCE,
            subject=str(centre),
            correlation_id="request-42",
            data={
                "year": 2026,
                "version": 3,
                "centre_id": centre,
                "centre_name": name,
                "epci_siren": "200041762",
                "member": True,
                "amount": amount,
                "previous": previous,
                "change": change,
                "cause": Cause(kind="events", event_count=1, events=own, types=types),
            },
        )
        for centre, name, amount, previous, change, own in (
            (mover, "EPN du port", "123.45", "100.00", "23.45", []),
            (
                joiner,
                "EPN neuf",
                "50.00",
                "0.00",
                "50.00",
                [CausingEvent(id=approval.event_id, type=approval.event_type)],
            ),
        )
    ]
    for event, made in zip(shares, expected, strict=True):
        assert isinstance(event.data.centre_id, UUID)
        assert event.traceparent is not None
        assert f"{traceparent:032x}" in event.traceparent
        assert _envelope(event) == {**_envelope(made), "traceparent": event.traceparent}
        assert CentreShareChanged.model_validate_json(event.to_json()) == event
