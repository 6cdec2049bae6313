"""Sealing the notices whose window closed: each becomes its mail (see the publisher's module
for what each says)."""

from crnt_notifications.domain import Kind
from crnt_notifications.handlers.budget import announce_exceeded, announce_shares
from crnt_notifications.handlers.notifier import NotificationsUnitOfWork, Notifier
from crnt_notifications.handlers.registry import announce_imports, announce_new_members

#: Notices sealed by one transaction: the share notices of a national network's version are
#: tens of thousands, read and written a few hundred at a time (a statement for each kind of
#: row, not several per notice).
SEAL_BATCH = 200


async def seal_due_notices(
    uow: NotificationsUnitOfWork, notifier: Notifier, *, limit: int = SEAL_BATCH
) -> int:
    """Turn the notices whose window closed into deliveries; returns how many were sealed."""
    repository = uow.repository
    notices = await repository.lock_due_notices(limit)
    if not notices:
        return 0
    items = await repository.notices_items([notice.id for notice in notices])
    shares = [(n, items[n.id]) for n in notices if n.kind == Kind.SHARE_CHANGED]
    waiting = await announce_shares(repository, notifier, shares)
    for notice in notices:
        if notice.kind == Kind.NEW_MEMBERS:
            await announce_new_members(repository, notifier, notice, items[notice.id])
        elif notice.kind == Kind.APPLICATIONS_IMPORTED:
            await announce_imports(repository, notifier, notice, items[notice.id])
        elif notice.kind == Kind.PARTICIPATION_EXCEEDED:
            await announce_exceeded(repository, notifier, items[notice.id])
    sealed = [notice.id for notice in notices if notice.id not in waiting]
    await repository.seal_notices(sealed)
    return len(sealed)
