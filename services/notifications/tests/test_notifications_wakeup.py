"""The sender is woken right after the commits that wrote mail due now, and only those: what
the repository writes raises the flag, the runtime's commit hook takes it down."""

import uuid
from datetime import timedelta
from typing import Any, cast

import pytest
from crnt_notifications.domain import Status
from crnt_notifications.repository import NewDelivery, Repository
from crnt_notifications.runtime import NotificationsRuntime
from crnt_shared.events import utcnow

from services.notifications.tests.notifications_testkit import Topics, make_settings


class QuietConnection:
    """A connection that answers every statement with nothing: what was written is not the
    point here, whether the sender is woken is."""

    async def execute(self, *_: Any) -> None:
        return None

    async def executemany(self, *_: Any) -> None:
        return None


def delivery(status: Status) -> NewDelivery:
    delivery_id = uuid.uuid4()
    return NewDelivery(
        id=delivery_id,
        event_id=uuid.uuid4(),
        event_ids=[],
        recipient="lea@arques.example",
        kind="membership_welcome",
        category="membership",
        centre_id=None,
        subject="Bienvenue",
        body_text="Bienvenue",
        body_html="<p>Bienvenue</p>",
        unsubscribe_url=None,
        status=status,
        message_id=f"<{delivery_id}@aud-stomer.example>",
    )


@pytest.fixture
def runtime() -> NotificationsRuntime:
    topics = Topics("registry", "budget", "notifications", "programme")
    return NotificationsRuntime(
        make_settings("postgresql://crnt@127.0.0.1:1/unused", "127.0.0.1:1", topics, 25, 0.0)
    )


@pytest.fixture
def woken(runtime: NotificationsRuntime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How the sender was woken: ``send`` (mail due), ``seal`` (a notice closed already)."""
    calls: list[str] = []
    monkeypatch.setattr(runtime.sender, "wake", lambda: calls.append("send"))
    monkeypatch.setattr(runtime.sender, "seal_soon", lambda: calls.append("seal"))
    return calls


def commit(runtime: NotificationsRuntime) -> None:
    """What a unit of work does after its commit: run the runtime's hooks."""
    for hook in runtime.commit_hooks:
        hook()


async def test_a_commit_that_wrote_a_pending_delivery_wakes_the_sender_once(
    runtime: NotificationsRuntime, woken: list[str]
) -> None:
    repository = Repository(cast(Any, QuietConnection()))
    await repository.insert_deliveries([delivery(Status.PENDING)])
    commit(runtime)
    assert woken == ["send"]
    commit(runtime)  # the next commit wrote nothing
    assert woken == ["send"]


async def test_commits_that_wrote_no_mail_due_now_leave_the_sender_alone(
    runtime: NotificationsRuntime, woken: list[str]
) -> None:
    repository = Repository(cast(Any, QuietConnection()))
    await repository.upsert_epci("200069300", "CA du Pays de Saint-Omer")
    commit(runtime)
    await repository.insert_deliveries([delivery(Status.SUPPRESSED)])
    commit(runtime)
    await repository.add_to_notice(
        kind="share_changed",
        key="centre",
        event_id=uuid.uuid4(),
        data={},
        open_until=utcnow() + timedelta(minutes=3),
    )
    commit(runtime)
    assert woken == []


async def test_a_notice_closed_already_and_a_delivery_sent_again_wake_the_sender(
    runtime: NotificationsRuntime, woken: list[str]
) -> None:
    repository = Repository(cast(Any, QuietConnection()))
    await repository.add_to_notice(
        kind="new_members", key="network", event_id=uuid.uuid4(), data={}, open_until=utcnow()
    )
    commit(runtime)
    await repository.requeue(uuid.uuid4())
    commit(runtime)
    assert woken == ["seal", "send"]
