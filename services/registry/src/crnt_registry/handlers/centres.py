"""A centre's facts, changed by the agency or its animators."""

from crnt_shared.contracts.registry import CentreUpdated, CentreUpdatedData
from pydantic import ValidationError

from crnt_registry.commands import UpdateCentre
from crnt_registry.domain import CentreDraft, ensure_open
from crnt_registry.handlers.common import (
    RegistryUnitOfWork,
    ensure_pivot_free,
    epci_of,
    existing_centre,
    invalid,
    publish,
    today,
    with_epci,
)
from crnt_registry.handlers.facts import animator_facts, centre_facts
from crnt_registry.repository import Centre


async def update_centre(command: UpdateCentre, uow: RegistryUnitOfWork) -> Centre:
    repository = uow.repository
    centre = await existing_centre(repository, command.centre_id, for_update=True)
    ensure_open(centre.status, "facts")
    before = centre.facts.model_dump(mode="json")
    before["date_maj"] = centre.date_maj.isoformat()
    try:
        merged = CentreDraft.model_validate({**before, **command.changes})
    except ValidationError as error:
        raise invalid(error, prefix="") from error
    facts = await with_epci(repository, merged)
    after = facts.model_dump(mode="json")
    changed = sorted(name for name in after if after[name] != before.get(name))
    if not changed:
        return centre
    if "pivot" in changed and centre.status.value in ("pending", "member", "suspended"):
        await ensure_pivot_free(repository, facts.pivot, exclude=centre.id)
    date_maj = facts.date_maj if "date_maj" in command.changes and facts.date_maj else today()
    await repository.update_centre(centre.id, facts, epci_of(facts), date_maj)
    updated = await existing_centre(repository, centre.id)
    animators = await repository.animators(centre.id)
    data = CentreUpdatedData(
        changed=changed,
        centre=centre_facts(updated),
        animators=animator_facts(animators),
        actor=command.actor,
    )
    await publish(uow, CentreUpdated, centre.id, data)
    await uow.commit()
    return updated
