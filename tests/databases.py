"""Databases of a test's or a bench's own on the stack's PostgreSQL: created empty, dropped
after (even while connections remain), whatever happened in between."""

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import asyncpg


async def _each(admin_url: str, statement: str, names: Iterable[str]) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        for name in names:
            await admin.execute(statement.format(name=name))
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_databases(admin_url: str, names: Iterable[str]) -> AsyncIterator[dict[str, str]]:
    """The databases ``names`` on the server of ``admin_url``: their URLs by name."""
    names = list(names)
    await _each(admin_url, 'CREATE DATABASE "{name}"', names)
    base = admin_url.rpartition("/")[0]
    try:
        yield {name: f"{base}/{name}" for name in names}
    finally:
        await _each(admin_url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', names)


@asynccontextmanager
async def fresh_database(admin_url: str, prefix: str = "test") -> AsyncIterator[str]:
    """One database named ``<prefix>_<random>``: its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    async with fresh_databases(admin_url, [name]) as urls:
        yield urls[name]
