"""The registry's use cases: one function per command, each in one unit of work
(:data:`~crnt_registry.handlers.common.RegistryUnitOfWork`) that writes the state change and the
one event describing it, or nothing at all. By area: EPCIs, applications and membership,
centres, animators."""

from crnt_registry.handlers.animators import (
    AddAnimator,
    RemoveAnimator,
    UpdateAnimator,
    add_animator,
    remove_animator,
    update_animator,
)
from crnt_registry.handlers.applications import (
    ChangeMembership,
    ConfirmationPolicy,
    DecideApplication,
    ExpireApplications,
    SubmitApplication,
    Submitted,
    change_membership,
    confirm_address,
    decide_application,
    expire_applications,
    submit_and_commit,
    submit_application,
)
from crnt_registry.handlers.centres import UpdateCentre, update_centre
from crnt_registry.handlers.common import (
    SOURCE,
    RegistryUnitOfWork,
    animator_facts,
    centre_facts,
    invalid,
)
from crnt_registry.handlers.epcis import RegisterEpci, UpdateEpci, register_epci, update_epci

__all__ = [
    "SOURCE",
    "AddAnimator",
    "ChangeMembership",
    "ConfirmationPolicy",
    "DecideApplication",
    "ExpireApplications",
    "RegisterEpci",
    "RegistryUnitOfWork",
    "RemoveAnimator",
    "SubmitApplication",
    "Submitted",
    "UpdateAnimator",
    "UpdateCentre",
    "UpdateEpci",
    "add_animator",
    "animator_facts",
    "centre_facts",
    "change_membership",
    "confirm_address",
    "decide_application",
    "expire_applications",
    "invalid",
    "register_epci",
    "remove_animator",
    "submit_and_commit",
    "submit_application",
    "update_animator",
    "update_centre",
    "update_epci",
]
