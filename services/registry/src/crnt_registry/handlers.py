"""The registry's use cases: one function per command, each in one unit of work that writes the
state change and the one event describing it, or nothing at all."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from crnt_shared.contracts.identity import ActorRef
from crnt_shared.contracts.notifications import AddressConfirmed
from crnt_shared.contracts.registry import (
    AddressConfirmedData,
    AnimatorAdded,
    AnimatorChangeData,
    AnimatorFacts,
    AnimatorRemoved,
    AnimatorUpdated,
    ApplicationAddressConfirmed,
    ApplicationExpired,
    ApplicationSubmitted,
    ApplicationSubmittedData,
    CentreFacts,
    CentreUpdated,
    CentreUpdatedData,
    EpciData,
    EpciRegistered,
    EpciUpdated,
    MembershipApproved,
    MembershipChangeData,
    MembershipReinstated,
    MembershipRejected,
    MembershipSuspended,
    MembershipWithdrawn,
)
from crnt_shared.db import UnitOfWork
from crnt_shared.events import Event, utcnow
from crnt_shared.http import Conflict, NotFound, Unprocessable
from pydantic import ValidationError

from crnt_registry.domain import (
    PIVOT_PLACEHOLDER,
    AnimatorDraft,
    CentreDraft,
    Confirmation,
    MembershipAction,
    MembershipStatus,
    Submitter,
    accepts_confirmation,
    after_confirmation,
    ensure_animator_removable,
    ensure_approvable,
    ensure_open,
    expires_at,
    expiry_reason,
    needs_confirmation,
    next_status,
    resolve_epci,
)
from crnt_registry.repository import Animator, Application, Centre, Epci, Repository

log = structlog.get_logger(__name__)

SOURCE = "/crnt/registry"
#: Who the history names for what the registry does by itself (an expiry).
REGISTRY_ACTOR = "registry"

MEMBERSHIP_EVENT: dict[MembershipAction, type[Event]] = {
    MembershipAction.APPROVE: MembershipApproved,
    MembershipAction.REJECT: MembershipRejected,
    MembershipAction.SUSPEND: MembershipSuspended,
    MembershipAction.REINSTATE: MembershipReinstated,
    MembershipAction.WITHDRAW: MembershipWithdrawn,
    MembershipAction.EXPIRE: ApplicationExpired,
}


@dataclass(frozen=True)
class ConfirmationPolicy:
    """How long an anonymous application waits for an address to confirm, and how long an
    address that was asked to confirm is not asked again (settings)."""

    expire_after_days: float = 14.0
    resend_after: timedelta = timedelta(hours=24)


# Commands


@dataclass(frozen=True)
class RegisterEpci:
    epci: Epci


@dataclass(frozen=True)
class UpdateEpci:
    siren: str
    name: str | None = None
    population: int | None = None
    communes: list[str] | None = None


@dataclass(frozen=True)
class SubmitApplication:
    centre: CentreDraft
    animators: list[AnimatorDraft]
    channel: str = "form"
    #: Who submits; None is anonymous (the public form), whose addresses must confirm.
    submitter: Submitter | None = None
    policy: ConfirmationPolicy = ConfirmationPolicy()


@dataclass(frozen=True)
class ExpireApplications:
    now: datetime
    policy: ConfirmationPolicy = ConfirmationPolicy()
    batch: int = 100


@dataclass(frozen=True)
class DecideApplication:
    application_id: UUID
    action: MembershipAction
    actor: str
    reason: str | None = None
    by: ActorRef | None = None


@dataclass(frozen=True)
class ChangeMembership:
    centre_id: UUID
    action: MembershipAction
    actor: str
    reason: str
    by: ActorRef | None = None


@dataclass(frozen=True)
class UpdateCentre:
    centre_id: UUID
    changes: dict[str, Any]
    by: ActorRef | None = None


@dataclass(frozen=True)
class AddAnimator:
    centre_id: UUID
    animator: AnimatorDraft
    by: ActorRef | None = None


@dataclass(frozen=True)
class UpdateAnimator:
    centre_id: UUID
    animator_id: UUID
    name: str | None = None
    email: str | None = None
    by: ActorRef | None = None


@dataclass(frozen=True)
class RemoveAnimator:
    centre_id: UUID
    animator_id: UUID
    by: ActorRef | None = None


# Results


@dataclass(frozen=True)
class Submitted:
    application: Application
    centre: Centre
    animators: list[Animator] = field(default_factory=list)


# EPCIs


async def register_epci(command: RegisterEpci, uow: UnitOfWork) -> Epci:
    repository = Repository(uow.connection)
    epci = command.epci
    if await repository.epci(epci.siren) is not None:
        raise Conflict(f"EPCI {epci.siren} is registered already: update it with PATCH instead.")
    await _ensure_communes_free(repository, epci.siren, epci.communes)
    try:
        await repository.add_epci(epci)
    except asyncpg.UniqueViolationError as error:
        raise Conflict(
            f"EPCI {epci.siren} or one of its communes was registered meanwhile: retry."
        ) from error
    await uow.publish(EpciRegistered.create(source=SOURCE, subject=epci.siren, data=_epci(epci)))
    await uow.commit()
    return epci


async def update_epci(command: UpdateEpci, uow: UnitOfWork) -> Epci:
    repository = Repository(uow.connection)
    current = await repository.epci(command.siren, for_update=True)
    if current is None:
        raise NotFound(f"There is no EPCI with SIREN {command.siren}: register it first.")
    updated = Epci(
        siren=current.siren,
        name=current.name if command.name is None else command.name,
        population=current.population if command.population is None else command.population,
        communes=current.communes if command.communes is None else command.communes,
    )
    if updated == current:
        return current
    await _ensure_communes_free(repository, updated.siren, updated.communes)
    await repository.update_epci(updated)
    await uow.publish(EpciUpdated.create(source=SOURCE, subject=updated.siren, data=_epci(updated)))
    await uow.commit()
    return updated


async def _ensure_communes_free(
    repository: Repository, siren: str, communes: Sequence[str]
) -> None:
    owners = await repository.commune_owners(communes)
    taken = {code: owner for code, owner in owners.items() if owner != siren}
    if taken:
        listed = ", ".join(f"{code} (EPCI {owner})" for code, owner in sorted(taken.items()))
        raise Conflict(
            f"A commune belongs to one EPCI only, and these are listed already: {listed}."
            " Remove them from that EPCI first."
        )


def _epci(epci: Epci) -> EpciData:
    return EpciData(
        siren=epci.siren, name=epci.name, population=epci.population, communes=epci.communes
    )


# Applications and membership


async def submit_application(command: SubmitApplication, uow: UnitOfWork) -> Submitted:
    repository = Repository(uow.connection)
    facts = await _with_epci(repository, command.centre)
    await _ensure_pivot_free(repository, facts.pivot, exclude=None)
    _ensure_distinct_emails(command.animators)
    centre_id, application_id = uuid4(), uuid4()
    required = needs_confirmation(command.submitter)
    now = utcnow()
    try:
        await repository.add_centre(centre_id, facts, _epci_of(facts), facts.date_maj or _today())
        application = await repository.add_application(
            application_id,
            centre_id,
            command.channel,
            confirmation=Confirmation.AWAITING if required else Confirmation.NOT_REQUIRED,
            expires_at=expires_at(now, command.policy.expire_after_days) if required else None,
        )
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
    except asyncpg.UniqueViolationError as error:
        raise Conflict(
            f"A centre with pivot {facts.pivot} was submitted meanwhile: check the pending"
            " applications."
        ) from error
    await repository.record_transition(
        centre_id,
        action="submit",
        previous=None,
        status=MembershipStatus.PENDING,
        reason=None,
        actor="import" if command.channel == "import" else "applicant",
        at=application.submitted_at,
    )
    centre = await _centre(repository, centre_id)
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
    await uow.publish(
        ApplicationSubmitted.create(
            source=SOURCE,
            subject=str(centre_id),
            data=ApplicationSubmittedData(
                application_id=application_id,
                channel=command.channel,
                submitted_at=application.submitted_at,
                centre=centre_facts(centre),
                animators=animator_facts(animators),
                confirmation_required=required,
                confirmation_requested=asked,
                expires_at=application.expires_at,
            ),
        )
    )
    return Submitted(application, centre, animators)


async def submit_and_commit(command: SubmitApplication, uow: UnitOfWork) -> Submitted:
    submitted = await submit_application(command, uow)
    await uow.commit()
    return submitted


async def confirm_address(event: AddressConfirmed, uow: UnitOfWork) -> None:
    """An address followed its confirmation link (told by the notifications service): it is
    confirmed for that application, and the mail flow held for it goes on."""
    repository = Repository(uow.connection)
    data = event.data
    application = await repository.application(data.application_id, for_update=True)
    if application is None or application.confirmation is Confirmation.NOT_REQUIRED:
        log.info("confirmation of an unknown application ignored", event_id=str(event.id))
        return
    if not accepts_confirmation(application.status):
        log.info("confirmation after the application expired ignored", event_id=str(event.id))
        return
    centre = await _centre(repository, application.centre_id, for_update=True)
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
    await uow.publish(
        ApplicationAddressConfirmed.create(
            source=SOURCE,
            subject=str(centre.id),
            data=AddressConfirmedData(
                application_id=application.id,
                application_status=application.status,
                first=first,
                animator=_facts(confirmed),
                at=data.at,
                channel=application.channel,
                submitted_at=application.submitted_at,
                centre=centre_facts(centre),
                animators=animator_facts(animators),
            ),
        )
    )


async def expire_applications(command: ExpireApplications, uow: UnitOfWork) -> int:
    """Anonymous applications that no address confirmed before their expiry become
    ``expired`` (application and centre), each with its history line and event. Returns how
    many; the caller repeats while a full batch came."""
    repository = Repository(uow.connection)
    expired = await repository.expired_applications(command.now, limit=command.batch)
    reason = expiry_reason(command.policy.expire_after_days)
    for application in expired:
        await _apply_transition(
            repository,
            uow,
            application.centre_id,
            MembershipAction.EXPIRE,
            actor=REGISTRY_ACTOR,
            reason=reason,
            application=application,
        )
        await repository.decide_application(
            application.id, "expired", REGISTRY_ACTOR, reason, command.now
        )
    await repository.forget_confirmation_requests(command.now - command.policy.resend_after)
    await uow.commit()
    return len(expired)


async def decide_application(command: DecideApplication, uow: UnitOfWork) -> Centre:
    repository = Repository(uow.connection)
    application = await repository.application(command.application_id, for_update=True)
    if application is None:
        raise NotFound(
            f"There is no application {command.application_id}: list them with"
            " GET /api/v1/applications."
        )
    return await _transition(
        repository,
        uow,
        application.centre_id,
        command.action,
        actor=command.actor,
        reason=command.reason,
        application=application,
        by=command.by,
    )


async def change_membership(command: ChangeMembership, uow: UnitOfWork) -> Centre:
    repository = Repository(uow.connection)
    application = await repository.application_of(command.centre_id)
    return await _transition(
        repository,
        uow,
        command.centre_id,
        command.action,
        actor=command.actor,
        reason=command.reason,
        application=application,
        by=command.by,
    )


async def _transition(
    repository: Repository,
    uow: UnitOfWork,
    centre_id: UUID,
    action: MembershipAction,
    *,
    actor: str,
    reason: str | None,
    application: Application | None,
    by: ActorRef | None = None,
) -> Centre:
    changed = await _apply_transition(
        repository,
        uow,
        centre_id,
        action,
        actor=actor,
        reason=reason,
        application=application,
        by=by,
    )
    await uow.commit()
    return changed


async def _apply_transition(
    repository: Repository,
    uow: UnitOfWork,
    centre_id: UUID,
    action: MembershipAction,
    *,
    actor: str,
    reason: str | None,
    application: Application | None,
    by: ActorRef | None = None,
) -> Centre:
    centre = await _centre(repository, centre_id, for_update=True)
    status = next_status(centre.status, action)
    animators = await repository.animators(centre_id)
    if action is MembershipAction.APPROVE:
        ensure_approvable(len(animators))
    at = utcnow()
    await repository.set_status(centre_id, status)
    await repository.record_transition(
        centre_id,
        action=action.value,
        previous=centre.status,
        status=status,
        reason=reason,
        actor=actor,
        at=at,
        actor_ref=by,
    )
    if application is not None and action in (MembershipAction.APPROVE, MembershipAction.REJECT):
        decision = "approved" if action is MembershipAction.APPROVE else "rejected"
        await repository.decide_application(application.id, decision, actor, reason, at)
    changed = await _centre(repository, centre_id)
    event = MEMBERSHIP_EVENT[action].create(
        source=SOURCE,
        subject=str(centre_id),
        data=MembershipChangeData(
            application_id=application.id if application else None,
            previous_status=centre.status.value,
            status=status.value,
            reason=reason,
            by=actor,
            at=at,
            centre=centre_facts(changed),
            animators=animator_facts(animators),
            actor=by,
        ),
    )
    await uow.publish(event)
    return changed


# Centres


async def update_centre(command: UpdateCentre, uow: UnitOfWork) -> Centre:
    repository = Repository(uow.connection)
    centre = await _centre(repository, command.centre_id, for_update=True)
    ensure_open(centre.status, "facts")
    before = centre.facts.model_dump(mode="json")
    before["date_maj"] = centre.date_maj.isoformat()
    try:
        merged = CentreDraft.model_validate({**before, **command.changes})
    except ValidationError as error:
        raise invalid(error, prefix="") from error
    facts = await _with_epci(repository, merged)
    after = facts.model_dump(mode="json")
    changed = sorted(name for name in after if after[name] != before.get(name))
    if not changed:
        return centre
    if "pivot" in changed and centre.status.value in ("pending", "member", "suspended"):
        await _ensure_pivot_free(repository, facts.pivot, exclude=centre.id)
    date_maj = facts.date_maj if "date_maj" in command.changes and facts.date_maj else _today()
    try:
        await repository.update_centre(centre.id, facts, _epci_of(facts), date_maj)
    except asyncpg.UniqueViolationError as error:
        raise Conflict(
            f"Another centre took pivot {facts.pivot} meanwhile: check it and retry."
        ) from error
    updated = await _centre(repository, centre.id)
    animators = await repository.animators(centre.id)
    await uow.publish(
        CentreUpdated.create(
            source=SOURCE,
            subject=str(centre.id),
            data=CentreUpdatedData(
                changed=changed,
                centre=centre_facts(updated),
                animators=animator_facts(animators),
                actor=command.by,
            ),
        )
    )
    await uow.commit()
    return updated


async def _with_epci(repository: Repository, facts: CentreDraft) -> CentreDraft:
    """The centre's facts with the EPCI resolved and known to the registry."""
    owners = await repository.commune_owners([facts.code_insee])
    try:
        siren = resolve_epci(facts.code_insee, facts.epci_siren, owners.get(facts.code_insee))
    except ValueError as error:
        raise Unprocessable(f"{error}.") from error
    if await repository.epci(siren) is None:
        raise Unprocessable(
            f"EPCI {siren} is not registered: the agency registers it first"
            " (POST /api/v1/epcis), or fix epci_siren."
        )
    return facts.model_copy(update={"epci_siren": siren})


async def _ensure_pivot_free(repository: Repository, pivot: str, exclude: UUID | None) -> None:
    if pivot == PIVOT_PLACEHOLDER:
        return
    holder = (await repository.live_centres_with_pivots([pivot])).get(pivot)
    if holder is not None and holder != exclude:
        raise Conflict(
            f"Centre {holder} with pivot {pivot} is already pending, member or suspended:"
            " the same place cannot apply twice.",
            centre_id=str(holder),
        )


# Animators


async def add_animator(command: AddAnimator, uow: UnitOfWork) -> Animator:
    repository = Repository(uow.connection)
    centre = await _centre(repository, command.centre_id, for_update=True)
    ensure_open(centre.status, "animators")
    animators = await repository.animators(centre.id)
    _ensure_email_free(animators, command.animator.email, exclude=None)
    # Entered by the agency: the address needs no confirmation.
    animator = Animator(
        id=uuid4(),
        centre_id=centre.id,
        name=command.animator.name,
        email=command.animator.email,
        confirmed_at=utcnow(),
    )
    try:
        await repository.add_animator(animator)
    except asyncpg.UniqueViolationError as error:
        raise Conflict(f"An animator of this centre has the email {animator.email}.") from error
    await _publish_animator(uow, AnimatorAdded, centre, animator, by=command.by)
    return animator


async def update_animator(command: UpdateAnimator, uow: UnitOfWork) -> Animator:
    repository = Repository(uow.connection)
    centre = await _centre(repository, command.centre_id, for_update=True)
    ensure_open(centre.status, "animators")
    animators = await repository.animators(centre.id)
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
        uow, AnimatorUpdated, centre, updated, previous_email=previous, by=command.by
    )
    return updated


async def remove_animator(command: RemoveAnimator, uow: UnitOfWork) -> None:
    repository = Repository(uow.connection)
    centre = await _centre(repository, command.centre_id, for_update=True)
    ensure_open(centre.status, "animators")
    animators = await repository.animators(centre.id)
    animator = _animator(animators, command.animator_id, centre.id)
    ensure_animator_removable(centre.status, len(animators))
    await repository.remove_animator(animator.id)
    await _publish_animator(uow, AnimatorRemoved, centre, animator, by=command.by)


async def _publish_animator(
    uow: UnitOfWork,
    contract: type[Event],
    centre: Centre,
    animator: Animator,
    previous_email: str | None = None,
    by: ActorRef | None = None,
) -> None:
    data = AnimatorChangeData(
        centre=centre_facts(centre),
        animator=_facts(animator),
        previous_email=previous_email,
        actor=by,
    )
    await uow.publish(contract.create(source=SOURCE, subject=str(centre.id), data=data))
    await uow.commit()


def _animator(animators: list[Animator], animator_id: UUID, centre_id: UUID) -> Animator:
    for animator in animators:
        if animator.id == animator_id:
            return animator
    raise NotFound(f"Centre {centre_id} has no animator {animator_id}: list its animators.")


def _ensure_email_free(animators: list[Animator], email: str, exclude: UUID | None) -> None:
    if any(a.email.lower() == email.lower() and a.id != exclude for a in animators):
        raise Conflict(f"An animator of this centre has the email {email} already.")


def _ensure_distinct_emails(animators: list[AnimatorDraft]) -> None:
    emails = [animator.email.lower() for animator in animators]
    duplicates = sorted({email for email in emails if emails.count(email) > 1})
    if duplicates:
        raise Unprocessable(
            f"Each animator of a centre has their own email; repeated: {', '.join(duplicates)}."
        )


# Shared pieces


async def _centre(repository: Repository, centre_id: UUID, *, for_update: bool = False) -> Centre:
    centre = await repository.centre(centre_id, for_update=for_update)
    if centre is None:
        raise NotFound(f"There is no centre {centre_id}: list them with GET /api/v1/centres.")
    return centre


def _epci_of(facts: CentreDraft) -> str:
    assert facts.epci_siren is not None, "resolved by _with_epci"
    return facts.epci_siren


def _today() -> date:
    return utcnow().date()


def centre_facts(centre: Centre) -> CentreFacts:
    facts = centre.facts
    return CentreFacts(
        id=centre.id,
        status=centre.status.value,
        nom=facts.nom,
        pivot=facts.pivot,
        adresse=facts.adresse,
        code_postal=facts.code_postal,
        commune=facts.commune,
        code_insee=facts.code_insee,
        epci_siren=centre.epci_siren,
        epci_name=centre.epci_name,
        typologie=list(facts.typologie),
        workstations=facts.workstations,
        horaires=facts.horaires,
        services=list(facts.services),
        date_maj=centre.date_maj,
    )


def animator_facts(animators: Sequence[Animator]) -> list[AnimatorFacts]:
    return [_facts(animator) for animator in animators]


def _facts(animator: Animator) -> AnimatorFacts:
    return AnimatorFacts(
        id=animator.id, name=animator.name, email=animator.email, confirmed=animator.confirmed
    )


def invalid(error: ValidationError, *, prefix: str) -> Unprocessable:
    """A 422 naming each invalid field, from a pydantic error."""
    fields = [
        {
            "field": ".".join(str(part) for part in (prefix, *item["loc"]) if part != ""),
            "message": item["msg"],
        }
        for item in error.errors()
    ]
    sentence = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:10])
    return Unprocessable(f"The request is not valid. {sentence}.", errors=fields)
