"""The registry's events: applications and their confirmations, membership decisions, the
centres' and animators' changes, erasure; and the announcements that arrivals coalesce into:
the new members (approvals) for the animators, the imported applications for the agency."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import structlog
from crnt_shared import dates
from crnt_shared.auth import person_id_for
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
    PersonErased,
)
from crnt_shared.events import Event, utcnow

from crnt_notifications.domain import Arrivals, JoinedCentre, Kind, Recipient
from crnt_notifications.handlers.notifier import Context, Mail, NotificationsUnitOfWork, Notifier
from crnt_notifications.repository import (
    Notice,
    NoticeEntry,
    NoticeItem,
    NotificationsRepository,
)

log = structlog.get_logger(__name__)

NETWORK_KEY = "network"
#: The one notice of the applications imported in a window.
IMPORTS_KEY = "imports"


def _animators(animators: Sequence[AnimatorFacts], centre_id: UUID) -> list[Recipient]:
    """The animators who may be mailed: those whose address is confirmed (an anonymous
    application's addresses hear nothing but their confirmation request until they confirm)."""
    return [
        Recipient(animator.email, animator.name, centre_id)
        for animator in animators
        if animator.confirmed
    ]


async def _record_centre(
    repository: NotificationsRepository, centre: CentreFacts, animators: Sequence[AnimatorFacts]
) -> None:
    """The centre and the animators it may mail later (news, shares, programme)."""
    await _record_centres(repository, [(centre, animators)])


async def _record_centres(
    repository: NotificationsRepository,
    centres: Sequence[tuple[CentreFacts, Sequence[AnimatorFacts]]],
) -> None:
    """The centres and their animators, a statement for all of them (as last told of each)."""
    await repository.upsert_centres([centre for centre, _ in centres])
    await repository.replace_teams(
        [(centre.id, [a for a in animators if a.confirmed]) for centre, animators in centres]
    )


#: The registry's events that mail people: each is about one centre.
AboutACentre = (
    ApplicationSubmitted
    | ApplicationAddressConfirmed
    | MembershipApproved
    | MembershipRejected
    | MembershipSuspended
    | MembershipReinstated
    | MembershipWithdrawn
    | AnimatorAdded
    | AnimatorRemoved
)


async def _mail_about_centre(
    repository: NotificationsRepository,
    notifier: Notifier,
    event: AboutACentre,
    kind: Kind,
    recipients: Sequence[Recipient],
    context: Context,
) -> None:
    """The ``kind`` mails of ``event`` (:meth:`Notifier.deliver`), filed under its centre."""
    await notifier.deliver(
        repository,
        kind=kind,
        event_id=event.id,
        recipients=recipients,
        context=context,
        centre_id=event.data.centre.id,
    )


async def on_epci(
    event: EpciRegistered | EpciUpdated, uow: NotificationsUnitOfWork, _: Notifier
) -> None:
    await uow.repository.upsert_epci(event.data.siren, event.data.name)


async def on_application_submitted(
    event: ApplicationSubmitted, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """Entered by the agency: it hears of it and the animators get their acknowledgement.
    Imported from a CSV: the agency hears of the applications of a window in one mail (an
    import of the national cartography deposits thousands), the animators as for any other.
    Anonymous: the addresses the registry lists get their one confirmation request, and
    nobody hears anything more until an address confirms (see on_address_confirmed)."""
    repository = uow.repository
    data = event.data
    await _record_centre(repository, data.centre, data.animators)
    if data.confirmation_required:
        await _request_confirmations(repository, event, notifier)
        return
    mails = [(Kind.APPLICATION_ACKNOWLEDGED, _animators(data.animators, data.centre.id))]
    if data.channel == "import":
        await repository.add_to_notice(
            kind=Kind.APPLICATIONS_IMPORTED,
            key=IMPORTS_KEY,
            event_id=event.id,
            data=_arrival(data.centre, data.submitted_at),
            open_until=utcnow() + notifier.window,
        )
    else:
        mails.insert(0, (Kind.APPLICATION_RECEIVED, notifier.agency()))
    await _tell_of_application(repository, notifier, event, mails)


async def _tell_of_application(
    repository: NotificationsRepository,
    notifier: Notifier,
    event: ApplicationSubmitted | ApplicationAddressConfirmed,
    mails: Sequence[tuple[Kind, Sequence[Recipient]]],
) -> None:
    """The application's mails (the agency's notice, the animators' acknowledgement), in order."""
    data = event.data
    context = {
        "centre": data.centre.model_dump(),
        "animators": [animator.model_dump() for animator in data.animators],
        "submitted_at": data.submitted_at,
        "channel": data.channel,
    }
    for kind, recipients in mails:
        await _mail_about_centre(repository, notifier, event, kind, recipients, context)


async def _request_confirmations(
    repository: NotificationsRepository, event: ApplicationSubmitted, notifier: Notifier
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

    await _mail_about_centre(
        repository, notifier, event, Kind.ADDRESS_CONFIRMATION, recipients, context
    )


async def on_address_confirmed(
    event: ApplicationAddressConfirmed, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """An address of an anonymous application confirmed it (the registry says so): it gets
    the acknowledgement the application was holding; the first one tells the agency too."""
    repository = uow.repository
    data = event.data
    await _record_centre(repository, data.centre, data.animators)
    if data.application_status != "pending":
        return  # decided meanwhile: the decision's own mail said what there is to say
    mails = [(Kind.APPLICATION_ACKNOWLEDGED, _animators([data.animator], data.centre.id))]
    if data.first:
        mails.append((Kind.APPLICATION_RECEIVED, notifier.agency()))
    await _tell_of_application(repository, notifier, event, mails)


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
    event: MembershipEvent, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """A decision about a centre's membership (:func:`on_membership_decisions`)."""
    await on_membership_decisions([event], uow, notifier)


async def on_membership_decisions(
    events: Sequence[MembershipEvent], uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """Decisions about centres' memberships, in their order: the animators of each hear it at
    once (never coalesced); the agency hears of a suspension, a reinstatement or a withdrawal;
    an approval also goes into the next new-members announcement. The consumer gives those
    of a fetch together (a bulk approval makes hundreds): a statement for each kind of row,
    not several per decision."""
    repository = uow.repository
    await _record_centres(repository, [(e.data.centre, e.data.animators) for e in events])
    mails: dict[Kind, list[Mail]] = {}
    for event in events:
        data = event.data
        context = {
            "centre": data.centre.model_dump(),
            "reason": data.reason,
            "at": data.at,
            "by": data.by,
            "previous_status": data.previous_status,
            "status": data.status,
        }
        animators = _animators(data.animators, data.centre.id)
        mail = Mail(event.id, animators, context, centre_id=data.centre.id)
        mails.setdefault(DECISION_KIND[type(event)], []).append(mail)
        transition = AGENCY_TRANSITIONS.get(type(event))
        if transition is not None:
            told = {**context, "transition": transition}
            agency = Mail(event.id, notifier.agency(), told, centre_id=data.centre.id)
            mails.setdefault(Kind.AGENCY_MEMBERSHIP_CHANGED, []).append(agency)
    for kind, of_kind in mails.items():
        await notifier.deliver_all(repository, kind, of_kind)
    joined = [
        NoticeEntry(NETWORK_KEY, event.id, _arrival(event.data.centre, event.data.at))
        for event in events
        if isinstance(event, MembershipApproved)
    ]
    if joined:
        await repository.add_many_to_notices(
            kind=Kind.NEW_MEMBERS, items=joined, open_until=utcnow() + notifier.window
        )


def _arrival(centre: CentreFacts, at: datetime) -> dict[str, Any]:
    """A centre as a notice of arrivals (new members, imported applications) keeps it."""
    return {
        "centre_id": str(centre.id),
        "nom": centre.nom,
        "commune": centre.commune,
        "epci_name": centre.epci_name,
        "at": at.isoformat(),
    }


async def on_centre_updated(
    event: CentreUpdated, uow: NotificationsUnitOfWork, _: Notifier
) -> None:
    await _record_centre(uow.repository, event.data.centre, event.data.animators)


async def on_animator_changed(
    event: AnimatorAdded | AnimatorUpdated, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    repository = uow.repository
    await repository.upsert_centres([event.data.centre])
    if isinstance(event, AnimatorAdded):
        await _tell_agency_of_team_change(event, repository, notifier, added=True)
    if event.data.animator.confirmed:
        await repository.upsert_animator(event.data.centre.id, event.data.animator)
    else:
        await repository.remove_animator(event.data.animator.id)


async def on_animator_removed(
    event: AnimatorRemoved, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    repository = uow.repository
    await _tell_agency_of_team_change(event, repository, notifier, added=False)
    await repository.remove_animator(event.data.animator.id)


async def _tell_agency_of_team_change(
    event: AnimatorAdded | AnimatorRemoved,
    repository: NotificationsRepository,
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
    context = {
        "centre": event.data.centre.model_dump(),
        "animator": event.data.animator.model_dump(),
        "by": actor.name,
        "added": added,
    }
    await _mail_about_centre(
        repository, notifier, event, Kind.AGENCY_TEAM_CHANGED, notifier.agency(), context
    )


async def on_person_erased(event: PersonErased, uow: NotificationsUnitOfWork, _: Notifier) -> None:
    """Forget the person (see :mod:`crnt_notifications.repository.erasure`); the log says how
    much went, never the address."""
    data = event.data
    erased = await uow.repository.erase_person(data.animator_id, data.salt, data.email_digest)
    log.info("person erased", animator_id=str(data.animator_id), **erased.__dict__)


def _joined(item: NoticeItem) -> JoinedCentre:
    """A centre that joined, as its approval wrote it into the notice."""
    joined = item.data
    return JoinedCentre(
        centre_id=UUID(joined["centre_id"]),
        nom=joined["nom"],
        commune=joined["commune"],
        epci_name=joined["epci_name"],
    )


async def announce_new_members(
    repository: NotificationsRepository,
    notifier: Notifier,
    notice: Notice,
    items: Sequence[NoticeItem],
) -> None:
    if not items:
        return
    arrivals = Arrivals(
        [_joined(item) for item in items], listed_at_most=notifier.new_members_listed_at_most
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
    await notifier.deliver_notice(
        repository,
        items,
        kind=Kind.NEW_MEMBERS,
        notice_id=notice.id,
        recipients=listeners,
        context=context,
        # A summary names no place: its events are the notice's (GET /deliveries?event_id=
        # finds it through them), not a list of thousands in every delivery and event.
        names_each_event=not summarised,
    )


async def announce_imports(
    repository: NotificationsRepository,
    notifier: Notifier,
    notice: Notice,
    items: Sequence[NoticeItem],
) -> None:
    """One mail to the agency for the applications imported in a window: the places named up
    to ``new_members_listed_at_most``, counted by EPCI beyond, and the list of the applications
    waiting for its decision on the web."""
    if not items:
        return
    arrivals = Arrivals(
        [_joined(item) for item in items], listed_at_most=notifier.new_members_listed_at_most
    )
    announcement = arrivals.for_animator(())
    assert announcement is not None  # the agency has no centre of its own
    context = {
        "total": announcement.total,
        "centres": [centre.__dict__ for centre in announcement.centres],
        "summary": announcement.summary,
        "since": _arrived_since(notice, items),
        "list_url": notifier.web_url + "/agence/demandes?" + urlencode({"statut": "pending"}),
    }
    await notifier.deliver_notice(
        repository,
        items,
        kind=Kind.APPLICATIONS_IMPORTED,
        notice_id=notice.id,
        recipients=notifier.agency(),
        context=context,
        names_each_event=announcement.summary is None,
    )


def _arrived_since(notice: Notice, items: Sequence[NoticeItem]) -> date:
    """The day (in France) of the first approval the notice tells, for the list's link."""
    moments = [datetime.fromisoformat(item.data["at"]) for item in items if "at" in item.data]
    return min(moments, default=notice.created_at).astimezone(dates.PARIS).date()
