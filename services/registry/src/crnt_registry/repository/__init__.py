"""The registry's repository: its records, what the handlers need of it (the protocol their
fakes implement too) and the SQL that does it."""

from crnt_registry.repository.protocol import RegistryRepository
from crnt_registry.repository.records import (
    Animator,
    Application,
    Centre,
    Decision,
    Epci,
    HistoryEntry,
    NewCentre,
    Page,
    Transition,
)
from crnt_registry.repository.sql import Repository, email_hash

__all__ = [
    "Animator",
    "Application",
    "Centre",
    "Decision",
    "Epci",
    "HistoryEntry",
    "NewCentre",
    "Page",
    "RegistryRepository",
    "Repository",
    "Transition",
    "email_hash",
]
