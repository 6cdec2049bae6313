"""What the programme's events carry, built from its records: an action's facts, its
participants, its indicators."""

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from crnt_shared.contracts.programme import ActionFacts, Participant
from crnt_shared.contracts.programme import Indicators as ContractIndicators
from crnt_shared.money import amount_from_cents

from crnt_programme.domain import Action, Centre, Indicators, format_hours


def participants_of(
    ids: Iterable[UUID], action: Action, centres: Mapping[UUID, Centre]
) -> list[Participant]:
    return [
        Participant(
            centre_id=centre,
            centre_name=centres[centre].name if centre in centres else str(centre),
            lead=centre == action.lead_centre_id,
        )
        for centre in ids
    ]


def action_facts(action: Action, centres: Mapping[UUID, Centre]) -> ActionFacts:
    return ActionFacts(
        id=action.id,
        year=action.year,
        axis=action.axis.value,
        title=action.title,
        description=action.description,
        status=action.status.value,
        lead_centre_id=action.lead_centre_id,
        needs_lead=action.needs_lead,
        participants=participants_of(action.centre_ids, action, centres),
        starts_on=action.starts_on,
        ends_on=action.ends_on,
        estimated_cost=amount_from_cents(action.estimated_cost_cents),
        actual_cost=amount_or_none(action.actual_cost_cents),
        progress=action.progress,
        progress_note=action.progress_note,
        nature=action.nature.value,
        indicators=ContractIndicators(**indicators_facts(action.indicators)),
    )


def indicators_facts(indicators: Indicators) -> dict[str, Any]:
    return {
        "sessions": indicators.sessions,
        "people_reached": indicators.people_reached,
        "hours": format_hours(indicators.hours_tenths),
    }


def amount_or_none(cents: int | None) -> str | None:
    return None if cents is None else amount_from_cents(cents)
