"""A background task of a service: woken right after the commits that give it work, polling
as a fallback for work written elsewhere, started and stopped with the service.

The outbox relay, the budget's recalculator and the notifications' sender are workers. Their
loop is written once (:meth:`Worker.run`): wait for work, do a round, rest as long as the round
says; a failed round is logged and retried after a backoff that the commits do not cut short
(an outage is not hammered by every wake-up), the count of failures in a row growing it.
"""

import asyncio
import contextlib

import structlog

from crnt_shared.retry import Backoff

log = structlog.get_logger(__name__)


class Worker:
    #: The delay after the n-th failed round in a row; ``None``: no delay of its own (the
    #: worker's :meth:`wait_for_work` is the wait before the next round).
    retry: Backoff | None = Backoff(1.0, 30.0)

    def __init__(self, name: str, *, poll_seconds: float = 1.0) -> None:
        """``poll_seconds``: how long a round that found nothing to do rests, the poll that
        picks up work written elsewhere (by another process) that no commit here woke it for."""
        self.name = name
        self.poll_seconds = poll_seconds
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

    async def run(self) -> None:
        """The loop; it never returns while the service runs."""
        failures = 0
        while True:
            await self.wait_for_work()
            try:
                pause = await self.round()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = 0.0 if self.retry is None else self.retry.delay(failures)
                await self.failed(error, delay)
                await asyncio.sleep(delay)
                continue
            if pause > 0:
                await self.sleep(pause)

    async def wait_for_work(self) -> None:
        """What the worker waits for before each round (nothing: its rest is the wait)."""

    async def round(self) -> float:
        """One round of work; returns how long to rest before the next (woken earlier by a
        commit that gives it work), 0 to go on at once."""
        raise NotImplementedError(f"{type(self).__name__} names no round: override run or round")

    async def failed(self, error: Exception, retry_in: float) -> None:
        """A round failed: what is left is retried by the next one, after ``retry_in``."""
        log.warning(f"{self.name} round failed, retrying", error=repr(error), retry_in=retry_in)
