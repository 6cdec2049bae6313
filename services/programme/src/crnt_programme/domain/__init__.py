"""The programme's rules, without I/O.

**The programme of a year**: ``draft → submitted → validated``; once validated, the agency may
open an amendment (``validated → amending``), which goes through ``submitted → validated``
again. Each validation is an immutable version, numbered from 1, with its date and deciding
body. The content of the actions (axis, title, description, centres, dates, cost) can be edited
only while the programme is ``draft`` or ``amending``: a submitted programme waits unchanged for
the steering committee, and a validated one is changed through an amendment. Two things do not
wait: naming a new lead for an action that lost its own, and reporting progress (that is the
programme's execution, not its content).

**An action**: ``proposed → planned → in_progress → done``; ``cancelled`` from ``proposed``,
``planned`` or ``in_progress`` (an action that is done stays done: its results and costs are
facts). ``done`` and ``cancelled`` are final. The validation of the programme plans the proposed
actions (the committee adopted them). An action becomes ``done`` at 100 % progress.

**Centres**: only member centres may lead or take part. A centre that is suspended or withdrawn
leaves every action that is not done or cancelled; an action that loses its lead needs a new one
(and a programme with such an action cannot be submitted). A centre that is reinstated does not
come back by itself: the agency adds it again.

What the other rooms use is imported from here; each module of the package says its part.
"""

from crnt_programme.domain.actions import (
    ACTION_TRANSITIONS,
    FINAL_STATUSES,
    Action,
    ActionStatus,
    change_status,
    check_cost,
    check_dates,
    distinct_participants,
    ensure_open,
    next_action_status,
    report_progress,
)
from crnt_programme.domain.centres import (
    LEAVING,
    Centre,
    Departure,
    Membership,
    check_centres,
    leave,
)
from crnt_programme.domain.figures import (
    AxisReport,
    CentreReport,
    mean_progress,
    report,
    report_by_centre,
    totals_by_axis,
)
from crnt_programme.domain.programme import (
    EDITABLE_PROGRAMME,
    PROGRAMME_TRANSITIONS,
    ProgrammeCommand,
    ProgrammeStatus,
    ensure_content_editable,
    ensure_submittable,
    next_programme_status,
)
from crnt_programme.domain.vocabulary import (
    AXIS_LABELS,
    Axis,
    Indicators,
    InvalidAction,
    Nature,
    default_nature,
    format_hours,
)

__all__ = [
    "ACTION_TRANSITIONS",
    "AXIS_LABELS",
    "EDITABLE_PROGRAMME",
    "FINAL_STATUSES",
    "LEAVING",
    "PROGRAMME_TRANSITIONS",
    "Action",
    "ActionStatus",
    "Axis",
    "AxisReport",
    "Centre",
    "CentreReport",
    "Departure",
    "Indicators",
    "InvalidAction",
    "Membership",
    "Nature",
    "ProgrammeCommand",
    "ProgrammeStatus",
    "change_status",
    "check_centres",
    "check_cost",
    "check_dates",
    "default_nature",
    "distinct_participants",
    "ensure_content_editable",
    "ensure_open",
    "ensure_submittable",
    "format_hours",
    "leave",
    "mean_progress",
    "next_action_status",
    "next_programme_status",
    "report",
    "report_by_centre",
    "report_progress",
    "totals_by_axis",
]
