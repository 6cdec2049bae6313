"""The unit of work's repository (built once from its connection, by the service's factory) and
the fake one of the handlers' unit tests, without a database (a pool that hands out stubs)."""

from typing import Any

import asyncpg
import pytest
from crnt_shared.contracts.registry import EpciData, EpciRegistered
from crnt_shared.db import UnitOfWork, unique_or_conflict
from crnt_shared.errors import Conflict
from crnt_shared.fakes import FakeUnitOfWork


class _Transaction:
    async def start(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class _Connection:
    def transaction(self) -> _Transaction:
        return _Transaction()


class _Pool:
    def __init__(self) -> None:
        self.released: list[_Connection] = []

    async def acquire(self) -> _Connection:
        return _Connection()

    async def release(self, connection: _Connection) -> None:
        self.released.append(connection)


class _Repository:
    def __init__(self, connection: Any) -> None:
        self.connection = connection


def _event() -> EpciRegistered:
    data = EpciData(
        siren="246201016", name="CC du Pays de Lumbres", population=24187, communes=["62534"]
    )
    return EpciRegistered.create(source="/crnt/registry", subject=data.siren, data=data)


async def test_the_repository_is_the_services_over_the_transactions_connection() -> None:
    pool = _Pool()
    built: list[_Repository] = []

    def factory(connection: Any) -> _Repository:
        built.append(_Repository(connection))
        return built[-1]

    uow = UnitOfWork(pool, repository_factory=factory)
    async with uow:
        assert uow.repository is uow.repository, "built once"
        assert uow.repository.connection is uow.connection
        await uow.commit()
    assert len(built) == 1
    assert pool.released == [built[0].connection]
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.repository


async def test_a_unit_of_work_without_a_factory_says_so() -> None:
    uow: UnitOfWork = UnitOfWork(_Pool())
    async with uow:
        assert uow.connection is not None, "the services that have not moved keep it"
        with pytest.raises(RuntimeError, match="no repository"):
            _ = uow.repository


def test_a_unique_violation_becomes_a_conflict() -> None:
    translating = unique_or_conflict("The pivot was taken meanwhile.", centre_id="7")
    with pytest.raises(Conflict, match="taken meanwhile") as raised, translating:
        raise asyncpg.UniqueViolationError("duplicate key")
    assert raised.value.details == {"centre_id": "7"}
    assert isinstance(raised.value.__cause__, asyncpg.UniqueViolationError)


async def test_the_fake_records_what_was_published_and_committed() -> None:
    async with FakeUnitOfWork(repository={"centres": 0}) as uow:
        assert uow.untouched
        await uow.publish(_event())
        await uow.publish_many([_event(), _event()], topic="elsewhere")
    assert [item.topic for item in uow.published] == [None, "elsewhere", "elsewhere"]
    assert uow.rolled_back, "left without a commit"
    assert not uow.untouched

    async with FakeUnitOfWork(repository=None) as committed:
        await committed.commit()
    assert committed.commits == 1
    assert not committed.rolled_back
