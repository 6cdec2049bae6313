"""The notifications' use cases beyond one mail, on the fake unit of work (no PostgreSQL, no
Kafka, no SMTP): the new-members announcement and who opted out of it, what people ask through
the API (preferences, an unsubscribe link, an address confirmed, a delivery sent again), the
erasure of a person, and the sender's handing over of a due delivery."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import pytest
from crnt_notifications import handlers
from crnt_notifications.domain import Category, Kind, Status
from crnt_notifications.handlers import Notifier, on_membership_changed, on_person_erased
from crnt_notifications.mailer import OutgoingMail
from crnt_notifications.repository import Delivery
from crnt_notifications.workers import DeliverySender
from crnt_shared.auth import person_id_for
from crnt_shared.contracts.notifications import AddressConfirmed, DeliverySent
from crnt_shared.contracts.registry import (
    MembershipApproved,
    MembershipSuspended,
    PersonErased,
    PersonErasedData,
)
from crnt_shared.erasure import ERASED_DOMAIN, address_digest, new_salt
from crnt_shared.errors import Conflict, NotFound
from crnt_shared.events import utcnow
from crnt_shared.retry import Backoff

from services.notifications.tests.fakes import (
    FakeNotificationsRepository,
    NotificationsWork,
    unit_notifier,
    unit_of_work,
)
from services.notifications.tests.notifications_testkit import (
    AGENCY_EMAIL,
    animators,
    centre,
    membership,
    with_status,
)

WINDOW = timedelta(minutes=5)


@pytest.fixture
def notifier() -> Notifier:
    return unit_notifier(WINDOW)


async def approve(
    memory: FakeNotificationsRepository, notifier: Notifier, nom: str, *emails: str
) -> None:
    facts = with_status(centre(nom, commune=nom), "member")
    event = membership(MembershipApproved, facts, animators(*emails), previous="pending")
    await on_membership_changed(cast(Any, event), unit_of_work(memory), notifier)


def close_windows(memory: FakeNotificationsRepository) -> None:
    for notice in memory.notices.values():
        notice.open_until = utcnow() - timedelta(seconds=1)


def mails_of(memory: FakeNotificationsRepository, kind: Kind) -> dict[str, Delivery]:
    return {mail.recipient: mail for mail in memory.mails if mail.kind == kind}


# The new-members announcement, and who opted out of it


async def test_sealing_the_new_members_notice_tells_each_centre_of_the_others(
    notifier: Notifier,
) -> None:
    memory = FakeNotificationsRepository()
    await handlers.set_preferences(
        handlers.SetPreferences("Noe@Wizernes.example", [Category.NETWORK]), unit_of_work(memory)
    )
    await approve(memory, notifier, "Arques", "lea@arques.example")
    await approve(memory, notifier, "Wizernes", "noe@wizernes.example")
    work = unit_of_work(memory)
    assert await handlers.seal_due_notices(work, notifier) == 0  # the window is still open

    close_windows(memory)
    assert await handlers.seal_due_notices(work, notifier) == 1

    announcements = mails_of(memory, Kind.NEW_MEMBERS)
    assert sorted(announcements) == ["lea@arques.example", "noe@wizernes.example"]
    lea, noe = announcements["lea@arques.example"], announcements["noe@wizernes.example"]
    assert "Wizernes" in lea.body_text
    assert "Arques" not in lea.body_text  # one's own centre is no news to oneself
    assert lea.status == Status.PENDING
    assert lea.unsubscribe_url is not None
    assert noe.status == Status.SUPPRESSED  # opted out of the network's news
    # The welcomes are essential: the one who opted out of news still gets hers.
    assert mails_of(memory, Kind.MEMBERSHIP_WELCOME)["noe@wizernes.example"].status == "pending"
    assert await handlers.seal_due_notices(work, notifier) == 0  # sealed once


# What people ask through the API


async def test_preferences_are_set_whole_and_an_unsubscribe_link_adds_one() -> None:
    memory = FakeNotificationsRepository()
    work = unit_of_work(memory)
    stored = await handlers.set_preferences(
        handlers.SetPreferences("Ana@Lumbres.example", [Category.PROGRAMME, Category.BUDGET]),
        work,
    )
    assert stored.opted_out == ["budget", "programme"]
    assert stored.updated_at is not None
    assert work.committed

    await handlers.opt_out(handlers.OptOut("ana@lumbres.example", Category.NETWORK), work)
    assert (await memory.preferences("ana@lumbres.example"))[0] == [
        "budget",
        "network",
        "programme",
    ]

    stored = await handlers.set_preferences(
        handlers.SetPreferences("ana@lumbres.example", []), unit_of_work(memory)
    )
    assert stored.opted_out == []


async def test_an_address_confirms_its_application_once_however_often_it_clicks() -> None:
    memory = FakeNotificationsRepository()
    application_id = uuid.uuid4()
    command = handlers.ConfirmAddress(application_id, "Max@Fauq.example", topic="notifications")
    first, again = unit_of_work(memory), unit_of_work(memory)

    assert await handlers.confirm_address(command, first)
    assert not await handlers.confirm_address(command, again)

    [published] = first.published
    assert isinstance(published.event, AddressConfirmed)
    assert published.topic == "notifications"
    assert (published.event.data.application_id, published.event.data.email) == (
        application_id,
        "Max@Fauq.example",
    )
    assert again.committed
    assert not again.published


async def test_only_a_failed_or_retrying_delivery_is_sent_again(notifier: Notifier) -> None:
    memory = FakeNotificationsRepository()
    with pytest.raises(NotFound):
        await handlers.retry_delivery(handlers.RetryDelivery(uuid.uuid4()), unit_of_work(memory))
    await approve(memory, notifier, "Arques", "lea@arques.example")
    [welcome] = memory.mails
    refused = unit_of_work(memory)
    with pytest.raises(Conflict) as conflict:
        await handlers.retry_delivery(handlers.RetryDelivery(welcome.id), refused)
    assert conflict.value.details == {"current_status": "pending"}
    assert refused.untouched

    await memory.mark_failed(welcome.id, 5, "SMTPResponseException: 554")
    retried = await handlers.retry_delivery(
        handlers.RetryDelivery(welcome.id), unit_of_work(memory)
    )
    assert (retried.status, retried.attempts) == (Status.PENDING, 0)
    assert [due.id for due in await memory.claim_due(10)] == [welcome.id]


# Erasure


async def test_an_erased_person_is_forgotten_and_their_mails_pseudonymised(
    notifier: Notifier,
) -> None:
    memory = FakeNotificationsRepository()
    facts = centre("EPN de Lumbres", status="suspended", commune="Lumbres")
    team = animators("dominique@lumbres.example", "ana@lumbres.example")
    event = membership(MembershipSuspended, facts, team, previous="member")
    await handlers.set_preferences(
        handlers.SetPreferences("dominique@lumbres.example", [Category.BUDGET]),
        unit_of_work(memory),
    )
    await on_membership_changed(cast(Any, event), unit_of_work(memory), notifier)
    assert len(memory.mails) == 3  # the two animators, the agency

    salt = new_salt()
    erased = PersonErased.create(
        source="/crnt/registry",
        subject=str(facts.id),
        data=PersonErasedData(
            animator_id=uuid.uuid4(),  # not one the read model knows: found by its digest
            centre_id=facts.id,
            person_id=person_id_for("dominique@lumbres.example"),
            salt=salt,
            email_digest=address_digest("Dominique@Lumbres.example", salt),
            at=utcnow(),
        ),
    )
    await on_person_erased(erased, unit_of_work(memory), notifier)

    assert [p.email for p in await memory.animators_of(facts.id)] == ["ana@lumbres.example"]
    assert await memory.preferences("dominique@lumbres.example") == ([], None)
    recipients = {mail.recipient for mail in memory.mails}
    assert "dominique@lumbres.example" not in recipients
    assert {"ana@lumbres.example", AGENCY_EMAIL} < recipients
    [pseudonym] = [mail for mail in memory.mails if mail.recipient.endswith(ERASED_DOMAIN)]
    assert (pseudonym.subject, pseudonym.body_text, pseudonym.status) == ("", "", "suppressed")
    # The agency's mail named the whole team: it is blanked (and no longer sent).
    agency = mails_of(memory, Kind.AGENCY_MEMBERSHIP_CHANGED)[AGENCY_EMAIL]
    assert "dominique" not in (agency.subject + agency.body_text + agency.body_html).lower()
    assert mails_of(memory, Kind.MEMBERSHIP_SUSPENDED)["ana@lumbres.example"].body_text


# The sender


def sender_over(
    memory: FakeNotificationsRepository,
    notifier: Notifier,
    *,
    down_at: int | None = None,
    build: Callable[[Delivery], OutgoingMail] = lambda delivery: cast(OutgoingMail, delivery),
) -> tuple[DeliverySender, list[NotificationsWork], list[OutgoingMail]]:
    """A sender over ``memory``, the units of work it opened and the mails it handed over (the
    ``down_at``-th found the server unreachable); its "mail" is the delivery itself."""
    works: list[NotificationsWork] = []
    handed: list[OutgoingMail] = []

    def work() -> NotificationsWork:
        works.append(unit_of_work(memory))
        return works[-1]

    async def send(mail: OutgoingMail) -> None:
        handed.append(mail)
        if len(handed) == down_at:
            raise ConnectionRefusedError("the server is down")

    sender = DeliverySender(
        unit_of_work=cast(Any, work),
        notifier=notifier,
        build=build,
        send=send,
        backoff=Backoff(1.0, 30.0),
        max_attempts=5,
        poll_seconds=1.0,
        topic="notifications",
    )
    return sender, works, handed


async def test_the_sender_hands_a_due_delivery_over_and_tells_it_was_sent(
    notifier: Notifier,
) -> None:
    memory = FakeNotificationsRepository()
    await approve(memory, notifier, "Arques", "lea@arques.example")
    [welcome] = memory.mails
    sender, works, handed = sender_over(memory, notifier)

    assert await sender.send_due() is None

    assert handed == [cast(OutgoingMail, welcome)]
    sent = await memory.delivery(welcome.id)
    assert sent is not None
    assert (sent.status, sent.attempts) == (Status.SENT, 1)
    [told] = [item for w in works for item in w.published]
    assert isinstance(told.event, DeliverySent)
    assert told.topic == "notifications"
    # The Message-ID that the receiver deduplicates with is the delivery's own, sent again alike.
    assert told.event.data.message_id == welcome.message_id == f"<{welcome.id}@aud-stomer.example>"
    assert all(w.committed for w in works if w.published)
    assert await sender.send_due() is None
    assert len(handed) == 1  # nothing due any more


async def test_an_unreachable_server_stops_the_batch_and_pauses_the_sender(
    notifier: Notifier,
) -> None:
    memory = FakeNotificationsRepository()
    await approve(memory, notifier, "Arques", *(f"p{n}@arques.example" for n in range(3)))
    sender, works, handed = sender_over(memory, notifier, down_at=2)

    pause = await sender.send_due()

    assert pause is not None
    assert pause > 0
    first, second, third = (cast(Delivery, mail).id for mail in [*handed, memory.mails[2]])
    assert len(handed) == 2, "nothing after the unreachable one"
    states = {}
    for delivery_id in (first, second, third):
        delivery = await memory.delivery(delivery_id)
        assert delivery is not None
        states[delivery_id] = (delivery.status, delivery.attempts)
    assert states == {
        first: (Status.SENT, 1),
        second: (Status.RETRYING, 1),
        third: (Status.PENDING, 0),  # never tried: no attempt spent
    }
    [told] = [item.event for w in works for item in w.published]
    assert isinstance(told, DeliverySent)
    assert told.data.delivery_id == first
    assert all(w.committed for w in works if w.published)

    # Woken meanwhile (a commit wrote a welcome), it still waits for the server.
    sender.wake()
    assert await sender.round() > 0
    assert len(handed) == 2


async def test_the_sender_seals_at_its_poll_pace_or_at_once_when_a_window_closed(
    notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = FakeNotificationsRepository()
    sender, _, _ = sender_over(memory, notifier)
    looked: list[int] = []
    lock_due_notices = memory.lock_due_notices

    async def counted(limit: int) -> list[Any]:
        looked.append(limit)
        return await lock_due_notices(limit)

    monkeypatch.setattr(memory, "lock_due_notices", counted)
    await sender.round()
    sender.wake()  # a welcome, say: sent at once, no notice to look for before the next poll
    await sender.round()
    assert len(looked) == 1
    sender.seal_soon()
    await sender.round()
    assert len(looked) == 2


async def test_an_email_that_cannot_be_built_waits_alone_and_the_batch_goes_on(
    notifier: Notifier,
) -> None:
    memory = FakeNotificationsRepository()
    await approve(memory, notifier, "Arques", "bad@arques.example", "lea@arques.example")
    bad, good = memory.mails

    def build(delivery: Delivery) -> OutgoingMail:
        if delivery.id == bad.id:
            raise ValueError("no such template")
        return cast(OutgoingMail, delivery)

    sender, works, handed = sender_over(memory, notifier, build=build)

    assert await sender.send_due() is None

    assert [cast(Delivery, mail).id for mail in handed] == [good.id]
    failed, sent = await memory.delivery(bad.id), await memory.delivery(good.id)
    assert failed is not None
    assert sent is not None
    assert (failed.status, failed.attempts) == (Status.RETRYING, 1)
    assert failed.last_error == "ValueError: no such template"
    assert (sent.status, sent.attempts) == (Status.SENT, 1)
    assert all(w.committed for w in works if w.published)
