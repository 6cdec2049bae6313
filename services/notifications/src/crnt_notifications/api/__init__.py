"""The notifications service's HTTP API under ``/api/v1``: thin adapters.

Deliveries show personal data: the agency only. Preferences: the agency, or the person whose
address it is (a signed-in animator or COPIL member sets their own). The unsubscribe and
confirmation endpoints need no token: their signed link is the proof. Their GET only shows a
page that asks to confirm (a mail scanner that opens links changes nothing); the POST acts.

One router per resource: :mod:`~crnt_notifications.api.deliveries`,
:mod:`~crnt_notifications.api.preferences` (with unsubscribe links) and
:mod:`~crnt_notifications.api.confirmations`.
"""

# Imported for the routes they add (their paths do not overlap: the order does not matter).
from crnt_notifications.api import confirmations, deliveries, preferences  # noqa: F401
from crnt_notifications.api.common import router

ROUTERS = (router,)


__all__ = ["ROUTERS"]
