"""How the registry's routes show what they read: JSON bodies of EPCIs, centres, applications,
animators and history lines."""

from dataclasses import asdict
from typing import Any

from crnt_registry.repository import Animator, Application, Centre, Epci, HistoryEntry


def epci_out(epci: Epci) -> dict[str, Any]:
    return asdict(epci)


def centre_out(centre: Centre) -> dict[str, Any]:
    facts = centre.facts.model_dump(mode="json")
    return {
        "id": str(centre.id),
        "status": centre.status.value,
        **facts,
        "epci_siren": centre.epci_siren,
        "epci_name": centre.epci_name,
        "date_maj": centre.date_maj.isoformat(),
        "created_at": centre.created_at.isoformat(),
        "updated_at": centre.updated_at.isoformat(),
        "member_since": centre.member_since.isoformat() if centre.member_since else None,
    }


def decision_out(centre: Centre) -> dict[str, Any]:
    return {
        "centre_id": str(centre.id),
        "status": centre.status.value,
        "centre": centre_out(centre),
    }


def application_out(application: Application, centre: Centre) -> dict[str, Any]:
    return {
        "id": str(application.id),
        "status": application.status,
        "centre_id": str(application.centre_id),
        "channel": application.channel,
        "submitted_at": application.submitted_at.isoformat(),
        "decided_at": application.decided_at.isoformat() if application.decided_at else None,
        "decided_by": application.decided_by,
        "reason": application.reason,
        "confirmation": application.confirmation.value,
        "expires_at": application.expires_at.isoformat() if application.expires_at else None,
        "centre": centre_out(centre),
    }


def animator_out(animator: Animator) -> dict[str, Any]:
    return {
        "id": str(animator.id),
        "name": animator.name,
        "email": animator.email,
        "confirmed": animator.confirmed,
        "confirmed_at": animator.confirmed_at.isoformat() if animator.confirmed_at else None,
    }


def history_out(entry: HistoryEntry, personal: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "action": entry.action,
        "previous_status": entry.previous_status,
        "status": entry.status,
        "reason": entry.reason,
        "at": entry.at.isoformat(),
    }
    if personal:
        view["by"] = entry.actor
        view["by_actor"] = entry.actor_ref
    return view
