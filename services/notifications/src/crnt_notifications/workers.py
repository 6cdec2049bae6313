"""The notifications service's background task, the sender: started and stopped with the
service like the other services' workers, it sends the deliveries that are due and seals the
notices whose window closed.

It is woken right after the commit of a transaction that wrote mail due now (see
:mod:`~crnt_notifications.repository.wakeup`), and polls (``poll_seconds``) for the rest:
mail written by other processes, retries coming due, windows closing. Notices are sealed at
that poll's pace (or at once when a window was closed already), not at every wake-up, a batch
(``SEAL_BATCH``) a round: the mails of tens of thousands of notices closing together go out
while the next are sealed, not after all of them.

A transaction claims a batch of due deliveries (``SEND_BATCH``, essential mail first), their
rows locked (``FOR UPDATE SKIP LOCKED``) while their emails are handed to the SMTP server,
``concurrency`` at once over the connections of the mailer's pool, so that two replicas never
send one both; then their outcomes and the events telling about them are written (a statement
for all those sent, one for all the events) and commit together (outbox). One worker claims;
while the batches come full, ``concurrency`` of them go on at once.

Delivery is at least once at the SMTP boundary: a crash after the server accepted an email
and before the commit sends it again, with the same Message-ID (one per delivery), so that
receivers can deduplicate. The window is what follows its 250 in its transaction: the rest of
its batch, the outcomes' two statements and ``COMMIT``.

When the server cannot be reached, the sender pauses (exponential backoff with jitter) instead
of burning every due delivery's attempts at once, and the commits do not cut the pause short:
an outage delays mail, and loses none. The batch's emails after those handed over together
with the one that found it unreachable are left as they were, due.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from crnt_shared.contracts.notifications import (
    DeliveryFailed,
    DeliveryFailedData,
    DeliverySent,
    DeliverySentData,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event, utcnow
from crnt_shared.retry import Backoff
from crnt_shared.tracing import sending
from crnt_shared.transient import is_transient
from crnt_shared.worker import Worker

from crnt_notifications.handlers import SEAL_BATCH, Notifier, seal_due_notices
from crnt_notifications.mailer import OutgoingMail, SendFailure, classify
from crnt_notifications.repository import Delivery, NotificationsRepository

log = structlog.get_logger(__name__)

SOURCE = "/crnt/notifications"

SendMail = Callable[[OutgoingMail], Awaitable[None]]
BuildMail = Callable[[Delivery], OutgoingMail]


#: Due deliveries one transaction claims and sends: few enough that a mail becoming due
#: meanwhile (a welcome) waits a few milliseconds for a worker, enough to share the statements.
SEND_BATCH = 10


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
        self._topic = topic
        self._concurrency = concurrency
        self._outages = 0
        #: When the pause of an unreachable server ends, when notices are sealed next
        #: (monotonic clock).
        self._paused_until = 0.0
        self._next_seal = 0.0
        super().__init__("notifications-sender", poll_seconds=poll_seconds)

    def seal_soon(self) -> None:
        """A notice's window is closed: wake the sender to seal it now, not at its next poll."""
        self._next_seal = 0.0
        self.wake()

    async def round(self) -> float:
        pause = await self.send_due()
        sealed = 0
        # Windows close by the clock: sealing goes with the poll, not with every wake-up (a
        # transaction of its own, which the next welcome would wait for). A full batch sealed:
        # more are due, sealed in the next round, once this one's mails are on their way.
        if time.monotonic() >= self._next_seal:
            sealed = await self.seal_due()
            more = sealed >= SEAL_BATCH
            self._next_seal = 0.0 if more else time.monotonic() + self.poll_seconds
        if pause is not None:
            return pause
        return 0.0 if sealed else self.poll_seconds  # the sealed notices' mails: at once

    async def failed(self, error: Exception, retry_in: float) -> None:
        if is_transient(error):
            log.warning("sender: database unavailable", error=repr(error), retry_in=retry_in)
        else:
            log.exception("sender: unexpected error", retry_in=retry_in)

    async def seal_due(self) -> int:
        """Seal a batch of the notices whose window closed; returns how many were sealed."""
        async with self._unit_of_work() as uow:
            sealed = await seal_due_notices(uow, self._notifier)
            await uow.commit()
        return sealed

    async def send_due(self) -> float | None:
        """Send every due delivery; returns how long to pause when the server is unreachable
        (what is left of the pause, sending nothing, while it lasts). One worker claims first:
        ``concurrency`` of them go on while its batch came full."""
        paused = self._paused_until - time.monotonic()
        if paused > 0:
            return paused
        claimed, pause = await self._send_batch()
        if pause is not None or claimed < SEND_BATCH:
            return pause
        pauses = await asyncio.gather(*(self._drain() for _ in range(self._concurrency)))
        return max((p for p in pauses if p is not None), default=None)

    async def _drain(self) -> float | None:
        while self._paused_until <= time.monotonic():  # another worker found it unreachable
            claimed, pause = await self._send_batch()
            if pause is not None or claimed < SEND_BATCH:
                return pause
        return self._paused_until - time.monotonic()

    async def _send_batch(self) -> tuple[int, float | None]:
        """Claim a batch, hand its emails over, write what came of each; returns how many were
        claimed, and the pause when the server was unreachable."""
        async with self._unit_of_work() as uow:
            repository = uow.repository
            batch = await repository.claim_due(SEND_BATCH)
            if not batch:
                return 0, None
            sent: list[Delivery] = []
            events: list[Event] = []
            unreachable: SendFailure | None = None
            # ``concurrency`` emails handed over at once, each over a connection of the pool:
            # a slow server is not waited for one mail after another.
            for start in range(0, len(batch), self._concurrency):
                wave = batch[start : start + self._concurrency]
                failures = await asyncio.gather(*(self._attempt(d) for d in wave))
                for delivery, failure in zip(wave, failures, strict=True):
                    if failure is None:
                        sent.append(delivery)
                        events.append(self._sent(delivery))
                        continue
                    event = await self._record_failure(delivery, failure, repository)
                    if event is not None:
                        events.append(event)
                    if failure.unreachable:
                        unreachable = failure
                if unreachable is not None:
                    break  # the rest stays as it was, due
            if sent:
                await repository.mark_sent([delivery.id for delivery in sent])
            await uow.publish_many(events, topic=self._topic)
            await uow.commit()
        if sent:
            self._outages = 0
            log.info(
                "deliveries sent",
                delivery_ids=[str(delivery.id) for delivery in sent],
                kinds=sorted({delivery.kind for delivery in sent}),
            )
        if unreachable is None:
            return len(batch), None
        self._outages += 1
        pause = self._backoff.delay(self._outages)
        self._paused_until = time.monotonic() + pause
        log.warning("SMTP server unreachable, pausing", error=unreachable.reason, pause=pause)
        return len(batch), pause

    async def _attempt(self, delivery: Delivery) -> SendFailure | None:
        """Hand the delivery's email over. An email that cannot even be built fails alone, as
        a refusal would: raising would roll back what the batch sent before it."""
        try:
            mail = self._build(delivery)
            with sending(str(delivery.event_id), delivery.kind):
                await self._send(mail)
        except Exception as error:
            return classify(error)
        return None

    async def _record_failure(
        self, delivery: Delivery, failure: SendFailure, repository: NotificationsRepository
    ) -> DeliveryFailed | None:
        """The delivery failed for good (its event, returned) or will be retried later."""
        attempts = delivery.attempts + 1
        bound = log.bind(delivery_id=str(delivery.id), kind=delivery.kind, attempt=attempts)
        if failure.permanent or attempts >= self._max_attempts:
            await repository.mark_failed(delivery.id, attempts, failure.reason)
            bound.error("delivery failed", error=failure.reason, permanent=failure.permanent)
            return self._failed(delivery, attempts, failure)
        delay = self._backoff.delay(attempts)
        await repository.mark_retrying(delivery.id, attempts, delay, failure.reason)
        bound.warning("delivery will be retried", error=failure.reason, retry_in=delay)
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

    def _sent(self, delivery: Delivery) -> DeliverySent:
        data = DeliverySentData.model_validate(
            {**self._common(delivery, delivery.attempts + 1), "message_id": delivery.message_id}
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
