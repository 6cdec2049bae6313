"""The agency's commands: configure a year, record a council's vote, close a year. Each
computes the year's new version at once (or says what it waits for) and commits."""

from dataclasses import KW_ONLY, dataclass

from crnt_budget import domain
from crnt_budget.handlers.recalculation import Outcome, recalculate
from crnt_budget.repository import BudgetRepository, BudgetRow, BudgetUnitOfWork, ParticipationRow


@dataclass(frozen=True)
class YearCommand:
    """A command of the agency's about a year, and who gives it (by keyword)."""

    year: int
    _: KW_ONLY
    by: str


async def _open_budget(repository: BudgetRepository, year: int) -> BudgetRow:
    budget = await repository.budget(year, for_update=True)
    if budget is None:
        raise domain.NoBudget(year)
    if budget.closed_at is not None:
        raise domain.YearClosed(year, budget.closed_at)
    return budget


async def _new_version(uow: BudgetUnitOfWork, command: YearCommand, publish_topic: str) -> Outcome:
    """The year's version at once, with the causes waiting for it, committed."""
    absorbed = await uow.repository.take_causes(command.year)
    outcome = await recalculate(
        uow, command.year, absorbed, manual_by=command.by, publish_topic=publish_topic
    )
    await uow.commit()
    return outcome


@dataclass(frozen=True)
class ConfigureBudget(YearCommand):
    config: domain.BudgetConfig


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
    return await _new_version(uow, command, publish_topic)


@dataclass(frozen=True)
class RecordParticipation(YearCommand):
    participation: ParticipationRow


async def record_participation(
    command: RecordParticipation, uow: BudgetUnitOfWork, publish_topic: str
) -> Outcome:
    """An EPCI's council voted its participation: a new version compares it with what is
    asked."""
    repository = uow.repository
    await repository.lock_shares_exclusive()
    await _open_budget(repository, command.year)
    await repository.save_participation(command.year, command.participation)
    return await _new_version(uow, command, publish_topic)


@dataclass(frozen=True)
class CloseYear(YearCommand):
    """Close the year: its last version becomes its account."""


async def close_year(command: CloseYear, uow: BudgetUnitOfWork) -> None:
    """After the closing nothing recalculates the year: its last version is its account."""
    repository = uow.repository
    await repository.lock_shares_exclusive()
    await _open_budget(repository, command.year)
    await repository.close(command.year, command.by)
    await uow.commit()
