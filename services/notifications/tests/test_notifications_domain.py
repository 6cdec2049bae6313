"""The rules without I/O: recipients, categories, coalescing, backoff, SMTP failures."""

import random
from collections import Counter
from uuid import uuid4

import aiosmtplib
from crnt_notifications.domain import (
    Arrivals,
    ArrivalSummary,
    Category,
    EpciCount,
    ExceededParticipation,
    JoinedCentre,
    Kind,
    Recipient,
    ShareChange,
    category_of,
    distinct_recipients,
    is_coalesced,
    latest_exceeded,
    new_members_for,
    share_change_reason,
    should_send,
    summarise_arrivals,
    summarise_share_changes,
)
from crnt_notifications.mailer import classify, sender_domain
from crnt_shared.retry import Backoff


def test_recipients_are_distinct_by_address_case_insensitively() -> None:
    centre = uuid4()
    people = distinct_recipients(
        [
            Recipient("Alex@Example.org", "Alex", centre),
            Recipient("alex@example.org ", "Alex bis", uuid4()),
            Recipient("sam@example.org", "Sam", centre),
            Recipient("  ", "nobody"),
        ]
    )
    assert people == [
        Recipient("alex@example.org", "Alex", centre),
        Recipient("sam@example.org", "Sam", centre),
    ]


def test_every_kind_has_a_category_and_only_four_kinds_are_coalesced() -> None:
    assert {kind for kind in Kind if is_coalesced(kind)} == {
        Kind.APPLICATIONS_IMPORTED,
        Kind.NEW_MEMBERS,
        Kind.SHARE_CHANGED,
        Kind.PARTICIPATION_EXCEEDED,
    }
    decisions = [
        Kind.MEMBERSHIP_WELCOME,
        Kind.MEMBERSHIP_REJECTED,
        Kind.MEMBERSHIP_SUSPENDED,
        Kind.MEMBERSHIP_REINSTATED,
        Kind.MEMBERSHIP_WITHDRAWN,
    ]
    assert all(
        category_of(kind) is Category.MEMBERSHIP and not is_coalesced(kind) for kind in decisions
    )


def test_opting_out_never_silences_essential_categories() -> None:
    everything = [category.value for category in Category]
    assert should_send(Category.MEMBERSHIP, everything)
    assert should_send(Category.AGENCY, everything)
    assert not should_send(Category.NETWORK, ["network"])
    assert not should_send(Category.BUDGET, ["budget"])
    assert should_send(Category.BUDGET, ["network"])


def joined(name: str) -> JoinedCentre:
    return JoinedCentre(uuid4(), name, "Arques", "CAPSO")


def test_new_members_listed_except_ones_own_centre_once_each() -> None:
    a, b, c = joined("A"), joined("B"), joined("C")
    assert new_members_for([], [a, b, a, c]) == [a, b, c]
    assert new_members_for([b.centre_id], [a, b, c]) == [a, c]
    assert new_members_for([a.centre_id], [a]) == []


def test_arrivals_are_listed_up_to_the_threshold_then_counted_by_epci() -> None:
    few = [joined(f"Lieu {n}") for n in range(3)]
    listed = Arrivals([*few, few[0]], listed_at_most=3).for_animator([])
    assert listed is not None
    assert (listed.centres, listed.summary, listed.total) == (tuple(few), None, 3)

    many = [
        JoinedCentre(uuid4(), f"Lieu {n}", "Lumbres", "CCPL" if n % 4 else "CAPSO")
        for n in range(8)
    ]
    arrivals = Arrivals(many, listed_at_most=3)
    told = arrivals.for_animator([uuid4()])
    assert told is not None
    assert told.centres == ()
    assert told.summary == ArrivalSummary(
        total=8, epcis=(EpciCount("CCPL", 6), EpciCount("CAPSO", 2)), other_epcis=0, other_centres=0
    )
    # A newcomer hears of the others: its own centre is not counted.
    own = arrivals.for_animator([many[0].centre_id])
    assert own is not None
    assert own.summary is not None
    assert own.summary.epcis == (EpciCount("CCPL", 6), EpciCount("CAPSO", 1))
    assert own.total == 7
    # At the threshold once one's own is left out, the others are named again.
    small = Arrivals(many[:4], listed_at_most=3).for_animator([many[0].centre_id])
    assert small is not None
    assert (small.centres, small.summary) == (tuple(many[1:4]), None)
    assert Arrivals(many[:1]).for_animator([many[0].centre_id]) is None


def test_a_summary_keeps_its_length_whatever_the_number_of_epcis() -> None:
    counts = Counter({f"EPCI {n:04d}": 1 + n % 7 for n in range(1250)})
    summary = summarise_arrivals(counts, lines=12)
    assert len(summary.epcis) == 11
    assert [e.count for e in summary.epcis] == [7] * 11
    assert summary.epcis[0].name == "EPCI 0006"  # the most represented, then by name
    assert summary.other_epcis == 1250 - 11
    assert summary.total == sum(counts.values())
    assert summary.total == sum(e.count for e in summary.epcis) + summary.other_centres
    exactly = summarise_arrivals(Counter({f"E{n:02d}": 1 for n in range(12)}), lines=12)
    assert (len(exactly.epcis), exactly.other_epcis) == (12, 0)


def change(version: int, amount: int, previous: int, cause: str = "x") -> ShareChange:
    return ShareChange(version, amount, previous, cause)


def test_a_burst_of_share_changes_gives_the_latest_amount_and_the_change_since() -> None:
    changes = [change(3, 900, 1000, "b"), change(2, 1000, 1200, "a"), change(4, 800, 900, "b")]
    summary = summarise_share_changes(changes, last_announced_cents=None)
    assert summary is not None
    assert (summary.version, summary.amount_cents, summary.previous_cents) == (4, 800, 1200)
    assert summary.change_cents == -400
    assert summary.causes == ("a", "b")


def test_the_change_is_counted_from_the_last_email() -> None:
    summary = summarise_share_changes([change(5, 700, 800)], last_announced_cents=1000)
    assert summary is not None
    assert (summary.previous_cents, summary.change_cents) == (1000, -300)


def test_no_email_when_the_amount_ends_where_the_last_email_left_it() -> None:
    assert summarise_share_changes([change(2, 900, 1000), change(3, 1000, 900)], None) is None
    assert summarise_share_changes([change(2, 1000, 900)], last_announced_cents=1000) is None
    assert summarise_share_changes([], None) is None


def test_share_change_reasons() -> None:
    approved = "fr.crnt.registry.membership.approved.v1"
    assert "ne fait plus partie" in share_change_reason(
        member=False, cause_kind="events", event_types=[]
    )
    assert "agence" in share_change_reason(member=True, cause_kind="manual", event_types=[])
    assert "adhésion de votre lieu" in share_change_reason(
        member=True, cause_kind="events", event_types=[approved]
    )
    assert "nouvelle répartition" in share_change_reason(
        member=True, cause_kind="events", event_types=[]
    )


def test_a_workstation_update_is_not_told_as_arrivals_or_departures() -> None:
    own = share_change_reason(member=True, cause_kind="events", event_types=[updated_type()])
    assert own == "la mise à jour du nombre de postes publics de votre lieu"
    other = share_change_reason(
        member=True, cause_kind="events", event_types=[], version_types=[updated_type()]
    )
    assert other == "la mise à jour du nombre de postes publics d'un autre lieu membre"
    assert "arrivée" not in other
    assert "départ" not in other
    leaving = share_change_reason(
        member=True,
        cause_kind="events",
        event_types=[],
        version_types=["fr.crnt.registry.membership.withdrawn.v1", updated_type()],
    )
    assert leaving.endswith("(départ de lieux du réseau)")


def updated_type() -> str:
    return "fr.crnt.registry.centre.updated.v1"


def test_the_agency_hears_the_latest_demand_of_each_epci() -> None:
    def item(version: int, siren: str, asked: int) -> ExceededParticipation:
        return ExceededParticipation(version, siren, siren, 100, asked, "1", "2026-03-12")

    latest = latest_exceeded([item(5, "b", 300), item(4, "a", 200), item(4, "b", 250)])
    assert [(e.siren, e.version, e.asked_cents) for e in latest] == [("a", 4, 200), ("b", 5, 300)]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(base_seconds=1.0, max_seconds=10.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (30, 10.0)]:
        delays = {backoff.delay(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered


def test_smtp_failures_temporary_or_permanent() -> None:
    refused = classify(aiosmtplib.SMTPConnectError("Connection refused"))
    assert (refused.permanent, refused.unreachable) == (False, True)
    assert classify(ConnectionRefusedError()).unreachable
    assert classify(aiosmtplib.SMTPServerDisconnected("gone")).unreachable
    assert not classify(aiosmtplib.SMTPResponseException(451, "try later")).permanent
    assert classify(aiosmtplib.SMTPResponseException(554, "rejected")).permanent
    assert classify(aiosmtplib.SMTPDataError(552, "too big")).permanent
    recipients = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.org")]
    )
    assert classify(recipients).permanent
    greylisted = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(450, "greylisted", "x@example.org")]
    )
    assert not classify(greylisted).permanent
    assert not classify(RuntimeError("unexpected")).permanent


def test_message_ids_use_the_senders_domain() -> None:
    assert sender_domain("crnt@aud-stomer.fr") == "aud-stomer.fr"
    assert sender_domain("CRNT <crnt@aud-stomer.fr>") == "aud-stomer.fr"
    assert sender_domain("nobody") == "crnt.invalid"  # no domain of its own
