"""The agency's work on many centres at once: a file of the national standard imported, many
applications approved, animators given to many centres. Each is all or nothing, in one unit of
work, with the same rules, history and events as the one-centre commands of
:mod:`crnt_registry.handlers`; the statements are set-based (one query or one ``executemany``
for every row), so that a national import of 20,000 places costs a few round trips per batch
instead of a dozen per place."""

from dataclasses import replace
from uuid import uuid4

from crnt_shared.contracts.registry import (
    AnimatorAdded,
    AnimatorChangeData,
    ApplicationSubmitted,
    ApplicationSubmittedData,
    MembershipApproved,
)
from crnt_shared.errors import Conflict, NotFound, RuleViolation
from crnt_shared.events import Event

from crnt_registry.commands import (
    AddAnimators,
    ApproveApplications,
    ImportCentres,
    ImportReport,
    Submitted,
)
from crnt_registry.domain import (
    PIVOT_PLACEHOLDER,
    EpciMismatch,
    MembershipAction,
    MembershipStatus,
    ensure_approvable,
    ensure_open,
    next_status,
    resolve_epci,
)
from crnt_registry.handlers.common import (
    RegistryUnitOfWork,
    pivot_taken,
    publish,
    unregistered_epci,
)
from crnt_registry.handlers.facts import animator_fact, centre_facts, membership_change
from crnt_registry.repository import Animator, Application, Centre, Decision, NewCentre, Transition

# Import


async def import_centres(command: ImportCentres, uow: RegistryUnitOfWork) -> ImportReport:
    """Each row becomes a pending application, or the row is reported and nothing is written:
    the file is all or nothing. A row's EPCI comes from its commune (or the one it names), and
    a place already pending, member or suspended (its pivot), in the registry or earlier in the
    file, cannot apply again."""
    repository = uow.repository
    drafts = [row.centre for row in command.rows]
    owners = await repository.commune_owners({draft.code_insee for draft in drafts})
    names = await repository.epci_names(
        {*owners.values(), *(d.epci_siren for d in drafts if d.epci_siren)}
    )
    holders = await repository.live_centres_with_pivots({d.pivot for d in drafts})
    now = await repository.now()
    imported: list[tuple[int, Submitted]] = []
    errors: list[tuple[int, str]] = []
    for row in command.rows:
        draft = row.centre
        try:
            siren = resolve_epci(draft.code_insee, draft.epci_siren, owners.get(draft.code_insee))
        except EpciMismatch as error:
            errors.append((row.line, f"{error}."))
            continue
        if siren not in names:
            errors.append((row.line, unregistered_epci(siren)))
            continue
        centre_id = uuid4()
        holder = holders.get(draft.pivot) if draft.pivot != PIVOT_PLACEHOLDER else None
        if holder is not None:
            errors.append((row.line, pivot_taken(holder, draft.pivot)))
            continue
        if draft.pivot != PIVOT_PLACEHOLDER:
            holders[draft.pivot] = centre_id
        facts = draft.model_copy(update={"epci_siren": siren})
        centre = Centre(
            id=centre_id,
            status=MembershipStatus.PENDING,
            facts=facts,
            epci_siren=siren,
            epci_name=names[siren],
            date_maj=facts.date_maj or now.date(),
            created_at=now,
            updated_at=now,
        )
        application = Application.pending(uuid4(), centre_id, "import", now)
        imported.append((row.line, Submitted(application, centre)))
    if errors or command.dry_run:
        return ImportReport(imported, errors)
    submitted = [item for _, item in imported]
    await repository.add_centres(
        [
            NewCentre(s.centre.id, s.centre.facts, s.centre.epci_siren, s.centre.date_maj)
            for s in submitted
        ]
    )
    await repository.add_applications([s.application for s in submitted])
    await repository.record_transitions(
        [
            Transition(s.centre.id, "submit", None, MembershipStatus.PENDING, None, "import", now)
            for s in submitted
        ]
    )
    await uow.publish_many([_submitted(s) for s in submitted])
    await uow.commit()
    return ImportReport(imported, errors)


def _submitted(submitted: Submitted) -> Event:
    application, centre = submitted.application, submitted.centre
    data = ApplicationSubmittedData(
        application_id=application.id,
        channel=application.channel,
        submitted_at=application.submitted_at,
        centre=centre_facts(centre),
        animators=[],
        confirmation_required=False,
        confirmation_requested=[],
        expires_at=None,
    )
    return publish.event(ApplicationSubmitted, centre.id, data)


# Approvals


async def approve_applications(
    command: ApproveApplications, uow: RegistryUnitOfWork
) -> list[Centre]:
    """Every application approved, as one approval each would (history, decision, event), or
    none: the first that cannot be (unknown, decided, no animator) is reported with the
    others."""
    repository = uow.repository
    ids = list(dict.fromkeys(command.application_ids))
    applications = await repository.applications_by_id(ids, for_update=True)
    missing = [str(i) for i in ids if i not in applications]
    if missing:
        raise NotFound(
            f"There is no application {', '.join(missing[:10])}"
            + (f" (and {len(missing) - 10} more)" if len(missing) > 10 else "")
            + ": list them with GET /api/v1/applications; nothing was approved."
        )
    centres = await repository.centres_by_id(
        [applications[i].centre_id for i in ids], for_update=True
    )
    animators = await repository.animators_of([applications[i].centre_id for i in ids])
    refused: list[dict[str, str]] = []
    for index, application_id in enumerate(ids):
        centre = centres[applications[application_id].centre_id]
        try:
            next_status(centre.status, MembershipAction.APPROVE)
            ensure_approvable(len(animators.get(centre.id, [])))
        except RuleViolation as error:
            refused.append(
                {"field": f"application_ids.{index}", "message": f"{application_id}: {error}"}
            )
    if refused:
        raise Conflict(
            f"{len(refused)} application(s) cannot be approved (the first,"
            f" {refused[0]['message']}); nothing was approved.",
            errors=refused,
        )
    at = await repository.now()
    approved = [
        replace(centres[applications[i].centre_id], status=MembershipStatus.MEMBER, member_since=at)
        for i in ids
    ]
    await repository.set_statuses([c.id for c in approved], MembershipStatus.MEMBER)
    transitions = [
        Transition(
            c.id,
            MembershipAction.APPROVE.value,
            MembershipStatus.PENDING,
            MembershipStatus.MEMBER,
            None,
            command.by,
            at,
            command.actor,
        )
        for c in approved
    ]
    await repository.record_transitions(transitions)
    await repository.decide_applications(ids, Decision("approved", command.by, None, at))
    changes = zip(ids, approved, transitions, strict=True)
    await uow.publish_many(
        [
            publish.event(
                MembershipApproved,
                centre.id,
                membership_change(transition, centre, animators[centre.id], application_id),
            )
            for application_id, centre, transition in changes
        ]
    )
    await uow.commit()
    return approved


# Animators


async def add_animators(command: AddAnimators, uow: RegistryUnitOfWork) -> list[Animator]:
    """Animators entered by the agency for many centres at once (their addresses need no
    confirmation), as one addition each would, or none."""
    repository = uow.repository
    centre_ids = list(dict.fromkeys(item.centre_id for item in command.animators))
    centres = await repository.centres_by_id(centre_ids, for_update=True)
    missing = [str(i) for i in centre_ids if i not in centres]
    if missing:
        raise NotFound(
            f"There is no centre {', '.join(missing[:10])}: list them with GET /api/v1/centres;"
            " no animator was added."
        )
    existing = await repository.animators_of(centre_ids)
    taken = {(a.centre_id, a.email.lower()) for team in existing.values() for a in team}
    refused: list[dict[str, str]] = []
    now = await repository.now()
    added: list[Animator] = []
    for index, item in enumerate(command.animators):
        centre = centres[item.centre_id]
        key = (centre.id, item.animator.email.lower())
        try:
            ensure_open(centre.status, "animators")
        except RuleViolation as error:
            refused.append({"field": f"animators.{index}.centre_id", "message": str(error)})
            continue
        if key in taken:
            refused.append(
                {
                    "field": f"animators.{index}.email",
                    "message": f"an animator of centre {centre.id} has this email already",
                }
            )
            continue
        taken.add(key)
        added.append(
            Animator(uuid4(), centre.id, item.animator.name, item.animator.email, confirmed_at=now)
        )
    if refused:
        raise Conflict(
            f"{len(refused)} animator(s) cannot be added (the first, {refused[0]['field']}:"
            f" {refused[0]['message']}); none was added.",
            errors=refused,
        )
    await repository.add_animators(added)
    await uow.publish_many(
        [
            publish.event(
                AnimatorAdded,
                animator.centre_id,
                AnimatorChangeData(
                    centre=centre_facts(centres[animator.centre_id]),
                    animator=animator_fact(animator),
                    actor=command.actor,
                ),
            )
            for animator in added
        ]
    )
    await uow.commit()
    return added
