"""The agency's commands: configure a year, record a council's vote, close a year. Each
computes the year's new version at once (or says what it waits for) and commits."""

from dataclasses import dataclass

from crnt_budget import domain
from crnt_budget.handlers.recalculation import Outcome, recalculate
from crnt_budget.repository import BudgetRepository, BudgetRow, BudgetUnitOfWork, ParticipationRow


async def _open_budget(repository: BudgetRepository, year: int) -> BudgetRow:
    """The year's budget, locked with the shares, unless there is none or it is closed."""
    await repository.lock_shares_exclusive()
    budget = await repository.budget(year, for_update=True)
    if budget is None:
        raise domain.NoBudget(year)
    if budget.closed_at is not None:
        raise domain.YearClosed(year, budget.closed_at)
    return budget


async def _new_version(uow: BudgetUnitOfWork, year: int, by: str, publish_topic: str) -> Outcome:
    """The year's version at once, with the causes waiting for it, committed."""
    absorbed = await uow.repository.take_causes(year)
    outcome = await recalculate(uow, year, absorbed, manual_by=by, publish_topic=publish_topic)
    await uow.commit()
    return outcome


@dataclass(frozen=True)
class ConfigureBudget:
    year: int
    config: domain.BudgetConfig
    by: str


async def configure_budget(
    command: ConfigureBudget, uow: BudgetUnitOfWork, publish_topic: str
) -> Outcome:
    """Create or revise a year's budget and compute its version at once (or say what it waits
    for)."""
    repository = uow.repository
    await repository.lock_shares_exclusive()
    budget = await repository.budget(command.year, for_update=True)
    if budget is not None and budget.closed_at is not None:
        raise domain.YearClosed(command.year, budget.closed_at)
    await repository.save_budget(command.year, domain.config_to_json(command.config))
    return await _new_version(uow, command.year, command.by, publish_topic)


@dataclass(frozen=True)
class RecordParticipation:
    year: int
    participation: ParticipationRow
    by: str


async def record_participation(
    command: RecordParticipation, uow: BudgetUnitOfWork, publish_topic: str
) -> Outcome:
    """An EPCI's council voted its participation: a new version compares it with what is
    asked."""
    await _open_budget(uow.repository, command.year)
    await uow.repository.save_participation(command.year, command.participation)
    return await _new_version(uow, command.year, command.by, publish_topic)


@dataclass(frozen=True)
class CloseYear:
    year: int
    by: str


async def close_year(command: CloseYear, uow: BudgetUnitOfWork) -> None:
    """After the closing nothing recalculates the year: its last version is its account."""
    await _open_budget(uow.repository, command.year)
    await uow.repository.close(command.year, command.by)
    await uow.commit()
