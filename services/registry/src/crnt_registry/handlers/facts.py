"""What the registry's events carry, built from its records: a centre's facts, its animators,
a membership change."""

from collections.abc import Sequence
from uuid import UUID

from crnt_shared.contracts.registry import AnimatorFacts, CentreFacts, MembershipChangeData

from crnt_registry.domain import CentreDraft
from crnt_registry.repository import Animator, Centre, Transition

#: What a centre's facts on an event are as its draft has them; the registry knows the rest
#: (its id and status, the EPCI it resolved, the date of update it kept).
_DRAFT_FACTS = (set(CentreFacts.model_fields) & set(CentreDraft.model_fields)) - {
    "epci_siren",
    "date_maj",
}


def centre_facts(centre: Centre) -> CentreFacts:
    return CentreFacts(
        id=centre.id,
        status=centre.status.value,
        epci_siren=centre.epci_siren,
        epci_name=centre.epci_name,
        date_maj=centre.date_maj,
        **centre.facts.model_dump(include=_DRAFT_FACTS),
    )


def animator_facts(animators: Sequence[Animator]) -> list[AnimatorFacts]:
    return [animator_fact(animator) for animator in animators]


def animator_fact(animator: Animator) -> AnimatorFacts:
    return AnimatorFacts(
        id=animator.id, name=animator.name, email=animator.email, confirmed=animator.confirmed
    )


def membership_change(
    transition: Transition,
    centre: Centre,
    animators: Sequence[Animator],
    application_id: UUID | None,
) -> MembershipChangeData:
    """What a membership event says: the history line, the centre after it, its animators."""
    assert transition.previous is not None, "a membership change starts from a status"
    return MembershipChangeData(
        application_id=application_id,
        previous_status=transition.previous.value,
        status=transition.status.value,
        reason=transition.reason,
        by=transition.actor,
        at=transition.at,
        centre=centre_facts(centre),
        animators=animator_facts(animators),
        actor=transition.actor_ref,
    )
