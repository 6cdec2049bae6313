"""The registry's HTTP API under ``/api/v1``: thin adapters from requests to handlers, one
router per resource.

Writes need the agency's token, except ``POST /applications`` (a centre asks to join; without a
token it is rate-limited per client and its addresses must confirm). Reads of centres' and
EPCIs' public facts are open; animators (personal data) and applications need the agency's
token.
"""

from crnt_registry.api import animators, applications, centres, epcis, membership
from crnt_registry.api.applications import ApplicationStatus

#: In the order they answer: a path of one is never shadowed by another's.
ROUTERS = (epcis.router, applications.router, centres.router, membership.router, animators.router)

__all__ = ["ROUTERS", "ApplicationStatus"]
