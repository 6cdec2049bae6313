"""Whether a transaction wrote mail that is due now, so that its commit wakes the sender.

The repository raises a flag when it writes such mail (``MAIL``: a pending delivery, a
delivery sent again; ``NOTICE``: a notice whose window is closed already, to seal); the
runtime's commit hook takes the flags down and wakes the sender only then, right after the
commit: the many commits that write no mail (the read model, share changes waiting in a
notice) cost the sender nothing.

The flags are the writing task's own (a context variable): a request or a consumer writes and
commits in one task, so the commit that reads them is the one of the transaction that raised
them. A transaction rolled back leaves them raised: the task's next commit wakes the sender
for nothing, one query. Other processes' mail is found by the sender's poll.
"""

from contextvars import ContextVar
from enum import IntFlag


class Due(IntFlag):
    NOTHING = 0
    MAIL = 1
    NOTICE = 2


_written: ContextVar[Due] = ContextVar("crnt_notifications_due", default=Due.NOTHING)


def due_written(due: Due) -> None:
    """This task's transaction wrote ``due``, to send (or seal) now."""
    _written.set(_written.get() | due)


def take_due() -> Due:
    """What this task's transaction wrote to send or seal now; the flags are down afterwards."""
    due = _written.get()
    if due:
        _written.set(Due.NOTHING)
    return due
