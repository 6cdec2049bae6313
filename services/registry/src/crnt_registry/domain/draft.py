"""A centre as the standard ``standard-mediation-num`` (v1.0.2) names its fields, and its
animators, as submitted."""

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

from crnt_shared.errors import RuleViolation as RuleViolation  # raised here, as before
from crnt_shared.vocabularies import CENTRE_MAIN_FIELDS

# The stub of opening-hours-py does not declare ParserError.
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from crnt_registry.domain.identifiers import (
    validate_code_insee,
    validate_code_postal,
    validate_pivot,
    validate_siren,
    validate_telephone,
)
from crnt_registry.domain.opening_hours import validate_horaires
from crnt_registry.domain.vocabularies import VOCABULARIES, distinct, validate_typologie, vocabulary

Siren = Annotated[str, AfterValidator(validate_siren)]
Pivot = Annotated[str, AfterValidator(validate_pivot)]
CodePostal = Annotated[str, AfterValidator(validate_code_postal)]
CodeInsee = Annotated[str, AfterValidator(validate_code_insee)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


def _enum_items(values: Iterable[str]) -> dict[str, Any]:
    return {"items": {"type": "string", "enum": sorted(values)}}


def _listed(field: str) -> Any:
    return Field(default_factory=list, json_schema_extra=_enum_items(VOCABULARIES[field]))


def _checked(field: str) -> AfterValidator:
    return AfterValidator(vocabulary(field))


class CentreDraft(BaseModel):
    """A centre's facts as submitted: the standard's fields and names, plus ``epci_siren`` and
    ``workstations``. Multi-valued fields are lists here and ``|``-joined in CSV."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nom: Text
    pivot: Pivot
    adresse: Text
    code_postal: CodePostal
    commune: Text
    code_insee: CodeInsee
    epci_siren: Siren | None = Field(
        default=None,
        description="Taken from the EPCI whose communes include code_insee if left out.",
    )
    typologie: Annotated[list[str], AfterValidator(validate_typologie)] = Field(
        default_factory=list,
        description="Free in the standard: data·inclusion's codes or others (with a warning).",
        examples=[["EPN", "TIERS_LIEUX"]],
    )
    workstations: int = Field(default=0, ge=0, le=10_000, description="Public workstations.")
    horaires: Annotated[str, AfterValidator(validate_horaires)] | None = None
    services: Annotated[list[str], _checked("services")] = _listed("services")
    date_maj: date | None = None
    complement_adresse: Text | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    telephone: Annotated[str, AfterValidator(validate_telephone)] | None = None
    courriels: list[EmailStr] = Field(default_factory=list)
    site_web: list[Annotated[str, Field(pattern=r"^https?://\S+$")]] = Field(default_factory=list)
    presentation_resume: Annotated[str, Field(max_length=280)] | None = None
    presentation_detail: Annotated[str, Field(max_length=10_000)] | None = None
    source: Text | None = None
    itinerance: Annotated[list[str], _checked("itinerance")] = _listed("itinerance")
    structure_parente: Text | None = None
    publics_specifiquement_adresses: Annotated[
        list[str], _checked("publics_specifiquement_adresses")
    ] = _listed("publics_specifiquement_adresses")
    prise_en_charge_specifique: Annotated[list[str], _checked("prise_en_charge_specifique")] = (
        _listed("prise_en_charge_specifique")
    )
    frais_a_charge: Annotated[list[str], _checked("frais_a_charge")] = _listed("frais_a_charge")
    dispositif_programmes_nationaux: Annotated[
        list[str], _checked("dispositif_programmes_nationaux")
    ] = _listed("dispositif_programmes_nationaux")
    formations_labels: Annotated[list[str], _checked("formations_labels")] = _listed(
        "formations_labels"
    )
    autres_formations_labels: Text | None = None
    modalites_acces: Annotated[list[str], _checked("modalites_acces")] = _listed("modalites_acces")
    modalites_accompagnement: Annotated[list[str], _checked("modalites_accompagnement")] = _listed(
        "modalites_accompagnement"
    )
    fiche_acces_libre: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    prise_rdv: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None

    @field_validator("courriels")
    @classmethod
    def _lowercase_emails(cls, values: list[str]) -> list[str]:
        return distinct(value.lower() for value in values)


#: The fields stored in their own columns; the standard's other fields are kept as details.
CORE_FIELDS = (*CENTRE_MAIN_FIELDS, "horaires", "services", "date_maj")
DETAIL_FIELDS = tuple(name for name in CentreDraft.model_fields if name not in CORE_FIELDS)


class AnimatorDraft(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text
    email: EmailStr

    @field_validator("email")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()
