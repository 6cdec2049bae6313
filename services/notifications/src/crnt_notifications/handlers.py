"""The use cases: one handler per event (``async def handler(event, uow)``), and the sealing of
coalesced notices. Each runs in one unit of work: the read model, the deliveries and their
rendered content commit together with the inbox record, or not at all."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID, uuid4

import structlog
from crnt_shared import dates
from crnt_shared.auth import person_id_for
from crnt_shared.contracts.budget import CentreShareChanged, ParticipationExceeded
from crnt_shared.contracts.programme import (
    ActionFacts,
    ActionStatusChanged,
    Participant,
    ProgrammeValidated,
    ValidatedAction,
)
from crnt_shared.contracts.registry import (
    AnimatorAdded,
    AnimatorFacts,
    AnimatorRemoved,
    AnimatorUpdated,
    ApplicationAddressConfirmed,
    ApplicationSubmitted,
    CentreFacts,
    CentreUpdated,
    EpciRegistered,
    EpciUpdated,
    MembershipApproved,
    MembershipReinstated,
    MembershipRejected,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event, utcnow
from crnt_shared.money import cents_from_amount

from crnt_notifications.domain import (
    HEARING_STATUSES,
    NEW_MEMBERS_LISTED_AT_MOST,
    PROGRAMME_STATUSES,
    Arrivals,
    ExceededParticipation,
    JoinedCentre,
    Kind,
    Recipient,
    ShareChange,
    Status,
    axis_rank,
    distinct_recipients,
    latest_exceeded,
    ordered_axes,
    share_change_reason,
    should_send,
    status_change_is_told,
    summarise_share_changes,
)
from crnt_notifications.links import ConfirmationLinks, UnsubscribeLinks
from crnt_notifications.repository import (
    NewDelivery,
    Notice,
    NoticeEntry,
    NoticeItem,
    Repository,
)
from crnt_notifications.templates import Renderer

log = structlog.get_logger(__name__)

NETWORK_KEY = "network"
#: A share notice whose centre the registry's events have not told about yet waits this many
#: windows (the budget's and the registry's topics are not ordered with each other).
UNKNOWN_CENTRE_PATIENCE = 10

#: Deliveries written at once: few enough to keep their bodies' memory small.
DELIVERY_BATCH = 500

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Notifier:
    """What the handlers need besides the unit of work."""

    renderer: Renderer
    links: UnsubscribeLinks
    confirmations: ConfirmationLinks
    agency_emails: tuple[str, ...]
    window: timedelta
    message_domain: str
    #: The web's public address, for links to its pages (NOTIFICATIONS_WEB_URL).
    web_url: str = "http://127.0.0.1:8000"
    new_members_listed_at_most: int = NEW_MEMBERS_LISTED_AT_MOST

    async def deliver(
        self,
        repository: Repository,
        *,
        kind: Kind,
        event_id: UUID,
        recipients: Sequence[Recipient],
        context: Mapping[str, Any] | Callable[[Recipient], Mapping[str, Any] | None],
        event_ids: Sequence[UUID] = (),
        centre_id: UUID | None = None,
        notice_id: UUID | None = None,
    ) -> None:
        """One delivery per recipient, pending or suppressed (opted out); a delivery that
        already exists for (event, recipient, kind) is left as it is. Written a few hundred at
        a time (an announcement to every animator of a national network is thousands)."""
        people = distinct_recipients(recipients)
        opted_out = await repository.opted_out(person.email for person in people)
        batch: list[NewDelivery] = []
        for person in people:
            values = context(person) if callable(context) else context
            if values is None:
                continue
            category = kind.category
            url = None if category.essential else self.links.url(person.email, category)
            rendered = self.renderer.render(
                kind, {**values, "recipient_name": person.name}, unsubscribe_url=url
            )
            delivery_id = uuid4()
            status = (
                Status.PENDING
                if should_send(category, opted_out.get(person.email, []))
                else Status.SUPPRESSED
            )
            batch.append(
                NewDelivery(
                    id=delivery_id,
                    event_id=event_id,
                    event_ids=list(event_ids) or [event_id],
                    recipient=person.email,
                    kind=kind.value,
                    category=category.value,
                    centre_id=centre_id,
                    notice_id=notice_id,
                    subject=rendered.subject,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    unsubscribe_url=url,
                    status=status,
                    message_id=f"<{delivery_id}@{self.message_domain}>",
                )
            )
            if len(batch) >= DELIVERY_BATCH:
                await repository.insert_deliveries(batch)
                batch = []
        await repository.insert_deliveries(batch)

    def agency(self) -> list[Recipient]:
        return [Recipient(email) for email in self.agency_emails]


def _animators(animators: Sequence[AnimatorFacts], centre_id: UUID) -> list[Recipient]:
    """The animators who may be mailed: those whose address is confirmed (an anonymous
    application's addresses hear nothing but their confirmation request until they confirm)."""
    return [
        Recipient(animator.email, animator.name, centre_id)
        for animator in animators
        if animator.confirmed
    ]


async def _record_centre(
    repository: Repository, centre: CentreFacts, animators: Sequence[AnimatorFacts]
) -> None:
    """The centre and the animators it may mail later (news, shares, programme)."""
    await repository.upsert_centre(centre)
    await repository.replace_animators(centre.id, [a for a in animators if a.confirmed])


# The registry's events


async def on_epci(event: EpciRegistered | EpciUpdated, uow: UnitOfWork, _: Notifier) -> None:
    await Repository(uow.connection).upsert_epci(event.data.siren, event.data.name)


async def on_application_submitted(
    event: ApplicationSubmitted, uow: UnitOfWork, notifier: Notifier
) -> None:
    """Entered by the agency: it hears of it and the animators get their acknowledgement.
    Anonymous: the addresses the registry lists get their one confirmation request, and
    nobody hears anything more until an address confirms (see on_address_confirmed)."""
    repository = Repository(uow.connection)
    data = event.data
    await _record_centre(repository, data.centre, data.animators)
    if data.confirmation_required:
        await _request_confirmations(repository, event, notifier)
        return
    context = _application_context(data.centre, data.animators, data.submitted_at, data.channel)
    await notifier.deliver(
        repository,
        kind=Kind.APPLICATION_RECEIVED,
        event_id=event.id,
        recipients=notifier.agency(),
        context=context,
        centre_id=data.centre.id,
    )
    await notifier.deliver(
        repository,
        kind=Kind.APPLICATION_ACKNOWLEDGED,
        event_id=event.id,
        recipients=_animators(data.animators, data.centre.id),
        context=context,
        centre_id=data.centre.id,
    )


def _application_context(
    centre: CentreFacts, animators: Sequence[AnimatorFacts], submitted_at: datetime, channel: str
) -> dict[str, Any]:
    return {
        "centre": centre.model_dump(),
        "animators": [animator.model_dump() for animator in animators],
        "submitted_at": submitted_at,
        "channel": channel,
    }


async def _request_confirmations(
    repository: Repository, event: ApplicationSubmitted, notifier: Notifier
) -> None:
    data = event.data
    expires_at = data.expires_at
    if expires_at is None:
        log.warning("anonymous application without expiry: nobody asked", event_id=str(event.id))
        return
    asked = set(data.confirmation_requested)
    recipients = [
        Recipient(animator.email, animator.name, data.centre.id)
        for animator in data.animators
        if animator.id in asked
    ]

    def context(person: Recipient) -> Mapping[str, Any]:
        url = notifier.confirmations.url(data.application_id, person.email, expires_at)
        return {
            "centre": data.centre.model_dump(),
            "email": person.email,
            "expires_at": expires_at,
            "confirmation_url": url,
        }

    await notifier.deliver(
        repository,
        kind=Kind.ADDRESS_CONFIRMATION,
        event_id=event.id,
        recipients=recipients,
        context=context,
        centre_id=data.centre.id,
    )


async def on_address_confirmed(
    event: ApplicationAddressConfirmed, uow: UnitOfWork, notifier: Notifier
) -> None:
    """An address of an anonymous application confirmed it (the registry says so): it gets
    the acknowledgement the application was holding; the first one tells the agency too."""
    repository = Repository(uow.connection)
    data = event.data
    await _record_centre(repository, data.centre, data.animators)
    if data.application_status != "pending":
        return  # decided meanwhile: the decision's own mail said what there is to say
    context = _application_context(data.centre, data.animators, data.submitted_at, data.channel)
    await notifier.deliver(
        repository,
        kind=Kind.APPLICATION_ACKNOWLEDGED,
        event_id=event.id,
        recipients=_animators([data.animator], data.centre.id),
        context=context,
        centre_id=data.centre.id,
    )
    if data.first:
        await notifier.deliver(
            repository,
            kind=Kind.APPLICATION_RECEIVED,
            event_id=event.id,
            recipients=notifier.agency(),
            context=context,
            centre_id=data.centre.id,
        )


MembershipEvent = (
    MembershipApproved
    | MembershipRejected
    | MembershipSuspended
    | MembershipReinstated
    | MembershipWithdrawn
)

DECISION_KIND: dict[type[Event], Kind] = {
    MembershipApproved: Kind.MEMBERSHIP_WELCOME,
    MembershipRejected: Kind.MEMBERSHIP_REJECTED,
    MembershipSuspended: Kind.MEMBERSHIP_SUSPENDED,
    MembershipReinstated: Kind.MEMBERSHIP_REINSTATED,
    MembershipWithdrawn: Kind.MEMBERSHIP_WITHDRAWN,
}

#: The membership changes the agency hears about, and how its email names them.
AGENCY_TRANSITIONS: dict[type[Event], str] = {
    MembershipSuspended: "Adhésion suspendue",
    MembershipReinstated: "Adhésion rétablie",
    MembershipWithdrawn: "Retrait du réseau",
}


async def on_membership_changed(
    event: MembershipEvent, uow: UnitOfWork, notifier: Notifier
) -> None:
    """A decision about a centre's membership: its animators hear it at once (never
    coalesced); an approval also goes into the next new-members announcement."""
    repository = Repository(uow.connection)
    data = event.data
    await _record_centre(repository, data.centre, data.animators)
    context = {
        "centre": data.centre.model_dump(),
        "reason": data.reason,
        "at": data.at,
        "by": data.by,
        "previous_status": data.previous_status,
        "status": data.status,
    }
    await notifier.deliver(
        repository,
        kind=DECISION_KIND[type(event)],
        event_id=event.id,
        recipients=_animators(data.animators, data.centre.id),
        context=context,
        centre_id=data.centre.id,
    )
    transition = AGENCY_TRANSITIONS.get(type(event))
    if transition is not None:
        await notifier.deliver(
            repository,
            kind=Kind.AGENCY_MEMBERSHIP_CHANGED,
            event_id=event.id,
            recipients=notifier.agency(),
            context={**context, "transition": transition},
            centre_id=data.centre.id,
        )
    if isinstance(event, MembershipApproved):
        joined = {
            "centre_id": str(data.centre.id),
            "nom": data.centre.nom,
            "commune": data.centre.commune,
            "epci_name": data.centre.epci_name,
            "at": data.at.isoformat(),
        }
        await repository.add_to_notice(
            kind=Kind.NEW_MEMBERS,
            key=NETWORK_KEY,
            event_id=event.id,
            data=joined,
            open_until=utcnow() + notifier.window,
        )


async def on_centre_updated(event: CentreUpdated, uow: UnitOfWork, _: Notifier) -> None:
    await _record_centre(Repository(uow.connection), event.data.centre, event.data.animators)


async def on_animator_changed(
    event: AnimatorAdded | AnimatorUpdated, uow: UnitOfWork, notifier: Notifier
) -> None:
    repository = Repository(uow.connection)
    await repository.upsert_centre(event.data.centre)
    if isinstance(event, AnimatorAdded):
        await _tell_agency_of_team_change(event, repository, notifier, added=True)
    if event.data.animator.confirmed:
        await repository.upsert_animator(event.data.centre.id, event.data.animator)
    else:
        await repository.remove_animator(event.data.animator.id)


async def on_animator_removed(event: AnimatorRemoved, uow: UnitOfWork, notifier: Notifier) -> None:
    repository = Repository(uow.connection)
    await _tell_agency_of_team_change(event, repository, notifier, added=False)
    await repository.remove_animator(event.data.animator.id)


async def _tell_agency_of_team_change(
    event: AnimatorAdded | AnimatorRemoved,
    repository: Repository,
    notifier: Notifier,
    *,
    added: bool,
) -> None:
    """When an animator of the centre (not the agency) changed its team, the agency hears."""
    actor = event.data.actor
    if actor is None or actor.kind != "person":
        return
    team = await repository.animators_of(event.data.centre.id)
    if not any(str(person_id_for(member.email)) == actor.id for member in team):
        return
    await notifier.deliver(
        repository,
        kind=Kind.AGENCY_TEAM_CHANGED,
        event_id=event.id,
        recipients=notifier.agency(),
        context={
            "centre": event.data.centre.model_dump(),
            "animator": event.data.animator.model_dump(),
            "by": actor.name,
            "added": added,
        },
        centre_id=event.data.centre.id,
    )


# The budget's events


def _share_entry(event: CentreShareChanged) -> NoticeEntry | None:
    """What a centre's notice keeps of a share change; nothing when the share did not move."""
    data = event.data
    if Decimal(data.change) == 0:
        return None
    item = {
        "centre_id": str(data.centre_id),
        "centre_name": data.centre_name,
        "year": data.year,
        "version": data.version,
        "amount_cents": cents_from_amount(data.amount),
        "previous_cents": cents_from_amount(data.previous),
        "cause": share_change_reason(
            member=data.member,
            cause_kind=data.cause.kind,
            event_types=[causing.type for causing in data.cause.events],
            version_types=data.cause.types,
        ),
    }
    return NoticeEntry(f"{data.centre_id}:{data.year}", event.id, item)


async def on_shares_changed(
    events: Sequence[CentreShareChanged], uow: UnitOfWork, notifier: Notifier
) -> None:
    """Centres' shares changed: each change waits in its centre's notice for the window to
    close. A version changes every member's share at once, so they are taken together."""
    entries = [entry for event in events if (entry := _share_entry(event)) is not None]
    await Repository(uow.connection).add_many_to_notices(
        kind=Kind.SHARE_CHANGED, items=entries, open_until=utcnow() + notifier.window
    )


async def on_participation_exceeded(
    event: ParticipationExceeded, uow: UnitOfWork, notifier: Notifier
) -> None:
    """A version asks EPCIs more than voted: the agency hears it once per window and year."""
    data = event.data
    item = {
        "year": data.year,
        "version": data.version,
        "epcis": [
            {
                "siren": epci.siren,
                "name": epci.name,
                "voted_cents": cents_from_amount(epci.voted),
                "asked_cents": cents_from_amount(epci.asked),
                "deliberation_number": epci.deliberation_number,
                "deliberation_date": epci.deliberation_date.isoformat(),
            }
            for epci in data.epcis
        ],
    }
    await Repository(uow.connection).add_to_notice(
        kind=Kind.PARTICIPATION_EXCEEDED,
        key=f"participation:{data.year}",
        event_id=event.id,
        data=item,
        open_until=utcnow() + notifier.window,
    )


# The programme's events


def _lead_name(participants: Sequence[Participant]) -> str | None:
    return next((p.centre_name for p in participants if p.lead), None)


def _programme_action(action: ValidatedAction, centre_id: UUID) -> dict[str, Any]:
    """One action of the programme as one of its centres sees it."""
    return {
        "title": action.title,
        "axis": action.axis,
        "status": action.status,
        "starts_on": action.starts_on,
        "ends_on": action.ends_on,
        "estimated_cents": cents_from_amount(action.estimated_cost),
        "leads": action.lead_centre_id == centre_id,
        "lead_name": None if action.needs_lead else _lead_name(action.participants),
        "needs_lead": action.needs_lead,
        "others": [
            p.centre_name for p in action.participants if p.centre_id != centre_id and not p.lead
        ],
    }


async def on_programme_validated(
    event: ProgrammeValidated, uow: UnitOfWork, notifier: Notifier
) -> None:
    """A version of a year's programme was validated: every member centre's animators hear the
    programme by axis and the actions their centre takes part in (each version its email)."""
    repository = Repository(uow.connection)
    data = event.data
    actions = sorted(data.actions, key=lambda a: (axis_rank(a.axis), a.starts_on, a.title))
    counted = [action for action in actions if action.status != "cancelled"]
    axes = [
        {
            "axis": axis,
            "amount_cents": cents_from_amount(data.totals_by_axis[axis]),
            "count": sum(action.axis == axis for action in counted),
        }
        for axis in ordered_axes(data.totals_by_axis)
    ]
    listeners = await repository.animators_with_centre(PROGRAMME_STATUSES)
    own_centres: dict[str, dict[UUID, str]] = {}
    for person, nom in listeners:
        if person.centre_id is not None:
            own_centres.setdefault(person.email, {})[person.centre_id] = nom
    common = {
        "year": data.year,
        "version": data.version,
        "decided_on": data.decided_on,
        "deciding_body": data.deciding_body,
        "decision_reference": data.decision_reference,
        "axes": axes,
        "total_cents": cents_from_amount(data.total),
        "action_count": len(counted),
    }

    def context(person: Recipient) -> dict[str, Any]:
        centres = [
            {
                "nom": nom,
                "actions": [
                    _programme_action(action, centre_id)
                    for action in actions
                    if any(p.centre_id == centre_id for p in action.participants)
                ],
            }
            for centre_id, nom in own_centres.get(person.email, {}).items()
        ]
        return {**common, "centres": centres}

    await notifier.deliver(
        repository,
        kind=Kind.PROGRAMME_VALIDATED,
        event_id=event.id,
        recipients=[person for person, _ in listeners],
        context=context,
    )


def _action_facts(action: ActionFacts) -> dict[str, Any]:
    return {
        "title": action.title,
        "description": action.description,
        "axis": action.axis,
        "year": action.year,
        "starts_on": action.starts_on,
        "ends_on": action.ends_on,
        "estimated_cents": cents_from_amount(action.estimated_cost),
        "actual_cents": (
            None if action.actual_cost is None else cents_from_amount(action.actual_cost)
        ),
        "progress": action.progress,
        "progress_note": action.progress_note,
        "needs_lead": action.needs_lead,
        "lead_name": None if action.needs_lead else _lead_name(action.participants),
        "centres": [p.centre_name for p in action.participants],
    }


async def on_action_status_changed(
    event: ActionStatusChanged, uow: UnitOfWork, notifier: Notifier
) -> None:
    """An action started, was done or was cancelled: the animators of the centres taking part
    hear it at once (its adoption is told by the programme's email instead)."""
    data = event.data
    if not status_change_is_told(data.previous_status, data.status):
        return
    repository = Repository(uow.connection)
    action = _action_facts(data.action)
    # Lead first: an address that animates two of the centres gets one email (the database
    # keeps one delivery per event, recipient and kind), about the centre that leads.
    for participant in sorted(data.action.participants, key=lambda p: not p.lead):
        recipients = await repository.animators_of(participant.centre_id)
        if not recipients:
            log.warning(
                "action status change for a centre without known animators",
                centre_id=str(participant.centre_id),
                action_id=str(data.action.id),
            )
            continue
        await notifier.deliver(
            repository,
            kind=Kind.ACTION_STATUS_CHANGED,
            event_id=event.id,
            recipients=recipients,
            context={
                "action": action,
                "centre": {"nom": participant.centre_name, "leads": participant.lead},
                "previous_status": data.previous_status,
                "status": data.status,
                "reason": data.reason,
                "at": data.at,
            },
            centre_id=participant.centre_id,
        )


# Sealing the notices whose window closed


async def seal_due_notices(uow: UnitOfWork, notifier: Notifier, *, limit: int = 50) -> int:
    """Turn the notices whose window closed into deliveries; returns how many were sealed."""
    repository = Repository(uow.connection)
    sealed = 0
    for notice in await repository.lock_due_notices(limit):
        items = await repository.notice_items(notice.id)
        if notice.kind == Kind.NEW_MEMBERS:
            await _announce_new_members(repository, notifier, notice, items)
        elif notice.kind == Kind.SHARE_CHANGED and not await _announce_share(
            repository, notifier, notice, items
        ):
            continue
        elif notice.kind == Kind.PARTICIPATION_EXCEEDED:
            await _announce_exceeded(repository, notifier, items)
        await repository.seal_notice(notice.id)
        sealed += 1
    return sealed


async def _announce_new_members(
    repository: Repository, notifier: Notifier, notice: Notice, items: Sequence[NoticeItem]
) -> None:
    if not items:
        return
    arrivals = Arrivals(
        [
            JoinedCentre(
                centre_id=UUID(item.data["centre_id"]),
                nom=item.data["nom"],
                commune=item.data["commune"],
                epci_name=item.data["epci_name"],
            )
            for item in items
        ],
        listed_at_most=notifier.new_members_listed_at_most,
    )
    listeners = await repository.hearing_animators()
    own_centres: dict[str, set[UUID]] = {}
    for listener in listeners:
        if listener.centre_id is not None:
            own_centres.setdefault(listener.email, set()).add(listener.centre_id)
    since = _arrived_since(notice, items)
    list_url = notifier.web_url + "/lieux?" + urlencode({"depuis": since.isoformat()})

    def context(person: Recipient) -> dict[str, Any] | None:
        announcement = arrivals.for_animator(own_centres.get(person.email, set()))
        if announcement is None:
            return None
        return {
            "total": announcement.total,
            "centres": [centre.__dict__ for centre in announcement.centres],
            "summary": announcement.summary,
            "since": since,
            "list_url": list_url,
        }

    summarised = len(arrivals.centres) > notifier.new_members_listed_at_most
    await notifier.deliver(
        repository,
        kind=Kind.NEW_MEMBERS,
        event_id=items[0].event_id,
        # A summary names no place: its events are the notice's (GET /deliveries?event_id=
        # finds it through them), not a list of thousands in every delivery and event.
        event_ids=[items[0].event_id] if summarised else [item.event_id for item in items],
        notice_id=notice.id,
        recipients=listeners,
        context=context,
    )


def _arrived_since(notice: Notice, items: Sequence[NoticeItem]) -> date:
    """The day (in France) of the first approval the notice tells, for the list's link."""
    moments = [datetime.fromisoformat(item.data["at"]) for item in items if "at" in item.data]
    return min(moments, default=notice.created_at).astimezone(dates.PARIS).date()


async def _announce_share(
    repository: Repository, notifier: Notifier, notice: Notice, items: Sequence[NoticeItem]
) -> bool:
    """``False`` when the notice must wait (its centre is not known yet)."""
    if not items:
        return True
    centre_id = UUID(items[0].data["centre_id"])
    year = int(items[0].data["year"])
    centre = await repository.centre(centre_id)
    if centre is None:
        patience = max(notifier.window, timedelta(seconds=1))
        if utcnow() - notice.created_at < patience * UNKNOWN_CENTRE_PATIENCE:
            await repository.postpone_notice(notice.id, utcnow() + patience)
            return False
        log.warning("share change of a centre never heard of", centre_id=str(centre_id))
        return True
    if centre.status not in HEARING_STATUSES:
        return True
    changes = [
        ShareChange(
            version=int(item.data["version"]),
            amount_cents=int(item.data["amount_cents"]),
            previous_cents=int(item.data["previous_cents"]),
            cause=str(item.data["cause"]),
        )
        for item in items
    ]
    summary = summarise_share_changes(changes, await repository.last_announced(centre_id, year))
    if summary is None:
        return True
    await notifier.deliver(
        repository,
        kind=Kind.SHARE_CHANGED,
        event_id=items[0].event_id,
        event_ids=[item.event_id for item in items],
        recipients=await repository.animators_of(centre_id),
        context={
            "centre": {"nom": centre.nom, "commune": centre.commune},
            "year": year,
            "version": summary.version,
            "amount_cents": summary.amount_cents,
            "previous_cents": summary.previous_cents,
            "change_cents": summary.change_cents,
            "causes": list(summary.causes),
        },
        centre_id=centre_id,
    )
    await repository.record_announcement(centre_id, year, summary.amount_cents, summary.version)
    return True


async def _announce_exceeded(
    repository: Repository, notifier: Notifier, items: Sequence[NoticeItem]
) -> None:
    """One mail to the agency: per EPCI, the latest demand of the window against its vote."""
    if not items:
        return
    exceeded = latest_exceeded(
        ExceededParticipation(
            version=int(item.data["version"]),
            siren=epci["siren"],
            name=epci["name"],
            voted_cents=int(epci["voted_cents"]),
            asked_cents=int(epci["asked_cents"]),
            deliberation_number=epci["deliberation_number"],
            deliberation_date=epci["deliberation_date"],
        )
        for item in items
        for epci in item.data["epcis"]
    )
    await notifier.deliver(
        repository,
        kind=Kind.PARTICIPATION_EXCEEDED,
        event_id=items[0].event_id,
        event_ids=[item.event_id for item in items],
        recipients=notifier.agency(),
        context={
            "year": int(items[0].data["year"]),
            "version": max(int(item.data["version"]) for item in items),
            "epcis": [
                {**e.__dict__, "deliberation_date": date.fromisoformat(e.deliberation_date)}
                for e in exceeded
            ],
        },
    )
