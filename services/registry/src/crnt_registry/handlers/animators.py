"""A centre's animators: added, changed and removed by the agency or their colleagues."""

from uuid import UUID, uuid4

from crnt_shared.contracts import registry as contracts
from crnt_shared.contracts.identity import ActorRef
from crnt_shared.errors import Conflict, NotFound
from crnt_shared.events import Event, utcnow

from crnt_registry.commands import AddAnimator, RemoveAnimator, UpdateAnimator
from crnt_registry.domain import ensure_animator_removable, ensure_open
from crnt_registry.handlers.common import RegistryUnitOfWork, existing_centre, publish
from crnt_registry.handlers.facts import animator_fact, centre_facts
from crnt_registry.repository import Animator, Centre, RegistryRepository


async def add_animator(command: AddAnimator, uow: RegistryUnitOfWork) -> Animator:
    repository = uow.repository
    centre, animators = await _team(repository, command.centre_id)
    _ensure_email_free(animators, command.animator.email, exclude=None)
    # Entered by the agency: the address needs no confirmation.
    animator = Animator(
        id=uuid4(),
        centre_id=centre.id,
        name=command.animator.name,
        email=command.animator.email,
        confirmed_at=utcnow(),
    )
    await repository.add_animator(animator)
    await _publish_animator(uow, contracts.AnimatorAdded, centre, animator, actor=command.actor)
    return animator


async def update_animator(command: UpdateAnimator, uow: RegistryUnitOfWork) -> Animator:
    repository = uow.repository
    centre, animators = await _team(repository, command.centre_id)
    current = _animator(animators, command.animator_id, centre.id)
    email = command.email or current.email
    updated = Animator(
        id=current.id,
        centre_id=centre.id,
        name=command.name or current.name,
        email=email,
        # A new address entered by the agency needs no confirmation.
        confirmed_at=current.confirmed_at if email == current.email else utcnow(),
    )
    if updated == current:
        return current
    _ensure_email_free(animators, updated.email, exclude=current.id)
    await repository.update_animator(updated)
    previous = current.email if current.email != updated.email else None
    await _publish_animator(
        uow,
        contracts.AnimatorUpdated,
        centre,
        updated,
        previous_email=previous,
        actor=command.actor,
    )
    return updated


async def remove_animator(command: RemoveAnimator, uow: RegistryUnitOfWork) -> None:
    repository = uow.repository
    centre, animators = await _team(repository, command.centre_id)
    animator = _animator(animators, command.animator_id, centre.id)
    ensure_animator_removable(centre.status, len(animators))
    await repository.remove_animator(animator.id)
    await _publish_animator(uow, contracts.AnimatorRemoved, centre, animator, actor=command.actor)


async def _publish_animator(
    uow: RegistryUnitOfWork,
    contract: type[Event],
    centre: Centre,
    animator: Animator,
    previous_email: str | None = None,
    actor: ActorRef | None = None,
) -> None:
    data = contracts.AnimatorChangeData(
        centre=centre_facts(centre),
        animator=animator_fact(animator),
        previous_email=previous_email,
        actor=actor,
    )
    await publish(uow, contract, centre.id, data)
    await uow.commit()


async def _team(repository: RegistryRepository, centre_id: UUID) -> tuple[Centre, list[Animator]]:
    """The centre, locked and open to changes of its animators, and its animators."""
    centre = await existing_centre(repository, centre_id, for_update=True)
    ensure_open(centre.status, "animators")
    return centre, await repository.animators(centre.id)


def _animator(animators: list[Animator], animator_id: UUID, centre_id: UUID) -> Animator:
    for animator in animators:
        if animator.id == animator_id:
            return animator
    raise NotFound(f"Centre {centre_id} has no animator {animator_id}: list its animators.")


def _ensure_email_free(animators: list[Animator], email: str, exclude: UUID | None) -> None:
    if any(a.email.lower() == email.lower() and a.id != exclude for a in animators):
        raise Conflict(f"An animator of this centre has the email {email} already.")
