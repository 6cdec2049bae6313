"""The foundation's tests: a database with the shared migrations, and the tables of the
test contracts' effects (a module adds its own with the ``schema`` fixture)."""

from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from crnt_shared.db import SHARED_MIGRATIONS, MigrationSource, create_pool, migrate

from tests.foundation.contracts import EFFECTS_SQL


@pytest.fixture
def schema() -> Sequence[str]:
    """SQL run once the shared migrations are applied."""
    return (EFFECTS_SQL,)


@pytest.fixture
async def pool(database_url: str, schema: Sequence[str]) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    async with pool.acquire() as connection:
        await migrate(connection, [MigrationSource("shared", SHARED_MIGRATIONS)])
        for statement in schema:
            await connection.execute(statement)
    yield pool
    await pool.close()
