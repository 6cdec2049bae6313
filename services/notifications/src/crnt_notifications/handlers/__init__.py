"""The use cases: one handler per event (``async def handler(event, uow, notifier)``, ``uow`` a
:data:`~crnt_notifications.handlers.notifier.NotificationsUnitOfWork`), by the
service that publishes it (:mod:`~crnt_notifications.handlers.registry`,
:mod:`~crnt_notifications.handlers.programme`, :mod:`~crnt_notifications.handlers.budget`), and
the sealing of coalesced notices (:mod:`~crnt_notifications.handlers.notices`); and what people
ask through the API (:mod:`~crnt_notifications.handlers.requests`). Each runs in one
unit of work: the read model, the deliveries and their rendered content commit together with
the inbox record, or not at all."""

from crnt_notifications.handlers.budget import on_dotations_changed, on_participation_exceeded
from crnt_notifications.handlers.notices import SEAL_BATCH, seal_due_notices
from crnt_notifications.handlers.notifier import (
    DELIVERY_BATCH,
    NotificationsUnitOfWork,
    Notifier,
)
from crnt_notifications.handlers.programme import on_action_status_changed, on_programme_validated
from crnt_notifications.handlers.registry import (
    AGENCY_TRANSITIONS,
    DECISION_KIND,
    NETWORK_KEY,
    on_address_confirmed,
    on_animator_changed,
    on_animator_removed,
    on_application_submitted,
    on_centre_updated,
    on_epci,
    on_membership_changed,
    on_membership_decisions,
    on_person_erased,
)
from crnt_notifications.handlers.requests import (
    ConfirmAddress,
    OptOut,
    RetryDelivery,
    SetPreferences,
    StoredPreferences,
    confirm_address,
    opt_out,
    retry_delivery,
    set_preferences,
)

__all__ = [
    "AGENCY_TRANSITIONS",
    "DECISION_KIND",
    "DELIVERY_BATCH",
    "NETWORK_KEY",
    "SEAL_BATCH",
    "ConfirmAddress",
    "NotificationsUnitOfWork",
    "Notifier",
    "OptOut",
    "RetryDelivery",
    "SetPreferences",
    "StoredPreferences",
    "confirm_address",
    "on_action_status_changed",
    "on_address_confirmed",
    "on_animator_changed",
    "on_animator_removed",
    "on_application_submitted",
    "on_centre_updated",
    "on_dotations_changed",
    "on_epci",
    "on_membership_changed",
    "on_membership_decisions",
    "on_participation_exceeded",
    "on_person_erased",
    "on_programme_validated",
    "opt_out",
    "retry_delivery",
    "seal_due_notices",
    "set_preferences",
]
