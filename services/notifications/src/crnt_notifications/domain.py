"""The rules of who hears what, coalescing and retrying: no I/O here."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from crnt_shared.contracts.programme import AXES
from crnt_shared.vocabularies import DeliveryStatus, MailKind

#: A delivery's status, the notifications API's own word for it.
Status = DeliveryStatus


class Category(StrEnum):
    """What an email is about; a person can opt out of the categories that are not essential."""

    MEMBERSHIP = "membership"  # decisions about one's own centre: always sent
    AGENCY = "agency"  # the agency's work: applications and membership changes
    NETWORK = "network"  # new members of the network
    BUDGET = "budget"  # one's centre's dotation
    PROGRAMME = "programme"  # the work programme and its actions

    @property
    def essential(self) -> bool:
        return self in ESSENTIAL


ESSENTIAL = frozenset({Category.MEMBERSHIP, Category.AGENCY})
OPTIONAL_CATEGORIES = tuple(category for category in Category if not category.essential)


#: One kind of email: one template (subject, text, HTML); the vocabulary is shared with the CLI.
Kind = MailKind

#: The kinds gathered within a window into one mail per recipient.
COALESCED = frozenset(
    {
        Kind.APPLICATIONS_IMPORTED,
        Kind.NEW_MEMBERS,
        Kind.SHARE_CHANGED,
        Kind.PARTICIPATION_EXCEEDED,
    }
)


def category_of(kind: Kind) -> Category:
    return KIND_CATEGORY[kind]


def is_coalesced(kind: Kind) -> bool:
    return kind in COALESCED


KIND_CATEGORY = {
    # The one mail an address named in an anonymous application receives before it confirms.
    Kind.ADDRESS_CONFIRMATION: Category.MEMBERSHIP,
    Kind.APPLICATION_RECEIVED: Category.AGENCY,
    # The applications a CSV import deposited, one mail for those of a window.
    Kind.APPLICATIONS_IMPORTED: Category.AGENCY,
    Kind.APPLICATION_ACKNOWLEDGED: Category.MEMBERSHIP,
    Kind.MEMBERSHIP_WELCOME: Category.MEMBERSHIP,
    Kind.MEMBERSHIP_REJECTED: Category.MEMBERSHIP,
    Kind.MEMBERSHIP_SUSPENDED: Category.MEMBERSHIP,
    Kind.MEMBERSHIP_REINSTATED: Category.MEMBERSHIP,
    Kind.MEMBERSHIP_WITHDRAWN: Category.MEMBERSHIP,
    Kind.AGENCY_MEMBERSHIP_CHANGED: Category.AGENCY,
    # An animator added or removed a colleague: the agency is told.
    Kind.AGENCY_TEAM_CHANGED: Category.AGENCY,
    Kind.NEW_MEMBERS: Category.NETWORK,
    Kind.SHARE_CHANGED: Category.BUDGET,
    Kind.PROGRAMME_VALIDATED: Category.PROGRAMME,
    Kind.ACTION_STATUS_CHANGED: Category.PROGRAMME,
    Kind.PARTICIPATION_EXCEEDED: Category.AGENCY,
}


#: Centres whose animators hear the network's news and their budget share.
HEARING_STATUSES = frozenset({"member", "suspended"})
#: Centres whose animators hear the validated work programme: the members (a suspended centre
#: leaves the network's actions and no longer receives its general information).
PROGRAMME_STATUSES = frozenset({"member"})


def normalise_email(address: str) -> str:
    return address.strip().lower()


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None = None
    centre_id: UUID | None = None


def distinct_recipients(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One recipient per address (case-insensitive), the first seen kept, order preserved."""
    seen: set[str] = set()
    result = []
    for recipient in recipients:
        key = normalise_email(recipient.email)
        if key and key not in seen:
            seen.add(key)
            result.append(Recipient(key, recipient.name, recipient.centre_id))
    return result


def should_send(category: Category, opted_out: Iterable[str]) -> bool:
    """Essential categories are always sent; the others unless the recipient opted out."""
    return category.essential or category.value not in set(opted_out)


# Coalescing


@dataclass(frozen=True)
class JoinedCentre:
    """One approval in a new-members announcement."""

    centre_id: UUID
    nom: str
    commune: str
    epci_name: str


def new_members_for(
    own_centres: Iterable[UUID], joined: Sequence[JoinedCentre]
) -> list[JoinedCentre]:
    """The centres an animator is told about: those that joined, except their own, once each."""
    own = set(own_centres)
    listed: dict[UUID, JoinedCentre] = {}
    for centre in joined:
        if centre.centre_id not in own:
            listed.setdefault(centre.centre_id, centre)
    return list(listed.values())


#: Above this many places, a new-members mail counts them by EPCI and links to their list on
#: the web instead of naming each one (a national import would list thousands).
NEW_MEMBERS_LISTED_AT_MOST = 20
#: A summary names at most this many EPCIs, the most represented; the others make one line.
SUMMARY_EPCI_LINES = 12


@dataclass(frozen=True)
class EpciCount:
    name: str
    count: int


@dataclass(frozen=True)
class ArrivalSummary:
    """What a summarised new-members mail says: how many arrived, by EPCI (the most first),
    and the rest in one line (``other_epcis`` EPCIs, ``other_centres`` places)."""

    total: int
    epcis: tuple[EpciCount, ...]
    other_epcis: int
    other_centres: int


@dataclass(frozen=True)
class Announcement:
    """A new-members mail: the places named one by one, or a summary when there are many."""

    centres: tuple[JoinedCentre, ...]
    summary: ArrivalSummary | None

    @property
    def total(self) -> int:
        return self.summary.total if self.summary else len(self.centres)


def summarise_arrivals(counts: Counter[str], *, lines: int = SUMMARY_EPCI_LINES) -> ArrivalSummary:
    """Counts by EPCI name, the largest first (then by name); beyond ``lines`` EPCIs, the
    smallest are one line, so that the summary keeps its length whatever the import."""
    ranked = sorted(((name, n) for name, n in counts.items() if n > 0), key=lambda i: (-i[1], i[0]))
    shown = ranked if len(ranked) <= lines else ranked[: lines - 1]
    rest = ranked[len(shown) :]
    return ArrivalSummary(
        total=sum(n for _, n in ranked),
        epcis=tuple(EpciCount(name, n) for name, n in shown),
        other_epcis=len(rest),
        other_centres=sum(n for _, n in rest),
    )


class Arrivals:
    """The centres of one coalesced new-members notice, counted once for every recipient:
    each animator hears of those that joined except their own (:func:`new_members_for`),
    named when at most ``listed_at_most``, summarised by EPCI beyond."""

    def __init__(
        self, joined: Sequence[JoinedCentre], *, listed_at_most: int = NEW_MEMBERS_LISTED_AT_MOST
    ) -> None:
        self.centres = {centre.centre_id: centre for centre in new_members_for((), joined)}
        self.listed_at_most = listed_at_most
        self.by_epci = Counter(centre.epci_name for centre in self.centres.values())
        self._summary = summarise_arrivals(self.by_epci)

    def for_animator(self, own_centres: Iterable[UUID]) -> Announcement | None:
        """What one animator is told; ``None`` when nothing (only their own centre joined)."""
        own = [self.centres[c] for c in set(own_centres) if c in self.centres]
        count = len(self.centres) - len(own)
        if count == 0:
            return None
        if count <= self.listed_at_most:
            mine = {centre.centre_id for centre in own}
            listed = tuple(c for c in self.centres.values() if c.centre_id not in mine)
            return Announcement(listed, None)
        if not own:
            return Announcement((), self._summary)
        counts = self.by_epci.copy()
        counts.subtract(centre.epci_name for centre in own)
        return Announcement((), summarise_arrivals(counts))


@dataclass(frozen=True)
class ShareChange:
    """One share-changed event of a centre, as it was received."""

    version: int
    amount_cents: int
    previous_cents: int
    cause: str


@dataclass(frozen=True)
class ShareSummary:
    """What one coalesced email says: the latest amount and the change since the last email."""

    version: int
    amount_cents: int
    previous_cents: int
    causes: tuple[str, ...]

    @property
    def change_cents(self) -> int:
        return self.amount_cents - self.previous_cents


def summarise_share_changes(
    changes: Sequence[ShareChange], last_announced_cents: int | None
) -> ShareSummary | None:
    """The summary of a window's changes, ``None`` when the amount ends where the last email
    left it (it went up and back down, or nothing changed)."""
    if not changes:
        return None
    ordered = sorted(changes, key=lambda change: change.version)
    latest = ordered[-1]
    previous = ordered[0].previous_cents if last_announced_cents is None else last_announced_cents
    if latest.amount_cents == previous:
        return None
    causes = tuple(dict.fromkeys(change.cause for change in ordered if change.cause))
    return ShareSummary(latest.version, latest.amount_cents, previous, causes)


# The work programme


def ordered_axes(axes: Iterable[str]) -> list[str]:
    """The axes in the order of the deliberation, then those added later (alphabetically)."""
    given = set(axes)
    known = [axis for axis in AXES if axis in given]
    return known + sorted(given - set(AXES))


def axis_rank(axis: str) -> int:
    return AXES.index(axis) if axis in AXES else len(AXES)


def status_change_is_told(previous_status: str, status: str) -> bool:
    """Whether the centres of an action hear of its new state by an email of its own.

    ``proposed → planned`` is the adoption of the action: the validation of the programme makes
    it (one status change per proposed action), and the programme-validated email, which lists
    every centre's actions, tells it; an email per adopted action would only repeat it. Every
    later change (started, done, cancelled) is told.
    """
    return not (previous_status == "proposed" and status == "planned") and previous_status != status


# Why a dotation changed, in the words of the email

_APPROVED = "fr.crnt.registry.membership.approved"
_REINSTATED = "fr.crnt.registry.membership.reinstated"
_ARRIVALS = {_APPROVED, _REINSTATED}
_DEPARTURES = {"fr.crnt.registry.membership.suspended", "fr.crnt.registry.membership.withdrawn"}
_UPDATED = "fr.crnt.registry.centre.updated"


def _unversioned(types: Iterable[str]) -> set[str]:
    return {event_type.rsplit(".", 1)[0] for event_type in types}


def share_change_reason(
    *,
    member: bool,
    cause_kind: str,
    event_types: Iterable[str],
    version_types: Iterable[str] = (),
) -> str:
    """One sentence saying why a centre's dotation changed, from the budget's ``cause``: the
    centre's own events (``event_types``) first, then those of the whole version."""
    if not member:
        return "votre lieu ne fait plus partie de la répartition des dotations"
    if cause_kind == "manual":
        return "le budget ou ses clés de répartition ont été modifiés par l'agence"
    own = _unversioned(event_types)
    if _APPROVED in own:
        return "l'adhésion de votre lieu au réseau"
    if _REINSTATED in own:
        return "le rétablissement de l'adhésion de votre lieu"
    if _UPDATED in own:
        return "la mise à jour du nombre de postes publics de votre lieu"
    version = _unversioned(version_types)
    arrivals, departures = bool(version & _ARRIVALS), bool(version & _DEPARTURES)
    updates = _UPDATED in version
    if updates and not (arrivals or departures):
        return "la mise à jour du nombre de postes publics d'un autre lieu membre"
    if arrivals and departures:
        return "une nouvelle répartition entre les lieux membres (arrivées et départs)"
    if arrivals:
        return "une nouvelle répartition entre les lieux membres (arrivée de nouveaux lieux)"
    if departures:
        return "une nouvelle répartition entre les lieux membres (départ de lieux du réseau)"
    return "une nouvelle répartition entre les lieux membres"


@dataclass(frozen=True)
class ExceededParticipation:
    """One EPCI asked more than its council voted, in one version."""

    version: int
    siren: str
    name: str
    voted_cents: int
    asked_cents: int
    deliberation_number: str
    deliberation_date: str


def latest_exceeded(items: Iterable[ExceededParticipation]) -> list[ExceededParticipation]:
    """Per EPCI, what the latest version of the window asks, by name."""
    latest: dict[str, ExceededParticipation] = {}
    for item in sorted(items, key=lambda i: i.version):
        latest[item.siren] = item
    return sorted(latest.values(), key=lambda i: i.name)
