"""A background task of a service: woken right after the commits that give it work, polling
as a fallback for work written elsewhere, started and stopped with the service.

The outbox relay, the budget's recalculator and the notifications' sender are workers.
"""

import asyncio
import contextlib
from abc import ABC, abstractmethod


class Worker(ABC):
    def __init__(self, name: str) -> None:
        self.name = name
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """There is work now (called after a commit that wrote some)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end; cancel again if a library turned the
        cancellation into an error that the loop retried."""
        task, self._task = self._task, None
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()

    async def sleep(self, seconds: float) -> None:
        """Wait until woken or ``seconds`` have passed, whichever comes first.

        A wake-up that came while the worker was busy ends the wait at once: work committed
        during a cycle is never left for the next poll.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    @abstractmethod
    async def run(self) -> None:
        """The loop; it never returns while the service runs."""
