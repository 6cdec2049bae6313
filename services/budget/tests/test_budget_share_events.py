"""A version's ``centre.share.changed`` events, built in bulk for up to every member: each is
the event :meth:`~crnt_shared.events.Event.create` makes, correlated and traced alike."""

import json
import random
from datetime import UTC, datetime
from uuid import UUID, uuid4

from crnt_budget.app import MIGRATIONS
from crnt_budget.handlers import ConfigureBudget, configure_budget, recalculate_dirty_year
from crnt_budget.handlers.events import SOURCE, cause_of_others, share_events, version_events
from crnt_budget.repository import CauseRow, CentreShareRow, Envelope, Repository, VersionRow
from crnt_shared.context import set_correlation_id
from crnt_shared.contracts.budget import Cause, CausingEvent, CentreShareChanged
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.events import Event, EventCatalog
from crnt_shared.tracing import current_traceparent
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from services.budget.tests.test_budget_storage import (
    EPCIS,
    KEYS,
    TOPIC,
    YEAR,
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


async def test_the_events_the_database_builds_are_those_of_the_python_path(
    database_url: str,
) -> None:
    """A version's share events but those its causes are about are built by the database (issue
    15): over versions where centres join, leave, rejoin, move and are renamed with quotes,
    backslashes and accents, each decodes to exactly the event the Python path makes of the
    version's row, with its own id, in the request's correlation and trace, once per centre
    that moved, with the outbox row keyed and traced as :meth:`publish_many` writes it."""
    rng = random.Random("share events in SQL")
    territory = Territory(KEYS["three tenths fixed"], envelope=1_234_567)
    pool = await create_pool(database_url)
    catalog = EventCatalog([CentreShareChanged])
    tracer = TracerProvider().get_tracer("test")
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
            await configure_budget(ConfigureBudget(YEAR, _config(territory), "test"), uow, TOPIC)
        checked = 0
        for round_ in range(12):
            step = _change(territory, rng)
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
            if outcome.version is None:
                continue
            async with pool.acquire() as connection:
                repository = Repository(connection)
                version = await repository.version(YEAR, outcome.version)
                rows = await repository.centre_shares(YEAR, outcome.version)
                written = await connection.fetch(
                    "SELECT event_id, topic, key, payload, headers FROM outbox"
                    " WHERE id > $1 AND event_type = $2 ORDER BY id",
                    before,
                    CentreShareChanged.event_type(),
                )
            assert version is not None
            moved = {r.centre_id: r for r in rows if r.amount_cents != r.previous_cents}
            assert len(written) == len(moved) == version.changed_centres
            causes = [
                CauseRow(UUID(int=0), f"test.{step.kind}", subject)
                for subject in (str(step.centre_id), "elsewhere")
            ]
            others = cause_of_others(causes, None)
            for row in written:
                event = catalog.decode(row["payload"])
                assert isinstance(event, CentreShareChanged)
                if event.data.centre_id == step.centre_id:
                    continue  # its own cause: the Python path made it
                common = Envelope(SOURCE, event.time, f"round-{round_}", traceparent)
                [made] = share_events(version, [moved[event.data.centre_id]], others, common)
                assert event == made.model_copy(update={"id": event.id})
                assert json.loads(row["payload"]).keys() == json.loads(made.to_json()).keys()
                assert (row["event_id"], row["key"], row["topic"]) == (
                    event.id,
                    event.subject,
                    TOPIC,
                )
                assert row["headers"] == {"traceparent": traceparent}
                checked += 1
            assert len({row["event_id"] for row in written}) == len(written)
            assert {
                e.data.centre_id
                for e in map(catalog.decode, (r["payload"] for r in written))
                if isinstance(e, CentreShareChanged)
            } == set(moved)
        assert checked > 50  # most versions move most shares
    finally:
        await pool.close()
