"""The programme's HTTP API under ``/api/v1``: thin adapters from requests to handlers, one
router per resource.

Writes need the agency (a person or its service account), except: the validation, which needs
the steering committee (a COPIL member or its service account); and an animator of a member
centre, who proposes actions their centre leads, has their centre take part in an action, and
reports the progress of the actions their centre leads. Every write records who made it. The
programme, its actions, versions and report are public-sector data: open reads.
Amounts are euros as decimal strings (``"1234.56"``), in and out.
"""

from crnt_programme.api import actions, centres, programmes

#: In the order they answer: a path of one is never shadowed by another's.
ROUTERS = (actions.router, programmes.router, centres.router)

__all__ = ["ROUTERS"]
