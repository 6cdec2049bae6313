"""What a new version publishes: the year's summary, its dotations by class with the centres
whose facts changed, one event per centre a cause is about whose share changed, and the
participations newly exceeded."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypedDict, TypeVar
from uuid import UUID

from crnt_shared.context import current_correlation_id
from crnt_shared.contracts.budget import (
    MAX_CAUSE_EVENTS,
    MAX_CHANGED_PER_PART,
    Cause,
    CausingEvent,
    CentreShareChanged,
    ChangedCentre,
    ClassDotation,
    DotationsChanged,
    DotationsChangedData,
    EpciShare,
    ExceededParticipation,
    FinancingSummary,
    ParticipationExceeded,
    ParticipationExceededData,
    SharesRecalculated,
    SharesRecalculatedData,
)
from crnt_shared.events import Contract, Event, utcnow
from crnt_shared.tracing import current_traceparent

from crnt_budget import domain
from crnt_budget.repository import (
    CauseRow,
    CentreShareRow,
    Envelope,
    EpciShareRow,
    ShareChange,
    VersionRow,
)

SOURCE = "/crnt/budget"

E = TypeVar("E", bound=Event)


def newly_exceeded(
    version: VersionRow, rows: Sequence[EpciShareRow], previous: Mapping[str, EpciShareRow]
) -> Event | None:
    """The EPCIs asked more than voted, when one of them is newly so or asked another amount
    than by the previous version: the agency hears it once per change, not at every
    version."""
    over = [row for row in rows if row.exceeds_voted]
    fresh = [
        row
        for row in over
        if row.siren not in previous
        or not previous[row.siren].exceeds_voted
        or previous[row.siren].amount_cents != row.amount_cents
        or previous[row.siren].voted_cents != row.voted_cents
    ]
    if not fresh:
        return None
    money = domain.format_cents
    return _of_year(
        ParticipationExceeded,
        version,
        ParticipationExceededData(
            **_stamp(version),
            epcis=[
                ExceededParticipation(
                    siren=row.siren,
                    name=row.name,
                    voted=money(row.voted_cents or 0),
                    asked=money(row.amount_cents),
                    deliberation_number=row.deliberation_number or "",
                    deliberation_date=row.deliberation_date or version.computed_at.date(),
                )
                for row in over
            ],
        ),
    )


class _Stamp(TypedDict):
    year: int
    version: int
    computed_at: datetime


def _stamp(version: VersionRow) -> _Stamp:
    """The year, number and time of ``version``, as the data of its summary and its
    exceeded participations begin."""
    return _Stamp(year=version.year, version=version.version, computed_at=version.computed_at)


def _of_year(contract: type[E], version: VersionRow, data: Contract) -> E:
    """A new event of ``contract`` about the year of ``version`` (its key), made now."""
    return contract.create(source=SOURCE, subject=str(version.year), data=data)


def _fields(contract: type[Event], common: Envelope) -> dict[str, object]:
    """The envelope of an event of ``contract`` in ``common``, as the dict it is validated
    from (:meth:`~crnt_shared.events.Event.create` would give the same)."""
    return {
        "source": common.source,
        "type": contract.event_type(),
        "time": common.time,
        "correlationid": common.correlationid,
        "traceparent": common.traceparent,
    }


def _cause(causes: Sequence[CauseRow], manual_by: str | None, every: Sequence[CauseRow]) -> Cause:
    return Cause(
        kind="events" if manual_by is None else "manual",
        by=manual_by,
        event_count=len(every),
        events=[CausingEvent(id=c.event_id, type=c.event_type) for c in causes],
        types=sorted({c.event_type for c in every}),
    )


def envelope() -> Envelope:
    """What a version's events share: the budget publishes them now, in the current request
    or event and trace."""
    return Envelope(SOURCE, utcnow(), current_correlation_id(), current_traceparent())


def _own_cause(of_others: Cause, own: Sequence[CauseRow]) -> Cause:
    """A centre's cause: the version's (its kind, count and types, computed once for all its
    centres, else a version of thousands of approvals would count them for each) with the
    events about that centre."""
    return of_others.model_copy(
        update={"events": [CausingEvent(id=c.event_id, type=c.event_type) for c in own]}
    )


def cause_of_others(causes: Sequence[CauseRow], manual_by: str | None) -> Cause:
    """Why a centre that no cause is about moved: its share moved with the others'."""
    return _cause([], manual_by, causes)


def version_events(
    version: VersionRow,
    centres: Sequence[CentreShareRow],
    epcis: Sequence[EpciShareRow],
    causes: Sequence[CauseRow],
    manual_by: str | None,
    common: Envelope | None = None,
) -> list[Event]:
    """The summary keyed by year, then one event per centre of ``centres`` (those the causes
    are about) whose amount changed; the others hear of theirs from :func:`dotations_events`."""
    common = common or envelope()
    money = domain.format_cents
    financing = version.financing
    summary = _of_year(
        SharesRecalculated,
        version,
        SharesRecalculatedData(
            **_stamp(version),
            cause=_cause(causes[:MAX_CAUSE_EVENTS], manual_by, causes),
            envelope=money(version.envelope_cents),
            allocated=money(version.allocated_cents),
            epci_contribution=money(version.epci_contribution_cents),
            member_count=version.member_count,
            changed_centres=version.changed_centres,
            epcis=[
                EpciShare(
                    siren=e.siren,
                    name=e.name,
                    amount=money(e.amount_cents),
                    previous=money(e.previous_cents),
                    change=money(e.amount_cents - e.previous_cents),
                    voted=None if e.voted_cents is None else money(e.voted_cents),
                    exceeds_voted=e.exceeds_voted,
                )
                for e in epcis
            ],
            financing=FinancingSummary(
                status=financing["status"],
                expenses=financing["expenses"],
                resources=financing["resources"],
                gap=financing["gap"],
                grants=financing["grants"],
                reste_a_charge=financing["reste_a_charge"],
                investment_rule_holds=financing["investment_rule"]["holds"],
            ),
        ),
    )
    about: dict[str, list[CauseRow]] = {}
    for cause in causes:
        about.setdefault(cause.subject, []).append(cause)
    # Built once: most centres have no cause of their own (their share moved with the others').
    without_own = cause_of_others(causes, manual_by)
    events: list[Event] = [summary]
    for centre in centres:
        own = about.get(str(centre.centre_id))
        why = without_own if own is None else _own_cause(without_own, own)
        events.extend(share_events(version, [centre], why, common))
    return events


def share_events(
    version: VersionRow, centres: Iterable[CentreShareRow], cause: Cause, common: Envelope
) -> list[CentreShareChanged]:
    """The :class:`CentreShareChanged` of those of ``centres`` whose amount moved, each with
    ``cause``: what :meth:`~crnt_shared.events.Event.create` would make, in ``common``, each
    validated in one call from a dict of its envelope and data."""
    money = domain.format_cents
    fixed = _fields(CentreShareChanged, common)
    return [
        CentreShareChanged.model_validate(
            {
                **fixed,
                "subject": str(centre.centre_id),
                "data": {
                    "year": version.year,
                    "version": version.version,
                    "centre_id": centre.centre_id,
                    "centre_name": centre.name,
                    "epci_siren": centre.epci_siren,
                    "member": centre.is_member,
                    "amount": money(centre.amount_cents),
                    "previous": money(centre.previous_cents),
                    "change": money(centre.amount_cents - centre.previous_cents),
                    "cause": cause,
                },
            }
        )
        for centre in centres
        if centre.amount_cents != centre.previous_cents
    ]


def _classes(dotations: Mapping[int, domain.DotationClass]) -> list[ClassDotation]:
    return [
        ClassDotation(
            workstations=workstations,
            base=domain.format_cents(dotation.base),
            extra_through=None if dotation.extra_through is None else UUID(dotation.extra_through),
        )
        for workstations, dotation in sorted(dotations.items())
    ]


def dotations_events(
    version: VersionRow,
    dotations: Mapping[int, domain.DotationClass],
    previous: Mapping[int, domain.DotationClass],
    changed: Sequence[ShareChange],
    causes: Sequence[CauseRow],
    manual_by: str | None,
    common: Envelope,
) -> list[DotationsChanged]:
    """The version's dotations by class, beside the version before's, with the centres of
    ``changed`` (in id order), :data:`MAX_CHANGED_PER_PART` an event: one event for most
    versions, whatever the number of members."""
    about: dict[str, list[str]] = {}
    for cause in causes:
        about.setdefault(cause.subject, []).append(cause.event_type)
    money = domain.format_cents
    listed = [
        ChangedCentre(
            centre_id=row.centre_id,
            centre_name=row.name,
            epci_siren=row.epci_siren,
            workstations=row.workstations,
            member=row.is_member,
            previous=money(row.previous_cents),
            causes=sorted(set(about.get(str(row.centre_id), ()))),
        )
        for row in changed
    ]
    step = MAX_CHANGED_PER_PART
    parts = [listed[i : i + step] for i in range(0, len(listed), step)] or [[]]
    classes, before = _classes(dotations), _classes(previous)
    why = cause_of_others(causes, manual_by)
    fixed = _fields(DotationsChanged, common)
    return [
        DotationsChanged.model_validate(
            {
                **fixed,
                "subject": str(version.year),
                "data": DotationsChangedData(
                    year=version.year,
                    version=version.version,
                    part=number,
                    parts=len(parts),
                    cause=why,
                    classes=classes,
                    previous_classes=before,
                    changed=part,
                ),
            }
        )
        for number, part in enumerate(parts, start=1)
    ]
