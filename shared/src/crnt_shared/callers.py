"""Who may call a route, once for every service: ``dependencies=[AGENCY]`` on a route that only
checks, ``actor: Agency`` (or ``AgencyOrAnimator``, ``Copil``) on one that also needs to know
who calls. An animator's centre is the route's to check (its path names it)."""

from typing import Annotated

from crnt_shared.auth import Actor, Role, require

AGENCY = require(Role.AGENCY)
COPIL = require(Role.COPIL)
AGENCY_OR_ANIMATOR = require(Role.AGENCY, Role.ANIMATOR)

#: The agency's staff or service account.
Agency = Annotated[Actor, AGENCY]
#: A member of the steering committee, or its service account.
Copil = Annotated[Actor, COPIL]
#: The agency, or an animator (of a centre the route checks).
AgencyOrAnimator = Annotated[Actor, AGENCY_OR_ANIMATOR]
