"""Domain errors: what the rules refuse, in a sentence a person can act on.

Domain, handlers and repositories raise them and know nothing of HTTP; :mod:`crnt_shared.http`
maps each to its problem (RFC 9457), once for every service. ``details`` become members of the
problem (``current_status``, ``centre_id``, ``errors``).
"""

from typing import Any


class DomainError(Exception):
    """What a command cannot do; its message is the problem's ``detail``, a whole sentence."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details

    @property
    def detail(self) -> str:
        """The sentence a person reads (the problem's ``detail``)."""
        return str(self)


def sentence(message: str) -> str:
    """``message`` as a sentence: a capital first, a full stop last."""
    return f"{message[:1].upper()}{message[1:]}."


class RuleViolation(DomainError):
    """A command that the current state does not allow (HTTP 409 Conflict). Its message has no
    final full stop: its detail adds one."""

    @property
    def detail(self) -> str:
        return f"{self}."


class NotFound(DomainError):
    """What the command names does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The command clashes with what exists already, e.g. a unique fact (HTTP 409)."""


class Forbidden(DomainError):
    """The person may not do this (HTTP 403)."""


class Invalid(DomainError):
    """The command's input breaks a rule of its form (HTTP 422); ``errors`` may list the
    fields, ``[{"field": ..., "message": ...}]``."""
