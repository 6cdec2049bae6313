"""Sealing the notices whose window closed: each becomes its mail (see the publisher's module
for what each says)."""

from crnt_notifications.domain import Kind
from crnt_notifications.handlers.budget import announce_exceeded, announce_share
from crnt_notifications.handlers.notifier import NotificationsUnitOfWork, Notifier
from crnt_notifications.handlers.registry import announce_new_members


async def seal_due_notices(
    uow: NotificationsUnitOfWork, notifier: Notifier, *, limit: int = 50
) -> int:
    """Turn the notices whose window closed into deliveries; returns how many were sealed."""
    repository = uow.repository
    sealed = 0
    for notice in await repository.lock_due_notices(limit):
        items = await repository.notice_items(notice.id)
        if notice.kind == Kind.NEW_MEMBERS:
            await announce_new_members(repository, notifier, notice, items)
        elif notice.kind == Kind.SHARE_CHANGED and not await announce_share(
            repository, notifier, notice, items
        ):
            continue
        elif notice.kind == Kind.PARTICIPATION_EXCEEDED:
            await announce_exceeded(repository, notifier, items)
        await repository.seal_notice(notice.id)
        sealed += 1
    return sealed
