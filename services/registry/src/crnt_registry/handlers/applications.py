"""Applications and membership: a centre asks to join, its addresses confirm (anonymous
applications), the agency decides, and the membership goes on (suspended, reinstated,
withdrawn) or an unconfirmed application expires. One unit of work for each, that writes the
state change and the one event describing it, or nothing at all."""

from dataclasses import replace
from uuid import UUID, uuid4

import structlog
from crnt_shared.contracts import registry as contracts
from crnt_shared.contracts.notifications import AddressConfirmed
from crnt_shared.contracts.registry import (
    AddressConfirmedData,
    ApplicationAddressConfirmed,
    ApplicationSubmitted,
    ApplicationSubmittedData,
)
from crnt_shared.errors import Invalid, NotFound
from crnt_shared.events import Event, utcnow

from crnt_registry.commands import (
    ChangeMembership,
    DecideApplication,
    ExpireApplications,
    SubmitApplication,
    Submitted,
)
from crnt_registry.domain import (
    AnimatorDraft,
    Confirmation,
    MembershipAction,
    MembershipStatus,
    accepts_confirmation,
    after_confirmation,
    ensure_approvable,
    expires_at,
    expiry_reason,
    needs_confirmation,
    next_status,
)
from crnt_registry.handlers.common import (
    REGISTRY_ACTOR,
    RegistryUnitOfWork,
    ensure_pivot_free,
    epci_of,
    existing_centre,
    publish,
    today,
    with_epci,
)
from crnt_registry.handlers.facts import (
    animator_fact,
    animator_facts,
    centre_facts,
    membership_change,
)
from crnt_registry.repository import Animator, Application, Centre, Decision, Transition

log = structlog.get_logger(__name__)

MEMBERSHIP_EVENT: dict[MembershipAction, type[Event]] = {
    MembershipAction.APPROVE: contracts.MembershipApproved,
    MembershipAction.REJECT: contracts.MembershipRejected,
    MembershipAction.SUSPEND: contracts.MembershipSuspended,
    MembershipAction.REINSTATE: contracts.MembershipReinstated,
    MembershipAction.WITHDRAW: contracts.MembershipWithdrawn,
    MembershipAction.EXPIRE: contracts.ApplicationExpired,
}


async def submit_application(command: SubmitApplication, uow: RegistryUnitOfWork) -> Submitted:
    repository = uow.repository
    facts = await with_epci(repository, command.centre)
    await ensure_pivot_free(repository, facts.pivot, exclude=None)
    _ensure_distinct_emails(command.animators)
    centre_id, application_id = uuid4(), uuid4()
    required = needs_confirmation(command.submitter)
    now = utcnow()
    await repository.add_centre(centre_id, facts, epci_of(facts), facts.date_maj or today())
    application = Application.pending(
        application_id,
        centre_id,
        command.channel,
        await repository.now(),
        confirmation=Confirmation.AWAITING if required else Confirmation.NOT_REQUIRED,
        expires_at=expires_at(now, command.policy.expire_after_days) if required else None,
    )
    await repository.add_applications([application])
    for draft in command.animators:
        await repository.add_animator(
            Animator(
                id=uuid4(),
                centre_id=centre_id,
                name=draft.name,
                email=draft.email,
                confirmed_at=None if required else now,
            )
        )
    actor = "import" if command.channel == "import" else "applicant"
    await repository.record_transition(
        Transition(
            centre_id,
            "submit",
            None,
            MembershipStatus.PENDING,
            None,
            actor,
            application.submitted_at,
        )
    )
    centre = await existing_centre(repository, centre_id)
    animators = await repository.animators(centre_id)
    # One confirmation request per address, unless one was asked within the resend window (by
    # this application or another): then that address hears nothing more.
    asked = [
        animator.id
        for animator in animators
        if required
        and await repository.claim_confirmation_request(
            animator.email, application_id, resend_after=command.policy.resend_after
        )
    ]
    data = ApplicationSubmittedData(
        application_id=application_id,
        channel=command.channel,
        submitted_at=application.submitted_at,
        centre=centre_facts(centre),
        animators=animator_facts(animators),
        confirmation_required=required,
        confirmation_requested=asked,
        expires_at=application.expires_at,
    )
    await publish(uow, ApplicationSubmitted, centre_id, data)
    return Submitted(application, centre, animators)


async def submit_and_commit(command: SubmitApplication, uow: RegistryUnitOfWork) -> Submitted:
    submitted = await submit_application(command, uow)
    await uow.commit()
    return submitted


async def confirm_address(event: AddressConfirmed, uow: RegistryUnitOfWork) -> None:
    """An address followed its confirmation link (told by the notifications service): it is
    confirmed for that application, and the mail flow held for it goes on."""
    repository = uow.repository
    data = event.data
    application = await repository.application(data.application_id, for_update=True)
    if application is None or application.confirmation is Confirmation.NOT_REQUIRED:
        log.info("confirmation of an unknown application ignored", event_id=str(event.id))
        return
    if not accepts_confirmation(application.status):
        log.info("confirmation after the application expired ignored", event_id=str(event.id))
        return
    centre = await existing_centre(repository, application.centre_id, for_update=True)
    animators = await repository.animators(centre.id)
    confirming = next((a for a in animators if a.email.lower() == data.email.strip().lower()), None)
    if confirming is None or confirming.confirmed:
        return  # removed meanwhile, or confirmed already: nothing more to do
    confirmed = replace(confirming, confirmed_at=data.at)
    await repository.update_animator(confirmed)
    confirmation, first = after_confirmation(application.confirmation)
    if confirmation is not application.confirmation:
        await repository.set_confirmation(application.id, confirmation)
    animators = await repository.animators(centre.id)
    payload = AddressConfirmedData(
        application_id=application.id,
        application_status=application.status,
        first=first,
        animator=animator_fact(confirmed),
        at=data.at,
        channel=application.channel,
        submitted_at=application.submitted_at,
        centre=centre_facts(centre),
        animators=animator_facts(animators),
    )
    await publish(uow, ApplicationAddressConfirmed, centre.id, payload)


async def expire_applications(command: ExpireApplications, uow: RegistryUnitOfWork) -> int:
    """Anonymous applications that no address confirmed before their expiry become
    ``expired`` (application and centre), each with its history line and event. Returns how
    many; the caller repeats while a full batch came."""
    repository = uow.repository
    expired = await repository.expired_applications(command.now, limit=command.batch)
    reason = expiry_reason(command.policy.expire_after_days)
    for application in expired:
        expiry = DecideApplication(application.id, MembershipAction.EXPIRE, REGISTRY_ACTOR, reason)
        await _apply_transition(uow, application.centre_id, expiry, application)
        expired_now = Decision("expired", REGISTRY_ACTOR, reason, command.now)
        await repository.decide_applications([application.id], expired_now)
    await repository.forget_confirmation_requests(command.now - command.policy.resend_after)
    await uow.commit()
    return len(expired)


async def decide_application(command: DecideApplication, uow: RegistryUnitOfWork) -> Centre:
    repository = uow.repository
    application = await repository.application(command.application_id, for_update=True)
    if application is None:
        raise NotFound(
            f"There is no application {command.application_id}: list them with"
            " GET /api/v1/applications."
        )
    changed = await _apply_transition(uow, application.centre_id, command, application)
    await uow.commit()
    return changed


async def change_membership(command: ChangeMembership, uow: RegistryUnitOfWork) -> Centre:
    application = await uow.repository.application_of(command.centre_id)
    changed = await _apply_transition(uow, command.centre_id, command, application)
    await uow.commit()
    return changed


async def _apply_transition(
    uow: RegistryUnitOfWork,
    centre_id: UUID,
    change: DecideApplication | ChangeMembership,
    application: Application | None,
) -> Centre:
    """The centre's new status, its history line, the application's decision and the event,
    not committed (an expiry commits many at once)."""
    repository = uow.repository
    action, by, reason, actor = change.action, change.by, change.reason, change.actor
    centre = await existing_centre(repository, centre_id, for_update=True)
    status = next_status(centre.status, action)
    animators = await repository.animators(centre_id)
    if action is MembershipAction.APPROVE:
        ensure_approvable(len(animators))
    transition = Transition(
        centre_id, action.value, centre.status, status, reason, by, utcnow(), actor
    )
    await repository.set_status(centre_id, status)
    await repository.record_transition(transition)
    if application is not None and action in (MembershipAction.APPROVE, MembershipAction.REJECT):
        outcome = "approved" if action is MembershipAction.APPROVE else "rejected"
        decision = Decision(outcome, by, reason, transition.at)
        await repository.decide_applications([application.id], decision)
    changed = await existing_centre(repository, centre_id)
    data = membership_change(
        transition, changed, animators, application.id if application else None
    )
    await publish(uow, MEMBERSHIP_EVENT[action], centre_id, data)
    return changed


def _ensure_distinct_emails(animators: list[AnimatorDraft]) -> None:
    emails = [animator.email.lower() for animator in animators]
    duplicates = sorted({email for email in emails if emails.count(email) > 1})
    if duplicates:
        raise Invalid(
            f"Each animator of a centre has their own email; repeated: {', '.join(duplicates)}."
        )
