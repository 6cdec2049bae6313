"""Identity's repository: its records, what the handlers need of it (the protocol their fakes
implement too) and the SQL that does it."""

from crnt_identity.repository.protocol import IdentityRepository
from crnt_identity.repository.records import Session, SigningKey
from crnt_identity.repository.sql import Repository

__all__ = ["IdentityRepository", "Repository", "Session", "SigningKey"]
