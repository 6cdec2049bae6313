"""What people ask through the API: their preferences set, an opt-out by a signed link, an
address confirmed by its link, a failed delivery sent again. Each is ``handler(command, uow)``
and commits what it keeps; they raise domain errors, which the API maps to problems."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from crnt_shared.contracts.notifications import AddressConfirmed, AddressConfirmedData
from crnt_shared.errors import Conflict, NotFound

from crnt_notifications.domain import Category, Status
from crnt_notifications.handlers.notifier import NotificationsUnitOfWork
from crnt_notifications.repository import Delivery

SOURCE = "/crnt/notifications"
RETRYABLE = frozenset({Status.FAILED, Status.RETRYING})


@dataclass(frozen=True)
class StoredPreferences:
    opted_out: list[str]
    updated_at: datetime | None


@dataclass(frozen=True)
class SetPreferences:
    email: str
    opted_out: Sequence[Category]


async def set_preferences(
    command: SetPreferences, uow: NotificationsUnitOfWork
) -> StoredPreferences:
    """The categories the person opted out of become exactly ``opted_out``."""
    repository = uow.repository
    await repository.set_preferences(
        command.email, [category.value for category in command.opted_out]
    )
    stored = StoredPreferences(*await repository.preferences(command.email))
    await uow.commit()
    return stored


@dataclass(frozen=True)
class OptOut:
    email: str
    category: Category


async def opt_out(command: OptOut, uow: NotificationsUnitOfWork) -> None:
    """One category more that the person does not want (an unsubscribe link)."""
    await uow.repository.opt_out(command.email, command.category.value)
    await uow.commit()


@dataclass(frozen=True)
class ConfirmAddress:
    application_id: UUID
    email: str
    #: Where the confirmation is published (None: the publisher's topic).
    topic: str | None = None


async def confirm_address(command: ConfirmAddress, uow: NotificationsUnitOfWork) -> bool:
    """The address confirms the application: the registry hears it once (``AddressConfirmed``),
    whatever the number of clicks; ``False`` when it had confirmed already."""
    at = await uow.repository.record_confirmation(command.application_id, command.email)
    if at is not None:
        data = AddressConfirmedData(
            application_id=command.application_id, email=command.email, at=at
        )
        await uow.publish(
            AddressConfirmed.create(source=SOURCE, subject=str(command.application_id), data=data),
            topic=command.topic,
        )
    await uow.commit()
    return at is not None


@dataclass(frozen=True)
class RetryDelivery:
    delivery_id: UUID


async def retry_delivery(command: RetryDelivery, uow: NotificationsUnitOfWork) -> Delivery:
    """A failed (or retrying) delivery is due again now, its attempts counted from zero."""
    repository = uow.repository
    delivery = await repository.delivery(command.delivery_id, lock=True)
    if delivery is None:
        raise NotFound(f"There is no delivery {command.delivery_id}.")
    if delivery.status not in RETRYABLE:
        raise Conflict(
            f"The delivery is {delivery.status}: only a failed or retrying delivery "
            "can be retried.",
            current_status=delivery.status,
        )
    await repository.requeue(command.delivery_id)
    updated = await repository.delivery(command.delivery_id)
    await uow.commit()
    assert updated is not None
    return updated
