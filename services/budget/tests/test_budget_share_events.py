"""What a version publishes of the centres' shares: a ``centre.share.changed`` for each centre a
cause is about, the event :meth:`~crnt_shared.events.Event.create` makes, correlated and traced
alike; and for every member, its dotation through the classes of ``dotations.changed``."""

import json
import random
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from crnt_budget.app import MIGRATIONS
from crnt_budget.handlers import ConfigureBudget, configure_budget, recalculate_dirty_year
from crnt_budget.handlers.events import SOURCE, version_events
from crnt_budget.repository import CauseRow, CentreShareRow, Repository, VersionRow
from crnt_budget.testing import YEAR, DotationsFollower
from crnt_shared.context import set_correlation_id
from crnt_shared.contracts.budget import (
    BUDGET_EVENTS,
    Cause,
    CausingEvent,
    CentreShareChanged,
    DotationsChanged,
)
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.events import Event, EventCatalog
from crnt_shared.tracing import current_traceparent
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from services.budget.tests.test_budget_storage import (
    EPCIS,
    KEYS,
    TOPIC,
    Change,
    Facts,
    Territory,
    _apply,
    _change,
    _config,
)

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


def _decoded(catalog: EventCatalog, row: Any) -> Event:
    event = catalog.decode(row["payload"])
    assert event is not None
    return event


async def _recalculated(
    pool: Any, territory: Territory, step: Change, round_: int, tracer: Any
) -> tuple[int | None, list[Any], str | None]:
    """Apply ``step`` with a cause about its centre and one about nothing; recalculate in a
    request's correlation and trace: the new version, its outbox rows, the traceparent."""
    async with pool.acquire() as connection:
        await _apply(connection, step)
        for subject in (str(step.centre_id), "elsewhere"):
            await connection.execute(
                "INSERT INTO pending_causes (year, event_id, event_type, subject)"
                " VALUES ($1, $2, $3, $4)",
                YEAR,
                uuid4(),
                f"test.{step.kind}",
                subject,
            )
        before = await connection.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
    set_correlation_id(f"round-{round_}")
    try:
        with tracer.start_as_current_span("recalculation"):
            async with UnitOfWork(pool, repository_factory=Repository) as uow:
                outcome = await recalculate_dirty_year(uow, YEAR, TOPIC)
                await uow.commit()
            traceparent = current_traceparent()
    finally:
        set_correlation_id(None)
    assert outcome is not None
    async with pool.acquire() as connection:
        written = await connection.fetch(
            "SELECT event_id, topic, key, event_type, payload, headers FROM outbox"
            " WHERE id > $1 ORDER BY id",
            before,
        )
    return outcome.version, written, traceparent


async def test_a_consumer_of_the_dotations_knows_every_members_share_in_every_version(
    database_url: str,
) -> None:
    """Over versions where centres join, leave, rejoin, move and are renamed with quotes,
    backslashes and accents, what a consumer learns from the dotations events alone (each
    member's workstations from the centres listed as changed, the classes for the others) is
    every version's shares as the budget stores them, now and before; each version lists only
    the centres whose facts changed, and every event is keyed by the year and traced like the
    rest of the version. A year whose versions were published before the dotations lists
    every member once."""
    rng = random.Random("dotations by class")
    territory = Territory(KEYS["three tenths fixed"], envelope=1_234_567)
    pool = await create_pool(database_url)
    catalog = EventCatalog(BUDGET_EVENTS)
    tracer = TracerProvider().get_tracer("test")
    follower = DotationsFollower()
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
            for n, name in enumerate(["EPN « L'Oasis »", 'Tiers-lieu "Le Quai"', "C:\\temp é"]):
                centre_id = uuid4()
                territory.members[centre_id] = Facts(name, EPCIS[n % 2], n)
                await _apply(connection, Change("join", centre_id, territory.members[centre_id]))
            for _ in range(20):
                await _apply(connection, _change(territory, rng))
        async with UnitOfWork(pool, repository_factory=Repository) as uow:
            await configure_budget(ConfigureBudget(YEAR, _config(territory), by="test"), uow, TOPIC)
        async with pool.acquire() as connection:
            first = await connection.fetch("SELECT payload FROM outbox ORDER BY id")
        follower.take([_decoded(catalog, row) for row in first])
        listed, untold = 0, False
        for round_ in range(14):
            if round_ == 10:  # as if the versions so far had been published before issue 15
                async with pool.acquire() as connection:
                    await connection.execute(
                        "UPDATE budgets SET dotations_told = false WHERE year = $1", YEAR
                    )
                follower, untold = DotationsFollower(), True
            step = _change(territory, rng)
            number, written, traceparent = await _recalculated(
                pool, territory, step, round_, tracer
            )
            if number is None:
                continue
            events = [_decoded(catalog, row) for row in written]
            dotations = [e for e in events if isinstance(e, DotationsChanged)]
            assert dotations, "every version that moves a share publishes its dotations"
            for row, event in zip(written, events, strict=True):
                assert row["event_id"] == event.id
                assert row["topic"] == TOPIC
                assert row["headers"] == {"traceparent": traceparent}
                assert event.correlationid == f"round-{round_}"
                if isinstance(event, DotationsChanged):
                    assert row["key"] == str(YEAR) == event.subject
                    assert event.data.version == number
            follower.take(events)
            async with pool.acquire() as connection:
                repository = Repository(connection)
                rows = await repository.centre_shares(YEAR, number)
                facts = await connection.fetchval(
                    "SELECT count(*) FROM share_facts WHERE year = $1 AND version = $2",
                    YEAR,
                    number,
                )
            members = {r.centre_id: r for r in rows if r.is_member}
            assert follower.amounts == {i: r.amount_cents for i, r in members.items()}
            assert {i: follower.previous[i] for i in members} == {
                i: r.previous_cents for i, r in members.items()
            }
            changed = [c for e in dotations for c in e.data.changed]
            if untold:
                assert {c.centre_id for c in changed if c.member} == set(members)
                untold = False
            else:
                assert len(changed) == facts  # what changed, not the members
                listed += len(changed)
            names = {c.centre_id: c.centre_name for c in changed}
            assert all(names[i] == members[i].name for i in names if i in members)
        assert listed < 3 * 14  # a step changes one centre's facts
    finally:
        await pool.close()
