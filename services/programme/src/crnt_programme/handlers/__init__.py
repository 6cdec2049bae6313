"""The programme's use cases: one function per command or event, each in one unit of work
(:data:`~crnt_programme.handlers.common.ProgrammeUnitOfWork`) that writes the state change and the
events describing it, or nothing at all. By area: actions, the programme, membership,
erasure (RGPD). Their commands are in :mod:`crnt_programme.commands`; what they share is in
``common`` (loading, refusing, publishing), what their events carry in ``facts``.

Locks are always taken in the same order, the programme's row before its actions' rows, so
that two requests on one year never deadlock.
"""

from crnt_programme.handlers.actions import (
    EDITABLE_FIELDS,
    change_action_status,
    edit_action,
    propose_action,
    report_action_progress,
)
from crnt_programme.handlers.common import SOURCE, ProgrammeUnitOfWork
from crnt_programme.handlers.erasure import on_person_erased
from crnt_programme.handlers.facts import action_facts
from crnt_programme.handlers.membership import on_centre_known, on_membership_changed
from crnt_programme.handlers.programme import amend_programme, submit_programme, validate_programme

__all__ = [
    "EDITABLE_FIELDS",
    "SOURCE",
    "ProgrammeUnitOfWork",
    "action_facts",
    "amend_programme",
    "change_action_status",
    "edit_action",
    "on_centre_known",
    "on_membership_changed",
    "on_person_erased",
    "propose_action",
    "report_action_progress",
    "submit_programme",
    "validate_programme",
]
