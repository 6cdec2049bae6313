"""Whether a transaction wrote mail that is due now, so that its commit wakes the sender.

The repository raises the flag when it writes such mail (a pending delivery, a delivery sent
again, a notice whose window is closed already); the runtime's commit hook takes it down and
wakes the sender only then, right after the commit: the many commits that write no mail (the
read model, share changes waiting in a notice) cost the sender nothing.

The flag is the writing task's own (a context variable): a request or a consumer writes and
commits in one task, so the commit that reads it is the one of the transaction that raised it.
A transaction rolled back leaves it raised: the task's next commit wakes the sender for
nothing, one query. Other processes' mail is found by the sender's poll.
"""

from contextvars import ContextVar

_due_mail_written: ContextVar[bool] = ContextVar("crnt_notifications_due_mail", default=False)


def due_mail_written() -> None:
    """This task's transaction wrote mail to send now."""
    _due_mail_written.set(True)


def take_due_mail() -> bool:
    """Whether this task's transaction wrote mail to send now; the flag is down afterwards."""
    if not _due_mail_written.get():
        return False
    _due_mail_written.set(False)
    return True
