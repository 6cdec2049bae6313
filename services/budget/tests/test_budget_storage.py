"""A version stores what changed (issue 15): the facts of the centres whose facts changed and
its dotations by class, yet every version reads back exactly the rows that storing every
centre's share in every version gave, and the versions stored that way are converted.

The reference is the rule itself, written plainly: a weight per member allocated by the
largest remainder, and each version's rows compared with the previous version's (members, and
those that left with a share before).
"""

import random
import uuid
from dataclasses import astuple, dataclass, field, replace
from datetime import date
from fractions import Fraction
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest
from crnt_budget import domain
from crnt_budget.app import MIGRATIONS
from crnt_budget.handlers import (
    ConfigureBudget,
    configure_budget,
    on_centres_changed,
    recalculate_dirty_year,
)
from crnt_budget.repository import ActionRow, CentreShareRow, ProgrammeRow, Repository
from crnt_budget.testing import CAPSO, CCPL, YEAR, centre, membership
from crnt_shared.contracts.registry import MembershipApproved, MembershipWithdrawn
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, UnitOfWork, create_pool, migrate
from crnt_shared.errors import RuleViolation
from crnt_shared.events import utcnow

pytestmark = pytest.mark.integration
TOPIC = "test.budget"
EPCIS = (CAPSO, CCPL)


@dataclass
class Facts:
    name: str
    epci: tuple[str, str, int]
    workstations: int


@dataclass
class Territory:
    """The members as the registry made them, and each version's rows as the rule gives them."""

    key: domain.CentreKey
    envelope: int
    members: dict[uuid.UUID, Facts] = field(default_factory=dict)
    left: dict[uuid.UUID, Facts] = field(default_factory=dict)
    versions: list[list[CentreShareRow]] = field(default_factory=list)

    def expected(self) -> list[CentreShareRow]:
        """The next version's rows."""
        ids = sorted(self.members)
        total = sum(max(0, self.members[i].workstations) for i in ids)
        if self.key.weight is domain.CentreWeight.NONE or total == 0:
            weights = [(str(i), 1) for i in ids]
        else:
            p, q = self.key.fixed_ratio.numerator, self.key.fixed_ratio.denominator
            weights = [
                (str(i), p * total + (q - p) * len(ids) * max(0, self.members[i].workstations))
                for i in ids
            ]
        amounts = domain.allocate(self.envelope, weights)
        before = {row.centre_id: row for row in self.versions[-1]} if self.versions else {}
        rows = []
        for centre_id in sorted(set(ids) | {i for i, row in before.items() if row.amount_cents}):
            previous = before[centre_id].amount_cents if centre_id in before else 0
            if centre_id in self.members:
                facts, member, amount = self.members[centre_id], True, amounts[str(centre_id)]
            else:
                facts, member, amount = self.left[centre_id], False, 0
            rows.append(
                CentreShareRow(
                    centre_id,
                    facts.name,
                    facts.epci[0],
                    facts.workstations,
                    member,
                    amount,
                    previous,
                )
            )
        return rows


async def _join(connection: asyncpg.Connection, centre_id: uuid.UUID, facts: Facts) -> None:
    await connection.execute(
        "INSERT INTO centres (centre_id, name, epci_siren, epci_name, workstations, status,"
        " is_member, as_of) VALUES ($1, $2, $3, $4, $5, 'member', true, clock_timestamp())"
        " ON CONFLICT (centre_id) DO UPDATE SET is_member = true",
        centre_id,
        facts.name,
        facts.epci[0],
        facts.epci[1],
        facts.workstations,
    )
    await connection.execute(
        "INSERT INTO memberships (centre_id, since) VALUES ($1, clock_timestamp())", centre_id
    )


@dataclass(frozen=True)
class Change:
    kind: str
    centre_id: uuid.UUID
    facts: Facts


def _change(territory: Territory, rng: random.Random) -> Change:
    """One change the registry could make, made to the territory."""
    members, left = territory.members, territory.left
    kind = rng.choice(["join", "join", "leave", "rejoin", "workstations", "name", "epci"])
    if kind == "join" or not members or (kind == "rejoin" and not left):
        centre_id = uuid.uuid4()
        name = f"EPN {len(members) + len(left)}"
        members[centre_id] = Facts(name, rng.choice(EPCIS), rng.randint(0, 4))
        return Change("join", centre_id, replace(members[centre_id]))
    if kind == "rejoin":
        centre_id = rng.choice(sorted(left))
        members[centre_id] = left.pop(centre_id)
        return Change(kind, centre_id, replace(members[centre_id]))
    centre_id = rng.choice(sorted(members))
    facts = members[centre_id]
    if kind == "leave":
        left[centre_id] = members.pop(centre_id)
    elif kind == "workstations":
        facts.workstations = rng.randint(0, 4)
    elif kind == "name":
        facts.name += " (renamed)"
    else:
        facts.epci = CCPL if facts.epci == CAPSO else CAPSO
    return Change(kind, centre_id, replace(facts))


async def _apply(connection: asyncpg.Connection, change: Change) -> None:
    """The change as the budget's read models record the registry's events."""
    facts = change.facts
    if change.kind in {"join", "rejoin"}:
        await connection.execute(
            "INSERT INTO centres (centre_id, name, epci_siren, epci_name, workstations, status,"
            " is_member, as_of) VALUES ($1, $2, $3, $4, $5, 'member', true, clock_timestamp())"
            " ON CONFLICT (centre_id) DO UPDATE SET is_member = true",
            change.centre_id,
            facts.name,
            facts.epci[0],
            facts.epci[1],
            facts.workstations,
        )
        await connection.execute(
            "INSERT INTO memberships (centre_id, since) VALUES ($1, clock_timestamp())",
            change.centre_id,
        )
    elif change.kind == "leave":
        await connection.execute(
            "UPDATE memberships SET until = clock_timestamp() WHERE centre_id = $1"
            " AND until IS NULL",
            change.centre_id,
        )
    else:
        await connection.execute(
            "UPDATE centres SET name = $2, epci_siren = $3, epci_name = $4, workstations = $5"
            " WHERE centre_id = $1",
            change.centre_id,
            facts.name,
            facts.epci[0],
            facts.epci[1],
            facts.workstations,
        )


KEYS = {
    "three tenths fixed": domain.CentreKey(Fraction(3, 10), domain.CentreWeight.WORKSTATIONS),
    "by workstations only": domain.CentreKey(Fraction(0), domain.CentreWeight.WORKSTATIONS),
    "equal": domain.CentreKey(Fraction(0), domain.CentreWeight.NONE),
}


def _config(territory: Territory) -> domain.BudgetConfig:
    return domain.BudgetConfig(
        envelope=territory.envelope,
        centre_key=territory.key,
        epci_key=domain.EpciKey.MEMBER_CENTRES,
    )


@pytest.mark.parametrize("key", list(KEYS))
async def test_every_version_reads_back_the_rows_the_rule_gives_while_storing_changes(
    database_url: str, key: str
) -> None:
    rng = random.Random(f"storage-{key}")
    territory = Territory(KEYS[key], envelope=rng.randint(1_000, 2_000_000))
    pool = await create_pool(database_url)
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
            for _ in range(60):
                await _apply(connection, _change(territory, rng))
        async with UnitOfWork(pool, repository_factory=Repository) as uow:
            await configure_budget(ConfigureBudget(YEAR, _config(territory), by="test"), uow, TOPIC)
        territory.versions.append(territory.expected())
        steps = ["configured"]
        for _ in range(40):
            step = _change(territory, rng)
            async with pool.acquire() as connection:
                await _apply(connection, step)
                await connection.execute(
                    "INSERT INTO pending_causes (year, event_id, event_type, subject)"
                    " VALUES ($1, $2, 'test', 'test')",
                    YEAR,
                    uuid.uuid4(),
                )
            async with UnitOfWork(pool, repository_factory=Repository) as uow:
                await recalculate_dirty_year(uow, YEAR, TOPIC)
                await uow.commit()
            async with pool.acquire() as connection:
                budget = await Repository(connection).budget(YEAR)
            assert budget is not None
            written = budget.latest_version
            expected = territory.expected()
            if written > len(territory.versions):
                territory.versions.append(expected)
                steps.append(step.kind)
            else:  # nothing changed: no version, as before
                assert all(row.amount_cents == row.previous_cents for row in expected)
        assert len(territory.versions) > 25
        async with pool.acquire() as connection:
            repository = Repository(connection)
            for number, rows in enumerate(territory.versions, start=1):
                assert await repository.centre_shares(YEAR, number) == rows, steps[number - 1]
                version = await repository.version(YEAR, number)
                assert version is not None
                assert version.changed_centres == sum(
                    r.amount_cents != r.previous_cents for r in rows
                )
                assert version.allocated_cents == sum(r.amount_cents for r in rows)
            stored = await connection.fetchval(
                "SELECT count(*) FROM share_facts WHERE year = $1 AND version > 1", YEAR
            )
        # Each change of the registry stores the facts of one centre, whatever it moved.
        assert stored <= 40 < sum(len(rows) for rows in territory.versions[1:]) / 10
    finally:
        await pool.close()


def _migrations_until(folder: Path, last: int) -> MigrationSource:
    for entry in files("crnt_budget.migrations").iterdir():
        if entry.name.endswith(".sql") and int(entry.name[:4]) <= last:
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return MigrationSource("budget", folder)


async def _write_as_before(connection: asyncpg.Connection, territory: Territory) -> None:
    """The versions as the code before issue 15 stored them: every row in centre_shares."""
    await connection.execute(
        "INSERT INTO budgets (year, configuration, revision, configured_at, latest_version)"
        " VALUES ($1, '{}', 1, now(), $2)",
        YEAR,
        len(territory.versions),
    )
    for number, rows in enumerate(territory.versions, start=1):
        await connection.execute(
            "INSERT INTO versions (year, version, computed_at, cause, configuration, financing,"
            " envelope_cents, allocated_cents, epci_contribution_cents, member_count,"
            " changed_centres) VALUES ($1, $2, now(), '{}', '{}', '{}', 0, 0, 0, 0, 0)",
            YEAR,
            number,
        )
        await connection.copy_records_to_table(
            "centre_shares",
            records=[(YEAR, number, *astuple(r)) for r in rows],
        )


def _history(seed: str) -> Territory:
    """A history made without the database: the rule's rows after each change."""
    rng = random.Random(seed)
    territory = Territory(KEYS["three tenths fixed"], envelope=rng.randint(1_000, 2_000_000))
    for _ in range(60):
        _change(territory, rng)
    for _ in range(40):
        territory.versions.append(territory.expected())
        _change(territory, rng)
    return territory


async def test_the_versions_stored_before_are_converted_and_read_back_the_same(
    database_url: str, tmp_path: Path
) -> None:
    territory = _history("conversion")
    connection = await asyncpg.connect(database_url)
    try:
        shared = MigrationSource("shared", SHARED_MIGRATIONS)
        await migrate(connection, [shared, _migrations_until(tmp_path, 3)])
        await _write_as_before(connection, territory)
        await migrate(connection, [shared, MIGRATIONS])
        repository = Repository(connection)
        for number, rows in enumerate(territory.versions, start=1):
            assert await repository.centre_shares(YEAR, number) == rows
        assert await connection.fetchval("SELECT to_regclass('centre_shares')") is None
        stored = await connection.fetchval("SELECT count(*) FROM share_facts")
        assert stored < sum(len(rows) for rows in territory.versions) / 4
    finally:
        await connection.close()


async def test_a_conversion_that_would_not_read_back_the_same_stops_the_migration(
    database_url: str, tmp_path: Path
) -> None:
    territory = _history("corrupt")
    rows = territory.versions[5]
    at = next(i for i, row in enumerate(rows) if row.is_member)
    rows[at] = replace(rows[at], amount_cents=rows[at].amount_cents + 2)  # none of its class has
    connection = await asyncpg.connect(database_url)
    try:
        shared = MigrationSource("shared", SHARED_MIGRATIONS)
        await migrate(connection, [shared, _migrations_until(tmp_path, 3)])
        await _write_as_before(connection, territory)
        with pytest.raises(asyncpg.RaiseError, match="differ once stored by change"):
            await migrate(connection, [shared, MIGRATIONS])
        assert await connection.fetchval("SELECT count(*) FROM centre_shares") > 0
    finally:
        await connection.close()


async def test_a_negative_actual_cost_is_refused_by_the_repository_in_a_sentence(
    database_url: str,
) -> None:
    """The table's check is the last guard; the repository turns its error into the domain's."""
    pool = await create_pool(database_url)
    action_id = uuid.uuid4()
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
        async with UnitOfWork(pool, repository_factory=Repository) as uow:
            repository = Repository(uow.connection)
            programme = ProgrammeRow(YEAR, 1, utcnow(), date(YEAR, 1, 15), "COPIL", 1000, action_id)
            action = ActionRow(action_id, "ateliers", "fonctionnement", "Ateliers", 1000, None)
            await repository.save_programme(programme, [action])
            with pytest.raises(RuleViolation, match=r"negative \(-5\.00\): the financing plan"):
                await repository.record_actual(action_id, -500, utcnow())
    finally:
        await pool.close()


async def test_membership_decisions_taken_together_are_written_as_each_in_turn_would(
    database_url: str,
) -> None:
    """The bulk statements on PostgreSQL: a centre approved then withdrawn in one batch has its
    period opened and closed, one approved stays, a late replay changes nothing, each centre
    and EPCI is written once and the causes keep the events' order."""
    pool = await create_pool(database_url)
    staying, leaving = centre(workstations=2), centre(workstations=4, epci=CCPL)
    came = membership(MembershipApproved, leaving, "pending", "member")
    joined = membership(MembershipApproved, staying, "pending", "member")
    went = membership(MembershipWithdrawn, leaving, "member", "withdrawn")
    late = membership(MembershipApproved, leaving, "pending", "member")
    late = late.model_copy(update={"time": came.time})
    try:
        async with pool.acquire() as connection:
            await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
        async with UnitOfWork(pool, repository_factory=Repository) as uow:
            await uow.repository.save_budget(YEAR, {})
            await uow.commit()
        async with UnitOfWork(pool, repository_factory=Repository) as uow:
            assert await on_centres_changed(cast(Any, [came, joined, went, late]), uow)
            await uow.commit()
        async with pool.acquire() as connection:
            centres = await connection.fetch(
                "SELECT centre_id, status, is_member, workstations FROM centres"
                " WHERE centre_id = ANY($1::uuid[]) ORDER BY is_member",
                [staying.id, leaving.id],
            )
            periods = await connection.fetch(
                "SELECT centre_id, since, until FROM memberships"
                " WHERE centre_id = ANY($1::uuid[]) ORDER BY since",
                [staying.id, leaving.id],
            )
            causes = await connection.fetch(
                "SELECT event_id FROM pending_causes WHERE year = $1 ORDER BY recorded_at", YEAR
            )
            epcis = await connection.fetchval(
                "SELECT count(*) FROM epcis WHERE siren = ANY($1::text[])", [CAPSO[0], CCPL[0]]
            )
    finally:
        await pool.close()
    assert [tuple(row) for row in centres] == [
        (leaving.id, "withdrawn", False, 4),
        (staying.id, "member", True, 2),
    ]
    assert [(row["centre_id"], row["until"] is None) for row in periods] == [
        (leaving.id, False),
        (staying.id, True),
    ]
    assert periods[0]["until"] == went.data.at
    assert [row["event_id"] for row in causes] == [came.id, joined.id, went.id]
    assert epcis == 2
