"""The worker loop every background task of a service runs (no I/O): rounds, rests cut short
by a wake-up, failed rounds retried after a backoff that wake-ups do not cut short."""

import asyncio

from crnt_shared.retry import Backoff
from crnt_shared.worker import Worker


class Scripted(Worker):
    """Fails its first ``failures`` rounds, then rests ``pause`` after each round."""

    def __init__(self, failures: int, pause: float, retry: Backoff | None) -> None:
        super().__init__("scripted")
        self.retry = retry
        self._failures = failures
        self._pause = pause
        self.rounds = 0
        self.failed_with: list[float] = []
        self.round_done = asyncio.Event()

    async def round(self) -> float:
        self.rounds += 1
        if self.rounds <= self._failures:
            raise RuntimeError(f"round {self.rounds} failed")
        self.round_done.set()
        return self._pause

    async def failed(self, error: Exception, retry_in: float) -> None:
        self.failed_with.append(retry_in)


async def test_failed_rounds_are_retried_after_a_growing_backoff() -> None:
    worker = Scripted(failures=3, pause=60.0, retry=Backoff(0.01, 0.04))
    worker.start()
    await asyncio.wait_for(worker.round_done.wait(), timeout=2)
    await worker.stop()
    assert worker.rounds == 4
    assert len(worker.failed_with) == 3
    ceilings = [0.01, 0.02, 0.04]
    assert all(c / 2 <= d <= c for d, c in zip(worker.failed_with, ceilings, strict=True))


async def test_a_wake_up_ends_the_rest_after_a_round() -> None:
    worker = Scripted(failures=0, pause=60.0, retry=None)
    worker.start()
    await asyncio.wait_for(worker.round_done.wait(), timeout=2)
    worker.round_done.clear()
    worker.wake()
    await asyncio.wait_for(worker.round_done.wait(), timeout=2)
    await worker.stop()
    assert worker.rounds >= 2  # the wake-up stays: its work is done in the round after


async def test_a_wake_up_does_not_cut_the_backoff_short() -> None:
    worker = Scripted(failures=1, pause=60.0, retry=Backoff(0.4, 0.4))
    worker.start()
    await asyncio.sleep(0.05)
    worker.wake()
    await asyncio.sleep(0.05)
    assert worker.rounds == 1, "still waiting out the backoff of the failed round"
    await asyncio.wait_for(worker.round_done.wait(), timeout=2)
    await worker.stop()
    assert worker.rounds >= 2  # the wake-up stays: its work is done in the round after
