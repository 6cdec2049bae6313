"""The agency's calls to a running system, as the benches drive it over HTTP with its token: a
bounded number in flight, transport errors and 5xx retried (counted by reason), anything else
fatal."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from tests.e2e.system import System

ATTEMPTS = 6


class Agency:
    def __init__(self, system: System, client: httpx.AsyncClient, concurrency: int) -> None:
        self.system = system
        self.client = client
        self.concurrency = concurrency
        self.retried: Counter[str] = Counter()
        #: The run's own mark: its addresses end with :attr:`marker`, its names hold it.
        self.run = uuid.uuid4().hex[:6]
        self.marker = f".{self.run}@example.org"

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        """The JSON the service answered (``None`` for an empty answer); ``headers`` are added
        to the agency's."""
        headers = {**self.system.agency, **kwargs.pop("headers", {})}
        for attempt in range(ATTEMPTS):
            try:
                response = await self.client.request(
                    method, self.system.url(service, path), headers=headers, **kwargs
                )
            except httpx.TransportError as error:
                self.retried[type(error).__name__] += 1
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code < 300:
                return response.json() if response.content else None
            if response.status_code < 500:
                raise RuntimeError(
                    f"{method} {path}: {response.status_code} {response.text[:2000]}"
                )
            self.retried[f"HTTP {response.status_code}"] += 1
            await asyncio.sleep(0.2 * 2**attempt)
        raise RuntimeError(f"{method} {path} kept failing")

    async def gather(
        self, jobs: Iterable[Callable[[], Awaitable[Any]]], width: int | None = None
    ) -> list[Any]:
        """Every job's result, ``width`` (the concurrency) of them at a time."""
        gate = asyncio.Semaphore(width or self.concurrency)

        async def one(job: Callable[[], Awaitable[Any]]) -> Any:
            async with gate:
                return await job()

        return list(await asyncio.gather(*(one(job) for job in jobs)))
