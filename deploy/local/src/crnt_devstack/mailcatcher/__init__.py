"""In-memory mail catcher: an SMTP sink plus the subset of Mailpit's HTTP API that tests use.

Docker users get Mailpit; machines without Docker run this instead.  Paths and JSON field names
follow Mailpit's API v1 (``/api/v1/messages``, ``/api/v1/message/{ID}``, ``.../headers``,
``.../raw``, ``/api/v1/search``, ``DELETE /api/v1/messages``, ``/livez``) so the same test code
works against both.  ``{ID}`` may be ``latest``.  SMTP accepts every message and any AUTH
PLAIN/LOGIN credentials; STARTTLS is not offered.  Messages are kept in memory only.

People read the mails in a browser: ``/`` lists them (``?q=`` searches like the API),
``/view/{ID}`` shows one with its links clickable, and ``/view/{ID}.html`` its HTML part, shown
in a sandboxed frame (no script, nothing fetched elsewhere).

One room each: the parsed message (:mod:`~crnt_devstack.mailcatcher.message`), the store
(:mod:`~crnt_devstack.mailcatcher.store`), the SMTP sink (:mod:`~crnt_devstack.mailcatcher.smtp`),
the HTTP API and pages (:mod:`~crnt_devstack.mailcatcher.api`,
:mod:`~crnt_devstack.mailcatcher.pages`), the whole (:mod:`~crnt_devstack.mailcatcher.catcher`)
and its command (:mod:`~crnt_devstack.mailcatcher.cli`).
"""

from crnt_devstack.mailcatcher.catcher import MailCatcher
from crnt_devstack.mailcatcher.cli import main
from crnt_devstack.mailcatcher.message import CaughtMessage

__all__ = ["CaughtMessage", "MailCatcher", "main"]
