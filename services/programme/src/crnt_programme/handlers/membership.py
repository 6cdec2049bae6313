"""Membership, from the registry's events: who is a member (may lead or take part in an
action); a centre that leaves the network leaves its open actions."""

from crnt_shared.contracts import programme as contracts
from crnt_shared.contracts.registry import ApplicationSubmitted
from crnt_shared.events import Event

from crnt_programme.domain import LEAVING, Centre, Membership, leave
from crnt_programme.handlers.common import ProgrammeUnitOfWork, publish
from crnt_programme.handlers.facts import action_facts, participants_of


async def on_membership_changed(event: Event, uow: ProgrammeUnitOfWork) -> None:
    """Keep who is a member; a centre that is suspended or withdrawn leaves the open actions."""
    data = event.data
    repository = uow.repository
    centre = Centre(data.centre.id, data.centre.nom, data.status)
    await repository.save_centre(centre)
    if centre.status not in LEAVING:
        return
    for action in await repository.actions_with_centre(centre.id):
        departure = leave(action, centre.id)
        if departure is None:
            continue
        after = departure.action
        await repository.save_action(after)
        await repository.record(
            after.id,
            "centre_left",
            "registry",
            data.at,
            {"centre_id": str(centre.id), "membership": centre.status, "lead": departure.lost_lead},
        )
        centres = await repository.centres((*action.centre_ids,))
        facts = action_facts(after, centres)
        (gone,) = participants_of([centre.id], action, centres)
        changed = ["lead_centre_id", "needs_lead"] if departure.lost_lead else ["participant_ids"]
        update = contracts.ActionUpdatedData(
            action=facts,
            changed=changed,
            removed_participants=[gone],
            reason=f"{centre.name} is {centre.status}",
            by="registry",
            at=data.at,
        )
        await publish(uow, contracts.ActionUpdated, after.id, update, cause=event)
        if departure.lost_lead:
            missing = contracts.ActionLeadMissingData(
                action=facts, previous_lead=gone, membership_status=centre.status, at=data.at
            )
            await publish(uow, contracts.ActionLeadMissing, after.id, missing, cause=event)


async def on_centre_known(event: Event, uow: ProgrammeUnitOfWork) -> None:
    """A new application (a pending centre) or a centre's new facts: its name, and its status
    when the programme did not know it yet (a status change always comes with its own event)."""
    facts = event.data.centre
    status = Membership.PENDING.value if isinstance(event, ApplicationSubmitted) else facts.status
    await uow.repository.know_centre(Centre(facts.id, facts.nom, status))
