"""The budget's events: share changes and participations exceeded wait in their notices, and
become one mail each when the window closes.

A version's shares come as its dotations by class (:class:`DotationsChanged`): the centres it
lists as changed (joined, left, other workstations) carry their own facts; every other member
kept its workstations, which an earlier version listed and ``record_dotation_members`` kept, and
gets its class's amount, all of them in one statement.
"""

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID

import structlog
from crnt_shared.contracts.budget import DotationsChanged, ParticipationExceeded
from crnt_shared.events import utcnow
from crnt_shared.money import cents_from_amount

from crnt_notifications.domain import (
    HEARING_STATUSES,
    ExceededParticipation,
    Kind,
    ShareChange,
    latest_exceeded,
    share_change_reason,
    summarise_share_changes,
)
from crnt_notifications.handlers.notifier import (
    Mail,
    NotificationsUnitOfWork,
    Notifier,
    notice_mail,
)
from crnt_notifications.repository import (
    ClassChanges,
    Notice,
    NoticeEntry,
    NoticeItem,
    NotificationsRepository,
    ShareAnnouncement,
    notice_item_id,
)

log = structlog.get_logger(__name__)

#: A share notice whose centre the registry's events have not told about yet waits this many
#: windows (the budget's and the registry's topics are not ordered with each other).
UNKNOWN_CENTRE_PATIENCE = 10


async def on_dotations_changed(
    event: DotationsChanged, uow: NotificationsUnitOfWork, notifier: Notifier
) -> None:
    """A budget version moved the dotations: each centre whose share moved has the change
    waiting in its notice for the window to close. The centres the version lists are recorded
    first; the others' changes are added once the version's last part is in."""
    data = event.data
    repository = uow.repository
    open_until = utcnow() + notifier.window
    classes = {c.workstations: c for c in data.classes}
    entries = []
    for centre in data.changed:
        amount = classes[centre.workstations].cents_for(centre.centre_id) if centre.member else 0
        previous = cents_from_amount(centre.previous)
        if amount == previous:
            continue
        cause = share_change_reason(
            member=centre.member,
            cause_kind=data.cause.kind,
            event_types=centre.causes,
            version_types=data.cause.types,
        )
        item = {
            "centre_id": str(centre.centre_id),
            "year": data.year,
            "version": data.version,
            "amount_cents": amount,
            "previous_cents": previous,
            "cause": cause,
        }
        key = f"{centre.centre_id}:{data.year}"
        entries.append(NoticeEntry(key, notice_item_id(event.id, centre.centre_id), item))
    await repository.record_dotation_members(data.year, data.version, data.changed)
    await repository.add_many_to_notices(
        kind=Kind.SHARE_CHANGED, items=entries, open_until=open_until
    )
    if data.part < data.parts:
        return
    others = share_change_reason(
        member=True, cause_kind=data.cause.kind, event_types=(), version_types=data.cause.types
    )
    await repository.add_class_changes_to_notices(
        ClassChanges(
            Kind.SHARE_CHANGED,
            data.year,
            data.version,
            event.id,
            data.classes,
            data.previous_classes,
            {"year": data.year, "version": data.version, "cause": others},
            open_until,
        )
    )


async def on_participation_exceeded(
    event: ParticipationExceeded, uow: NotificationsUnitOfWork, notifier: Notifier
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
    await uow.repository.add_to_notice(
        kind=Kind.PARTICIPATION_EXCEEDED,
        key=f"participation:{data.year}",
        event_id=event.id,
        data=item,
        open_until=utcnow() + notifier.window,
    )


async def announce_shares(
    repository: NotificationsRepository,
    notifier: Notifier,
    notices: Sequence[tuple[Notice, Sequence[NoticeItem]]],
) -> set[UUID]:
    """One mail to each centre's animators per share notice, when the share moved since the
    amount last announced; returns the notices that must wait (their centre is not known
    yet). Each kind of row read and written once for all the notices."""
    about = [
        (notice, items, UUID(items[0].data["centre_id"])) for notice, items in notices if items
    ]
    centres = await repository.centres({centre_id for _, _, centre_id in about})
    known = [(n, items, centres[c]) for n, items, c in about if c in centres]
    hearing = [(n, items, c) for n, items, c in known if c.status in HEARING_STATUSES]
    last = await repository.last_announced((c.id, int(i[0].data["year"])) for _, i, c in hearing)
    teams = await repository.teams({centre.id for _, _, centre in hearing})
    mails: list[Mail] = []
    announcements: list[ShareAnnouncement] = []
    for _, items, centre in hearing:
        year = int(items[0].data["year"])
        changes = [
            ShareChange(
                version=int(item.data["version"]),
                amount_cents=int(item.data["amount_cents"]),
                previous_cents=int(item.data["previous_cents"]),
                cause=str(item.data["cause"]),
            )
            for item in items
        ]
        summary = summarise_share_changes(changes, last.get((centre.id, year)))
        if summary is None:
            continue
        context = {
            "centre": {"nom": centre.nom, "commune": centre.commune},
            "year": year,
            "version": summary.version,
            "amount_cents": summary.amount_cents,
            "previous_cents": summary.previous_cents,
            "change_cents": summary.change_cents,
            "causes": list(summary.causes),
        }
        recipients = teams.get(centre.id, [])
        mails.append(notice_mail(items, recipients, context, centre_id=centre.id))
        announcements.append(
            ShareAnnouncement(centre.id, year, summary.amount_cents, summary.version)
        )
    await notifier.deliver_all(repository, Kind.SHARE_CHANGED, mails)
    await repository.record_announcements(announcements)
    return await _postpone_unknown(
        repository, notifier, [(n, c) for n, _, c in about if c not in centres]
    )


async def _postpone_unknown(
    repository: NotificationsRepository, notifier: Notifier, notices: Sequence[tuple[Notice, UUID]]
) -> set[UUID]:
    """The notices of centres the registry's events have not told about yet wait a little
    (returned), a few windows at most."""
    waiting: set[UUID] = set()
    patience = max(notifier.window, timedelta(seconds=1))
    for notice, centre_id in notices:
        if utcnow() - notice.created_at < patience * UNKNOWN_CENTRE_PATIENCE:
            await repository.postpone_notice(notice.id, utcnow() + patience)
            waiting.add(notice.id)
        else:
            log.warning("share change of a centre never heard of", centre_id=str(centre_id))
    return waiting


async def announce_exceeded(
    repository: NotificationsRepository, notifier: Notifier, items: Sequence[NoticeItem]
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
    await notifier.deliver_notice(
        repository,
        items,
        kind=Kind.PARTICIPATION_EXCEEDED,
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
