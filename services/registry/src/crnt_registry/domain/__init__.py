"""The registry's rules, without I/O: identifiers, the national standard's vocabularies, opening
hours, the centre as the standard ``standard-mediation-num`` (v1.0.2) names its fields, the
membership state machine and the confirmation of anonymous applications.

What the other rooms use is imported from here; each module of the package says its part."""

from crnt_registry.domain.confirmation import (
    AGENCY_ACCOUNT,
    Confirmation,
    ServiceAccount,
    Submitter,
    accepts_confirmation,
    after_confirmation,
    expires_at,
    expiry_reason,
    needs_confirmation,
)
from crnt_registry.domain.draft import (
    CORE_FIELDS,
    DETAIL_FIELDS,
    AnimatorDraft,
    CentreDraft,
    CodeInsee,
    Siren,
    Text,
)
from crnt_registry.domain.identifiers import (
    PIVOT_PLACEHOLDER,
    siret_valid,
    validate_code_insee,
    validate_code_postal,
    validate_pivot,
    validate_siren,
)
from crnt_registry.domain.membership import (
    CLOSED,
    EpciMismatch,
    IllegalTransition,
    MembershipAction,
    MembershipStatus,
    ensure_animator_removable,
    ensure_approvable,
    ensure_open,
    next_status,
    resolve_epci,
)
from crnt_registry.domain.opening_hours import validate_horaires
from crnt_registry.domain.vocabularies import (
    TYPOLOGIES,
    typology_warnings,
    validate_typologie,
    vocabulary,
)

__all__ = [
    "AGENCY_ACCOUNT",
    "CLOSED",
    "CORE_FIELDS",
    "DETAIL_FIELDS",
    "PIVOT_PLACEHOLDER",
    "TYPOLOGIES",
    "AnimatorDraft",
    "CentreDraft",
    "CodeInsee",
    "Confirmation",
    "EpciMismatch",
    "IllegalTransition",
    "MembershipAction",
    "MembershipStatus",
    "ServiceAccount",
    "Siren",
    "Submitter",
    "Text",
    "accepts_confirmation",
    "after_confirmation",
    "ensure_animator_removable",
    "ensure_approvable",
    "ensure_open",
    "expires_at",
    "expiry_reason",
    "needs_confirmation",
    "next_status",
    "resolve_epci",
    "siret_valid",
    "typology_warnings",
    "validate_code_insee",
    "validate_code_postal",
    "validate_horaires",
    "validate_pivot",
    "validate_siren",
    "validate_typologie",
    "vocabulary",
]
