"""Domain errors: what the rules refuse, in a sentence a person can act on.

Domain and handlers raise them and know nothing of HTTP; :mod:`crnt_shared.http` maps each to
its problem (RFC 9457), once for every service.
"""


class RuleViolation(Exception):
    """A command that the current state does not allow (HTTP 409 Conflict). The message is the
    problem's ``detail`` (a full stop is added); ``details`` become members of the problem, e.g.
    ``current_status``."""

    def __init__(self, message: str, **details: str) -> None:
        super().__init__(message)
        self.details = details
