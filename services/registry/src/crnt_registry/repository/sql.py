"""The registry's SQL, over one asyncpg connection (the unit of work's); a unique constraint that
refuses a write becomes a :class:`~crnt_shared.errors.Conflict`. One module an aggregate: EPCIs,
centres, applications (with the history), animators (with the erasure)."""

from crnt_registry.repository.animators import AnimatorSql
from crnt_registry.repository.applications import ApplicationSql
from crnt_registry.repository.base import email_hash
from crnt_registry.repository.centres import CentreSql
from crnt_registry.repository.epcis import EpciSql

__all__ = ["Repository", "email_hash"]


class Repository(EpciSql, CentreSql, ApplicationSql, AnimatorSql):
    """The registry's repository (:class:`~crnt_registry.repository.RegistryRepository`)."""
