"""The registry's use cases: one function per command of :mod:`crnt_registry.commands`, each in
one unit of work (:data:`~crnt_registry.handlers.common.RegistryUnitOfWork`) that writes the state
change and the events describing it, or nothing at all. By area: EPCIs, applications and
membership, centres, animators; many at once (``bulk``); erasure (RGPD). What they share is in
``common`` (loading, refusing, publishing), what their events carry in ``facts``."""

from crnt_registry.handlers.animators import add_animator, remove_animator, update_animator
from crnt_registry.handlers.applications import (
    change_membership,
    confirm_address,
    decide_application,
    expire_applications,
    submit_and_commit,
    submit_application,
)
from crnt_registry.handlers.bulk import add_animators, approve_applications, import_centres
from crnt_registry.handlers.centres import update_centre
from crnt_registry.handlers.common import SOURCE, RegistryUnitOfWork
from crnt_registry.handlers.epcis import register_epci, update_epci
from crnt_registry.handlers.erasure import erase_animator
from crnt_registry.handlers.facts import animator_facts, centre_facts

__all__ = [
    "SOURCE",
    "RegistryUnitOfWork",
    "add_animator",
    "add_animators",
    "animator_facts",
    "approve_applications",
    "centre_facts",
    "change_membership",
    "confirm_address",
    "decide_application",
    "erase_animator",
    "expire_applications",
    "import_centres",
    "register_epci",
    "remove_animator",
    "submit_and_commit",
    "submit_application",
    "update_animator",
    "update_centre",
    "update_epci",
]
