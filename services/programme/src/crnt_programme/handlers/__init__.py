"""The programme's use cases: one function per command or event, each in one unit of work
(:data:`~crnt_programme.handlers.common.ProgrammeUnitOfWork`) that writes the state change and the
events describing it, or nothing at all. By area: actions, the programme, membership.

Locks are always taken in the same order, the programme's row before its actions' rows, so
that two requests on one year never deadlock.
"""

from crnt_programme.handlers.actions import (
    EDITABLE_FIELDS,
    ChangeActionStatus,
    EditAction,
    ProposeAction,
    ReportProgress,
    change_action_status,
    edit_action,
    propose_action,
    report_action_progress,
)
from crnt_programme.handlers.common import SOURCE, ProgrammeUnitOfWork, action_facts
from crnt_programme.handlers.membership import on_centre_known, on_membership_changed
from crnt_programme.handlers.programme import (
    AmendProgramme,
    SubmitProgramme,
    ValidateProgramme,
    amend_programme,
    submit_programme,
    validate_programme,
)

__all__ = [
    "EDITABLE_FIELDS",
    "SOURCE",
    "AmendProgramme",
    "ChangeActionStatus",
    "EditAction",
    "ProgrammeUnitOfWork",
    "ProposeAction",
    "ReportProgress",
    "SubmitProgramme",
    "ValidateProgramme",
    "action_facts",
    "amend_programme",
    "change_action_status",
    "edit_action",
    "on_centre_known",
    "on_membership_changed",
    "propose_action",
    "report_action_progress",
    "submit_programme",
    "validate_programme",
]
