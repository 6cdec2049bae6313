"""The centre key: the envelope's dotations among the member centres.

**Centre key**: a fixed part (``fixed_ratio`` of the envelope) split equally among the members,
and the rest in proportion to their ``workstations`` (or equally as well with ``none``). The two
parts are not rounded separately: each centre's exact quota is
``envelope × (r / n + (1 − r) × w_i / W)``, and the allocation rounds the sum once. With
``W = 0`` (no member declares a workstation) the weighted part is split equally.
A member's weight, hence its quota and its remainder, depends on its workstations only: the
allocation is computed once per class of members with the same workstations
(:func:`split_by_class`), and a version's dotations are one base amount per class and the id up
to which the class's members get one cent more (:class:`DotationClass`), whatever the number of
members.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from crnt_shared.vocabularies import CentreWeight as CentreWeight


@dataclass(frozen=True)
class CentreKey:
    fixed_ratio: Fraction
    weight: CentreWeight


class Member(NamedTuple):
    """A member centre as the centre key sees it: its id, its EPCI and its workstations."""

    centre_id: str
    epci_siren: str
    workstations: int


@dataclass(frozen=True)
class DotationClass:
    """What each member of a class (the members with the same workstations) is allotted:
    ``base`` cents, one more for those whose id is at or before ``extra_through`` in id order
    (``None``: nobody of the class)."""

    base: int
    extra_through: str | None = None

    def amount(self, centre_id: str) -> int:
        return self.base + (self.extra_through is not None and centre_id <= self.extra_through)


@dataclass(frozen=True)
class ClassSplit:
    """The envelope's largest-remainder split by class of workstations, before the last cents
    that equal remainders share in id order: every member of class ``w`` gets ``bases[w]``;
    among the members of the ``tied`` classes, the first ``tied_cents`` in id order get one
    cent more."""

    bases: Mapping[int, int]
    tied: frozenset[int] = frozenset()
    tied_cents: int = 0

    def classes(self, cut: str | None) -> dict[int, DotationClass]:
        """The dotations once ``cut`` is known: the id of the last tied member given a cent
        (the ``tied_cents``-th of the tied members in id order)."""
        if self.tied_cents and cut is None:
            raise ValueError("the tied members share cents: the cut is needed")
        return {
            w: DotationClass(base, cut if w in self.tied and self.tied_cents else None)
            for w, base in self.bases.items()
        }


def split_by_class(envelope: int, key: CentreKey, classes: Mapping[int, int]) -> ClassSplit:
    """The centre key's largest-remainder allocation, computed once per class of members.

    ``classes`` maps workstations to how many members have them. Every member's weight, hence
    quota and remainder, depends on its workstations only, so :func:`allocate` gives the
    members of a class the same integer part and the same remainder; the leftover cents go to
    whole classes in decreasing order of remainder, and those that equal remainders leave to
    share go to the smaller ids, which only the caller can list (:meth:`ClassSplit.classes`).
    """
    if envelope < 0:
        raise ValueError("the total to share is negative")
    if any(count <= 0 for count in classes.values()):
        raise ValueError("a class has no member")
    members = sum(classes.values())
    if not members:
        return ClassSplit({})
    weights = _centre_weights(key, classes, members)
    denominator = sum(weights[w] * count for w, count in classes.items())
    bases: dict[int, int] = {}
    remainders: dict[int, int] = {}
    for w in classes:
        bases[w], remainders[w] = divmod(envelope * weights[w], denominator)
    left = envelope - sum(bases[w] * count for w, count in classes.items())
    for remainder in sorted(set(remainders.values()), reverse=True):
        if not left:
            break
        group = [w for w in classes if remainders[w] == remainder]
        size = sum(classes[w] for w in group)
        if left < size:
            return ClassSplit(bases, frozenset(group), left)
        for w in group:
            bases[w] += 1
        left -= size
    return ClassSplit(bases)


def _centre_weights(key: CentreKey, classes: Mapping[int, int], members: int) -> dict[int, int]:
    total_weight = sum(max(0, w) * count for w, count in classes.items())
    if key.weight is CentreWeight.NONE or total_weight == 0:
        return dict.fromkeys(classes, 1)
    fixed, whole = key.fixed_ratio.numerator, key.fixed_ratio.denominator
    # r/n + (1 − r)·w/W, multiplied by q·n·W (r = p/q): integers with the same proportions.
    return {w: fixed * total_weight + (whole - fixed) * members * max(0, w) for w in classes}


def centre_shares(envelope: int, key: CentreKey, members: Sequence[Member]) -> dict[str, int]:
    """Each member centre's share of the envelope (see the module's docstring)."""
    if len({m.centre_id for m in members}) != len(members):
        raise ValueError("a party appears twice")
    classes: dict[int, int] = {}
    for member in members:
        classes[member.workstations] = classes.get(member.workstations, 0) + 1
    split = split_by_class(envelope, key, classes)
    tied = sorted(m.centre_id for m in members if m.workstations in split.tied)
    dotations = split.classes(tied[split.tied_cents - 1] if split.tied_cents else None)
    return {m.centre_id: dotations[m.workstations].amount(m.centre_id) for m in members}
