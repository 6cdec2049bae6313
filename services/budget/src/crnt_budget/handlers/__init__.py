"""The budget's use cases, one room each:

- :mod:`~crnt_budget.handlers.reactions`: the registry's and the programme's events update the
  read models and record a pending cause of each open year;
- :mod:`~crnt_budget.handlers.commands`: the agency configures a year, records a vote, closes it;
- :mod:`~crnt_budget.handlers.recalculation`: a dirty year becomes a new version (the recalculator,
  :mod:`crnt_budget.workers`, computes each dirty year once for all its pending causes: a
  burst of hundreds of approvals gives one recalculation, not hundreds);
- :mod:`~crnt_budget.handlers.events`: what a new version publishes.
"""

from crnt_budget.handlers.commands import (
    CloseYear,
    ConfigureBudget,
    RecordParticipation,
    close_year,
    configure_budget,
    record_participation,
)
from crnt_budget.handlers.events import SOURCE, newly_exceeded, version_events
from crnt_budget.handlers.reactions import (
    JOINS,
    on_action_changed,
    on_centres_changed,
    on_epci_changed,
    on_programme_validated,
)
from crnt_budget.handlers.recalculation import Members, Outcome, recalculate, recalculate_dirty_year

__all__ = [
    "JOINS",
    "SOURCE",
    "CloseYear",
    "ConfigureBudget",
    "Members",
    "Outcome",
    "RecordParticipation",
    "close_year",
    "configure_budget",
    "newly_exceeded",
    "on_action_changed",
    "on_centres_changed",
    "on_epci_changed",
    "on_programme_validated",
    "recalculate",
    "recalculate_dirty_year",
    "record_participation",
    "version_events",
]
