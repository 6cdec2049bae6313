"""SQL over asyncpg, one room each: the read models of the registry and of the validated
programme (:mod:`~crnt_budget.repository.read_models`), the budgets and their pending causes
(:mod:`~crnt_budget.repository.budgets`), and their versions
(:mod:`~crnt_budget.repository.versions`); :class:`Repository` is all three over one connection
(the unit of work's), and does what the handlers need of it
(:class:`~crnt_budget.repository.protocol.BudgetRepository`, which their fakes do too)."""

from crnt_shared.db import Connection

from crnt_budget.repository.budgets import SHARES_LOCK, Budgets
from crnt_budget.repository.protocol import BudgetRepository, BudgetUnitOfWork
from crnt_budget.repository.read_models import ReadModels
from crnt_budget.repository.rows import (
    ActionRow,
    BudgetRow,
    CauseRow,
    CentreRow,
    CentreShareRow,
    Envelope,
    EpciRow,
    EpciShareRow,
    MemberClassRow,
    ParticipationRow,
    ProgrammeRow,
    ShareChange,
    StagedChanges,
    Staging,
    VersionRow,
)
from crnt_budget.repository.versions import Versions


class Repository(ReadModels, Budgets, Versions):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection


__all__ = [
    "SHARES_LOCK",
    "ActionRow",
    "BudgetRepository",
    "BudgetRow",
    "BudgetUnitOfWork",
    "CauseRow",
    "CentreRow",
    "CentreShareRow",
    "Envelope",
    "EpciRow",
    "EpciShareRow",
    "MemberClassRow",
    "ParticipationRow",
    "ProgrammeRow",
    "Repository",
    "ShareChange",
    "StagedChanges",
    "Staging",
    "VersionRow",
]
