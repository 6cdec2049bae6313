"""The budget's background work: the recalculator, one task per service process that turns
dirty years into new versions.

Woken in-process by the event handlers (before their commit: the exclusive lock it takes waits
for their transactions), it waits for a short quiet time (``debounce``) so that a burst of
events is absorbed by one computation, but never longer than ``max_delay`` during a steady
stream; it also polls, for causes left by another replica or by a failure. Each dirty year is
recalculated in its own transaction: version, shares and outbox rows together.

A version publishes its dotations by class (a handful of events whatever the number of
members), but an arrival moves every member's share, and a consumer that tells each centre its
share (notifications) writes a notice item per share that moved: at 5,000 members, a version
every 5 s is 1,000 rows a second for it to write, whatever the rate of approvals. So the
recalculator keeps a pace: after a version that changed N shares it waits
N / ``share_events_per_second`` before the next one (the causes that arrive meanwhile go into
it together). A network of tens of centres never notices; at 20,000 members, versions come
every 80 s.
"""

import asyncio
import contextlib

import structlog
from crnt_shared.retry import Backoff
from crnt_shared.runtime import ServiceRuntime
from crnt_shared.worker import Worker

from crnt_budget.handlers import recalculate_dirty_year
from crnt_budget.repository import BudgetRepository
from crnt_budget.settings import BudgetSettings

log = structlog.get_logger(__name__)


class Recalculator(Worker):
    #: The causes of a failed round stay pending: retried at the next round, after this.
    retry = Backoff(0.4, 30.0)

    def __init__(self, runtime: ServiceRuntime[BudgetRepository], settings: BudgetSettings) -> None:
        super().__init__("budget-recalculator")
        self._runtime = runtime
        self._settings = settings
        self.runs = 0
        #: How long the next round waits after the last one, to keep the pace of share events.
        self.pause_seconds = 0.0

    async def run_pending(self) -> int:
        """Recalculate each year dirty now, once; returns how many were recalculated.

        Once, not until none is left: causes that arrive meanwhile wake the recalculator again
        and wait for their own quiet time, else a steady stream would be computed one event
        at a time (each computation holds the handlers back while it runs).
        """
        years = await self._runtime.read(lambda repository: repository.dirty_years())
        done, changed = 0, 0
        for year in years:
            async with self._runtime.unit_of_work() as uow:
                outcome = await recalculate_dirty_year(uow, year, self._settings.publish_topic)
                if outcome is None:
                    continue
                await uow.commit()
            done += 1
            self.runs += 1
            changed += outcome.changed_centres
            log.info("shares recalculated", year=year, changed_centres=outcome.changed_centres)
        self.pause_seconds = changed / self._settings.recalculation_share_events_per_second
        return done

    async def wait_for_work(self) -> None:
        """Until woken then quiet for ``debounce`` (at most ``max_delay``), or ``poll``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._wake.wait(), timeout=self._settings.recalculation_poll_seconds
            )
        if not self._wake.is_set():
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.recalculation_max_delay_seconds
        while True:
            self._wake.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(
                    self._wake.wait(),
                    timeout=min(self._settings.recalculation_debounce_seconds, remaining),
                )
            except TimeoutError:
                return

    async def round(self) -> float:
        """The years dirty now, then the pace: a wake-up does not cut the pause short."""
        await self.run_pending()
        if self.pause_seconds > 0:
            await asyncio.sleep(self.pause_seconds)
        return 0.0

    async def failed(self, error: Exception, retry_in: float) -> None:
        log.exception("recalculation failed", error=repr(error), retry_in=retry_in)
