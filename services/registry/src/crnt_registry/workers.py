"""The registry's background task: the expirer.

Every ``poll`` seconds it expires the anonymous applications that no address confirmed in time
(in batches, each batch one transaction: states, history and events together; replicas skip
each other's locked rows) and purges the rate limits whose window ended. Started and stopped
with the service, like the other services' workers.
"""

import structlog
from crnt_shared.events import utcnow
from crnt_shared.ratelimit import RateLimiter
from crnt_shared.retry import Backoff
from crnt_shared.runtime import ServiceRuntime
from crnt_shared.worker import Worker

from crnt_registry.commands import ConfirmationPolicy, ExpireApplications
from crnt_registry.handlers import expire_applications

log = structlog.get_logger(__name__)

BATCH = 100


class ApplicationExpirer(Worker):
    def __init__(
        self, runtime: ServiceRuntime, *, policy: ConfirmationPolicy, poll_seconds: float
    ) -> None:
        self._runtime = runtime
        self._policy = policy
        self.retry = Backoff(1.0, poll_seconds)
        super().__init__("registry-expirer", poll_seconds=poll_seconds)

    async def expire_due(self) -> int:
        """Expire every application due now; returns how many."""
        total = 0
        while True:
            command = ExpireApplications(utcnow(), self._policy, BATCH)
            async with self._runtime.unit_of_work() as uow:
                done = await expire_applications(command, uow)
            total += done
            if done < BATCH:
                break
        if total:
            log.info("unconfirmed applications expired", count=total)
        await RateLimiter(self._runtime.pool).purge()
        return total

    async def round(self) -> float:
        await self.expire_due()
        return self.poll_seconds

    async def failed(self, error: Exception, retry_in: float) -> None:
        # Nothing expired is lost: the next round retries.
        log.exception("expiry failed", error=repr(error), retry_in=retry_in)
