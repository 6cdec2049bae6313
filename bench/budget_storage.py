"""What a year of versions stores (issue 15): 50,000 members, 1,000 versions.

Each version follows one to three changes of the registry, in the proportions of a network's
life: approvals (half of them), withdrawals, workstations declared anew, renamings and moves to
another EPCI, and versions without any centre change (a programme validated, a participation
voted). The key is the one of the seeds (half fixed, half by workstations) with an envelope of
500 € per member: then **an approval moves every member's share** (the fixed part is divided by
one more member), so that storing the shares that changed would store nearly every share of
nearly every version. The bench counts those shares exactly, beside what is stored:

* by change (now): the facts of the centres whose facts changed and the dotations by class,
  written by :meth:`Repository.add_version`, the writer of the recalculation;
* every share in every version (before): ``centre_shares`` as the previous code wrote it
  (the repository of that time, :mod:`bench.previous`), for ``BENCH_BUDGET_BEFORE_VERSIONS``
  versions and then extrapolated (it grows by the same rows at every version: 50 million rows
  would take the bench's whole time).

The versions are computed by the bench's own model of the territory with the domain's
:func:`split_by_class` rather than by 1,000 recalculations (each stages the year's 50,000
members, about a second a version here): the stored rows are what the recalculation writes for
the same changes, which ``test_budget_storage`` checks; the bench checks that the last version
and one in the middle read back the model's shares exactly.
"""

import bisect
import heapq
import itertools
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
from crnt_budget import domain
from crnt_budget.app import MIGRATIONS
from crnt_budget.repository import CentreShareRow, EpciShareRow, Repository, VersionRow
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, migrate

from bench import previous

MEMBERS = int(os.environ.get("BENCH_BUDGET_STORAGE_MEMBERS", "50000"))
VERSIONS = int(os.environ.get("BENCH_BUDGET_VERSIONS", "1000"))
BEFORE_VERSIONS = int(os.environ.get("BENCH_BUDGET_BEFORE_VERSIONS", "5"))
YEAR = datetime.now(UTC).year
ENVELOPE = MEMBERS * 50_000  # 500 € per member of the first version
EPCIS = (("200069037", "CA du Pays de Saint-Omer"), ("246201016", "CC du Pays de Lumbres"))
KEY = domain.CentreKey(domain.parse_ratio("0.5"), domain.CentreWeight.WORKSTATIONS)
CHANGES = ["join"] * 10 + ["leave"] * 2 + ["workstations"] * 4 + ["name", "epci", "none", "none"]


@dataclass(frozen=True)
class Facts:
    name: str
    epci_siren: str
    workstations: int


class Territory:
    """The members, their classes in id order, and the dotations of the last version."""

    def __init__(self, rng: random.Random, members: int) -> None:
        self.rng = rng
        self.members: dict[uuid.UUID, Facts] = {}
        self.left: dict[uuid.UUID, Facts] = {}
        self.by_class: dict[int, list[uuid.UUID]] = {}
        self.dotations: dict[int, domain.DotationClass] = {}
        for _ in range(members):
            self.join()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def join(self, centre_id: uuid.UUID | None = None) -> uuid.UUID:
        centre_id = centre_id or self.new_id()
        facts = self.left.pop(centre_id, None) or Facts(
            f"EPN {len(self.members) + len(self.left)}",
            self.rng.choice(EPCIS)[0],
            self.rng.randint(0, 12),
        )
        self._place(centre_id, facts)
        return centre_id

    def _place(self, centre_id: uuid.UUID, facts: Facts) -> None:
        self.members[centre_id] = facts
        bisect.insort(self.by_class.setdefault(facts.workstations, []), centre_id)

    def _remove(self, centre_id: uuid.UUID) -> Facts:
        facts = self.members.pop(centre_id)
        ids = self.by_class[facts.workstations]
        del ids[bisect.bisect_left(ids, centre_id)]
        if not ids:
            del self.by_class[facts.workstations]
        return facts

    def change(self) -> tuple[str, uuid.UUID | None]:
        """One change of the registry: its kind and the centre it concerns."""
        kind = self.rng.choice(CHANGES)
        if kind == "none":
            return kind, None
        if kind == "join":
            return kind, self.join(self.rng.choice(sorted(self.left)) if self.left else None)
        centre_id = self.rng.choice(list(self.members))
        facts = self._remove(centre_id)
        if kind == "leave":
            self.left[centre_id] = facts
            return kind, centre_id
        if kind == "workstations":
            facts = replace(facts, workstations=self.rng.randint(0, 12))
        elif kind == "name":
            facts = replace(facts, name=facts.name + " (nouveau nom)")
        else:
            other = [siren for siren, _ in EPCIS if siren != facts.epci_siren]
            facts = replace(facts, epci_siren=other[0])
        self._place(centre_id, facts)
        return kind, centre_id

    def split(self, envelope: int) -> dict[int, domain.DotationClass]:
        counts = {w: len(ids) for w, ids in self.by_class.items()}
        split = domain.split_by_class(envelope, KEY, counts)
        cut = None
        if split.tied_cents:
            tied = heapq.merge(*(self.by_class[w] for w in split.tied))
            cut = str(next(itertools.islice(tied, split.tied_cents - 1, None)))
        return split.classes(cut)

    def amount(self, centre_id: uuid.UUID, dotations: dict[int, domain.DotationClass]) -> int:
        facts = self.members.get(centre_id)
        if facts is None:
            return 0
        return dotations[facts.workstations].amount(str(centre_id))

    def moved(
        self,
        before: dict[int, domain.DotationClass],
        after: dict[int, domain.DotationClass],
        changed: dict[uuid.UUID, int],
    ) -> int:
        """How many centres have another amount than in the version before (``changed``: the
        centres whose facts changed, with their amount before): per class, from where each
        version's cut falls among the class's ids, then the changed centres one by one."""
        moved = 0
        for centre_id, was in changed.items():
            facts = self.members.get(centre_id)
            if facts is not None and facts.workstations in before:  # counted below: undo
                old, new = before[facts.workstations], after[facts.workstations]
                moved -= old.amount(str(centre_id)) != new.amount(str(centre_id))
            moved += self.amount(centre_id, after) != was
        for w, ids in self.by_class.items():
            if w not in before:
                continue
            old, new = before[w], after[w]
            at_old = bisect.bisect_right(ids, _uuid(old.extra_through))
            at_new = bisect.bisect_right(ids, _uuid(new.extra_through))
            if new.base == old.base:
                moved += abs(at_old - at_new)
            elif new.base == old.base + 1:  # same amount: above the new cut, below the old
                moved += len(ids) - max(0, at_old - at_new)
            elif new.base == old.base - 1:
                moved += len(ids) - max(0, at_new - at_old)
            else:
                moved += len(ids)
        return moved

    def rows(self, dotations: dict[int, domain.DotationClass]) -> Iterator[CentreShareRow]:
        """Every member's row (the shares of a version in full, for the previous code)."""
        for centre_id in sorted(self.members):
            facts = self.members[centre_id]
            amount = dotations[facts.workstations].amount(str(centre_id))
            yield CentreShareRow(
                centre_id, facts.name, facts.epci_siren, facts.workstations, True, amount, 0
            )


def _uuid(text: str | None) -> uuid.UUID:
    return uuid.UUID(int=0) if text is None else uuid.UUID(text)


def _version(number: int, members: int, changed: int) -> VersionRow:
    return VersionRow(
        year=YEAR,
        version=number,
        computed_at=datetime.now(UTC),
        cause={"kind": "events", "by": None, "event_count": 1, "events": []},
        configuration={},
        financing={},
        envelope_cents=ENVELOPE,
        allocated_cents=ENVELOPE,
        epci_contribution_cents=0,
        member_count=members,
        changed_centres=changed,
    )


def _epcis(territory: Territory) -> list[EpciShareRow]:
    counts = {siren: 0 for siren, _ in EPCIS}
    for facts in territory.members.values():
        counts[facts.epci_siren] += 1
    return [EpciShareRow(siren, name, None, counts[siren], 0, 0) for siren, name in EPCIS]


async def _size(connection: asyncpg.Connection, tables: list[str]) -> int:
    size: int = await connection.fetchval(
        "SELECT sum(pg_total_relation_size(t)) FROM unnest($1::regclass[]) t", tables
    )
    return size


@dataclass(frozen=True)
class Storage:
    versions: int
    members: int
    now_bytes: int
    now_rows: int
    before_bytes_per_version: float
    before_rows: int
    moved_shares: int
    approvals_moving_all: float  # the mean share of the members an approval moves
    read_last_ms: float
    read_middle_ms: float
    before_read_ms: float = 0.0

    @property
    def before_bytes(self) -> float:
        return self.before_bytes_per_version * self.versions


async def _by_change(connection: asyncpg.Connection, seed: str) -> Storage:
    """Every version through the writer of today; figures of what it stored."""
    await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS), MIGRATIONS])
    await connection.execute(
        "INSERT INTO budgets (year, configuration, revision, configured_at)"
        " VALUES ($1, '{}', 1, now())",
        YEAR,
    )
    repository = Repository(connection)
    territory = Territory(random.Random(seed), MEMBERS)
    dotations = territory.split(ENVELOPE)
    first = [replace(row, previous_cents=0) for row in territory.rows(dotations)]
    await repository.add_version(_version(1, len(first), len(first)), first, dotations, [])
    territory.dotations = dotations
    moved_total, middle = 0, VERSIONS // 2
    approvals: list[float] = []
    expected_middle: list[CentreShareRow] = []
    for number in range(2, VERSIONS + 1):
        before = territory.dotations
        previous: dict[uuid.UUID, int] = {}
        kinds = []
        for _ in range(territory.rng.randint(1, 3)):
            kind, centre_id = territory.change()
            kinds.append(kind)
            if centre_id is not None and centre_id not in previous:
                previous[centre_id] = territory.amount(centre_id, before)
        dotations = territory.split(ENVELOPE)
        moved = territory.moved(before, dotations, previous)
        facts = []
        for centre_id, was in sorted(previous.items()):
            member = centre_id in territory.members
            now = territory.members[centre_id] if member else territory.left[centre_id]
            amount = territory.amount(centre_id, dotations)
            row = CentreShareRow(
                centre_id, now.name, now.epci_siren, now.workstations, member, amount, was
            )
            facts.append(row)
        if kinds == ["join"]:
            approvals.append(moved / len(territory.members))
        moved_total += moved
        version = _version(number, len(territory.members), moved)
        await repository.add_version(version, facts, dotations, _epcis(territory))
        territory.dotations = dotations
        if number == middle:
            expected_middle = list(territory.rows(dotations))
    now_bytes = await _size(connection, ["share_facts", "share_classes", "epci_shares"])
    now_rows = await connection.fetchval(
        "SELECT (SELECT count(*) FROM share_facts) + (SELECT count(*) FROM share_classes)"
    )
    started = time.perf_counter()
    last = await repository.centre_shares(YEAR, VERSIONS)
    read_last = time.perf_counter() - started
    started = time.perf_counter()
    read_middle = await repository.centre_shares(YEAR, middle)
    read_middle_s = time.perf_counter() - started
    expected_last = list(territory.rows(territory.dotations))
    if [(r.centre_id, r.amount_cents) for r in last if r.is_member] != [
        (r.centre_id, r.amount_cents) for r in expected_last
    ] or [(r.centre_id, r.amount_cents) for r in read_middle if r.is_member] != [
        (r.centre_id, r.amount_cents) for r in expected_middle
    ]:
        raise AssertionError("a version read back other shares than the model's")
    return Storage(
        versions=VERSIONS,
        members=len(territory.members),
        now_bytes=now_bytes,
        now_rows=now_rows,
        before_bytes_per_version=0,
        before_rows=0,
        moved_shares=moved_total,
        approvals_moving_all=sum(approvals) / max(1, len(approvals)),
        read_last_ms=read_last * 1000,
        read_middle_ms=read_middle_s * 1000,
    )


async def _every_share(connection: asyncpg.Connection, seed: str) -> tuple[float, int, float]:
    """The previous code's storage for a few versions: bytes and rows per version, and the
    time to read the last one's shares (ms)."""
    before = previous.load()
    shared = before.db.MigrationSource("shared", before.db.SHARED_MIGRATIONS)
    await before.db.migrate(connection, [shared, before.migrations])
    await connection.execute(
        "INSERT INTO budgets (year, configuration, revision, configured_at)"
        " VALUES ($1, '{}', 1, now())",
        YEAR,
    )
    repository = before.repository.Repository(connection)
    territory = Territory(random.Random(seed), MEMBERS)
    rows = 0
    for number in range(1, BEFORE_VERSIONS + 1):
        if number > 1:
            territory.change()
        dotations = territory.split(ENVELOPE)
        shares = list(territory.rows(dotations))
        rows += len(shares)
        version = _version(number, len(territory.members), len(shares))
        await repository.add_version(version, shares, _epcis(territory))
    size = await _size(connection, ["centre_shares", "epci_shares"])
    started = time.perf_counter()
    await repository.centre_shares(YEAR, BEFORE_VERSIONS)
    read = time.perf_counter() - started
    return size / BEFORE_VERSIONS, rows // BEFORE_VERSIONS, read * 1000


async def _in_fresh_database(admin_url: str, measure: Any) -> Any:
    from bench.budget import database_pool

    async with database_pool(admin_url) as pool, pool.acquire() as connection:
        return await measure(connection, "crnt budget storage")


async def measure(admin_url: str) -> Storage:
    storage: Storage = await _in_fresh_database(admin_url, _by_change)
    per_version, rows, read = await _in_fresh_database(admin_url, _every_share)
    return replace(
        storage,
        before_bytes_per_version=per_version,
        before_rows=rows * VERSIONS,
        before_read_ms=read,
    )
