"""Identity's background task: keeps a signing key, rotates and retires keys on time, and
purges the rate-limit counters whose window ended; and what identity prepares before it serves:
a signing key announced, the first people of each role."""

from datetime import timedelta

import structlog
from crnt_shared.auth import Role
from crnt_shared.ratelimit import RateLimiter
from crnt_shared.runtime import ServiceRuntime
from crnt_shared.worker import Worker

from crnt_identity import handlers
from crnt_identity.repository import IdentityRepository
from crnt_identity.settings import IdentitySettings

log = structlog.get_logger(__name__)


def key_policy(settings: IdentitySettings, *, announce_all: bool) -> handlers.MaintainKeys:
    return handlers.MaintainKeys(
        passphrase=settings.key_passphrase.get_secret_value(),
        rotation=timedelta(days=settings.key_rotation_days),
        announce_ahead=timedelta(seconds=settings.key_announce_seconds),
        token_seconds=settings.access_token_seconds,
        announce_all=announce_all,
    )


async def prepare(runtime: ServiceRuntime[IdentityRepository], settings: IdentitySettings) -> None:
    """Before identity serves: a key that signs (every key announced again), and the people of
    ``CRNT_AGENCY_EMAILS`` and ``CRNT_COPIL_EMAILS`` with their roles."""
    async with runtime.unit_of_work() as uow:
        await handlers.maintain_keys(key_policy(settings, announce_all=True), uow)
    seeds: dict[str, frozenset[Role]] = {}
    for role, emails in (
        (Role.AGENCY, settings.agency_emails),
        (Role.COPIL, settings.copil_emails),
    ):
        for email in emails:
            seeds[email] = seeds.get(email, frozenset()) | {role}
    async with runtime.unit_of_work() as uow:
        await handlers.seed_people(handlers.SeedPeople(seeds), uow)


class KeyKeeper(Worker):
    #: A failed round is retried after the next check's wait.
    retry = None

    def __init__(
        self, runtime: ServiceRuntime[IdentityRepository], settings: IdentitySettings
    ) -> None:
        super().__init__("identity-keys")
        self._runtime = runtime
        self._settings = settings

    async def wait_for_work(self) -> None:
        await self.sleep(self._settings.key_check_seconds)

    async def round(self) -> float:
        async with self._runtime.unit_of_work() as uow:
            await handlers.maintain_keys(key_policy(self._settings, announce_all=False), uow)
        await RateLimiter(self._runtime.pool).purge()
        return 0.0

    async def failed(self, error: Exception, retry_in: float) -> None:
        log.warning("signing keys not maintained, retrying", error=repr(error))
