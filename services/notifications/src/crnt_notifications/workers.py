"""The notifications service's background task, the sender: started and stopped with the
service like the other services' workers, it seals the notices whose window closed and
sends the deliveries that are due, one transaction per email.

Several workers send at once (``concurrency``), each over a connection of the mailer's pool;
each takes a different delivery. The delivery's row stays locked (``FOR UPDATE SKIP LOCKED``)
while its email is handed to the SMTP server, so that two replicas never send it both; its new
status and the event telling about it commit together (outbox).

Delivery is at least once at the SMTP boundary: a crash after the server accepted the email
and before the commit sends it again, with the same Message-ID (one per delivery), so that
receivers can deduplicate. The window is kept to the commit alone: the status ``sent`` and
its event are written before the email is handed over, under a savepoint that is rolled back
should the server refuse it; once the server has said 250, only ``COMMIT`` remains.

When the server cannot be reached, the sender pauses (exponential backoff with jitter) instead
of burning every due delivery's attempts at once: an outage delays mail, and loses none.
"""

import asyncio
from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog
from crnt_shared.contracts.notifications import (
    DeliveryFailed,
    DeliveryFailedData,
    DeliverySent,
    DeliverySentData,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import utcnow
from crnt_shared.retry import Backoff
from crnt_shared.tracing import sending
from crnt_shared.transient import is_transient
from crnt_shared.worker import Worker

from crnt_notifications.handlers import Notifier, seal_due_notices
from crnt_notifications.mailer import OutgoingMail, SendFailure, classify
from crnt_notifications.repository import Delivery, NotificationsRepository

log = structlog.get_logger(__name__)

SOURCE = "/crnt/notifications"

SendMail = Callable[[OutgoingMail], Awaitable[None]]
BuildMail = Callable[[Delivery], OutgoingMail]


#: The shortest time between two cycles of the sender, woken or not.
MIN_CYCLE_SECONDS = 0.05
#: Due deliveries looked up at once, then taken one by one: a mail that becomes due meanwhile
#: (a welcome) waits for these few, a fraction of a second.
DUE_BATCH = 50


class DeliverySender(Worker):
    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork[NotificationsRepository]],
        notifier: Notifier,
        build: BuildMail,
        send: SendMail,
        backoff: Backoff,
        max_attempts: int,
        poll_seconds: float,
        topic: str,
        concurrency: int = 1,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._notifier = notifier
        self._build = build
        self._send = send
        self._backoff = backoff
        self.retry = backoff
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._topic = topic
        self._concurrency = concurrency
        self._outages = 0
        self._due: list[UUID] = []
        super().__init__("notifications-sender")

    async def round(self) -> float:
        await self.seal_due()
        pauses = await asyncio.gather(*(self.send_due() for _ in range(self._concurrency)))
        # Every commit of the consumer wakes the sender: at hundreds of events a second, a
        # short breather between cycles keeps it from querying for each one.
        await asyncio.sleep(MIN_CYCLE_SECONDS)
        pause = max((p for p in pauses if p is not None), default=self._poll_seconds)
        return max(pause - MIN_CYCLE_SECONDS, 0.0)

    async def failed(self, error: Exception, retry_in: float) -> None:
        if is_transient(error):
            log.warning("sender: database unavailable", error=repr(error), retry_in=retry_in)
        else:
            log.exception("sender: unexpected error", retry_in=retry_in)

    async def seal_due(self) -> int:
        total = 0
        while True:
            async with self._unit_of_work() as uow:
                sealed = await seal_due_notices(uow, self._notifier)
                await uow.commit()
            total += sealed
            if not sealed:
                return total

    async def send_due(self) -> float | None:
        """Send every due delivery; returns how long to pause when the server is unreachable.
        The workers share the list of the next due ones, each taking the next it can lock."""
        while True:
            async with self._unit_of_work() as uow:
                repository = uow.repository
                if not self._due:
                    self._due = await repository.due_deliveries(DUE_BATCH)
                    if not self._due:
                        return None
                delivery = await repository.lock_if_due(self._due.pop(0))
                if delivery is None:
                    continue  # sent meanwhile, or another sender's now
                failure = await self._attempt(delivery, repository, uow)
                await uow.commit()
            if failure is None:
                self._outages = 0
                log.info("delivery sent", delivery_id=str(delivery.id), kind=delivery.kind)
            elif failure.unreachable:
                self._outages += 1
                pause = self._backoff.delay(self._outages)
                log.warning("SMTP server unreachable, pausing", error=failure.reason, pause=pause)
                return pause

    async def _attempt(
        self,
        delivery: Delivery,
        repository: NotificationsRepository,
        uow: UnitOfWork[NotificationsRepository],
    ) -> SendFailure | None:
        attempts = delivery.attempts + 1
        mail = self._build(delivery)
        await repository.savepoint()
        await repository.mark_sent(delivery.id, attempts)
        await uow.publish(self._sent(delivery, attempts), topic=self._topic)
        try:
            with sending(str(delivery.event_id), delivery.kind):
                await self._send(mail)
        except Exception as error:
            await repository.rollback_to_savepoint()
            failure = classify(error)
            bound = log.bind(delivery_id=str(delivery.id), kind=delivery.kind, attempt=attempts)
            if failure.permanent or attempts >= self._max_attempts:
                await repository.mark_failed(delivery.id, attempts, failure.reason)
                await uow.publish(self._failed(delivery, attempts, failure), topic=self._topic)
                bound.error("delivery failed", error=failure.reason, permanent=failure.permanent)
            else:
                delay = self._backoff.delay(attempts)
                await repository.mark_retrying(delivery.id, attempts, delay, failure.reason)
                bound.warning("delivery will be retried", error=failure.reason, retry_in=delay)
            return failure
        return None

    def _common(self, delivery: Delivery, attempts: int) -> dict[str, object]:
        return {
            "delivery_id": delivery.id,
            "kind": delivery.kind,
            "category": delivery.category,
            "recipient": delivery.recipient,
            "event_id": delivery.event_id,
            "event_ids": delivery.event_ids,
            "centre_id": delivery.centre_id,
            "notice_id": delivery.notice_id,
            "attempts": attempts,
            "at": utcnow(),
        }

    def _sent(self, delivery: Delivery, attempts: int) -> DeliverySent:
        data = DeliverySentData.model_validate(
            {**self._common(delivery, attempts), "message_id": delivery.message_id}
        )
        return DeliverySent.create(source=SOURCE, subject=str(delivery.id), data=data)

    def _failed(self, delivery: Delivery, attempts: int, failure: SendFailure) -> DeliveryFailed:
        data = DeliveryFailedData.model_validate(
            {
                **self._common(delivery, attempts),
                "error": failure.reason,
                "permanent": failure.permanent,
            }
        )
        return DeliveryFailed.create(source=SOURCE, subject=str(delivery.id), data=data)
