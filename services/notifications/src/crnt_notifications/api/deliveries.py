"""``/deliveries``: the emails written, their status and content (personal data: the agency
only), and a failed one sent again."""

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from crnt_shared.errors import NotFound
from fastapi import Query
from pydantic import BaseModel

from crnt_notifications import handlers
from crnt_notifications.api.common import AGENCY, MAX_PAGE, Runtime, router
from crnt_notifications.domain import Category, Kind, Status
from crnt_notifications.repository import Delivery, DeliveryFilters


class DeliverySummary(BaseModel):
    id: UUID
    event_id: UUID
    event_ids: list[UUID]
    recipient: str
    kind: Kind
    category: Category
    centre_id: UUID | None
    subject: str
    status: Status
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> Self:
        return cls.model_validate(delivery.__dict__)


class DeliveryDetail(DeliverySummary):
    body_text: str
    body_html: str
    unsubscribe_url: str | None


class DeliveryPage(BaseModel):
    items: list[DeliverySummary]
    total: int
    limit: int
    offset: int


@router.get(
    "/deliveries",
    tags=["deliveries"],
    dependencies=[AGENCY],
    summary="Deliveries, newest first, filtered by recipient, status, kind or event",
)
async def list_deliveries(
    runtime: Runtime,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    status: Status | None = None,
    kind: Kind | None = None,
    event: Annotated[UUID | None, Query(description="An event the email tells about.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveryPage:
    filters = DeliveryFilters(recipient, status, kind, event)
    items, total = await runtime.read(
        lambda repository: repository.deliveries(filters, limit=limit, offset=offset)
    )
    return DeliveryPage(
        items=[DeliverySummary.of(item) for item in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/deliveries/{delivery_id}",
    tags=["deliveries"],
    dependencies=[AGENCY],
    summary="One delivery, with the email's content",
)
async def get_delivery(delivery_id: UUID, runtime: Runtime) -> DeliveryDetail:
    delivery = await runtime.read(lambda repository: repository.delivery(delivery_id))
    if delivery is None:
        raise NotFound(f"There is no delivery {delivery_id}.")
    return DeliveryDetail.of(delivery)


@router.post(
    "/deliveries/{delivery_id}/retry",
    tags=["deliveries"],
    dependencies=[AGENCY],
    status_code=202,
    summary="Send a failed (or waiting) delivery again, now",
)
async def retry_delivery(delivery_id: UUID, runtime: Runtime) -> DeliveryDetail:
    updated = await runtime.run(handlers.retry_delivery, handlers.RetryDelivery(delivery_id))
    runtime.sender.wake()
    return DeliveryDetail.of(updated)
