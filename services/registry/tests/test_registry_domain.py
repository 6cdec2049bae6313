"""The registry's rules, without I/O: identifiers, vocabularies, opening hours, state machine."""

import pytest
from crnt_registry.domain import (
    PIVOT_PLACEHOLDER,
    TYPOLOGIES,
    AnimatorDraft,
    CentreDraft,
    membership,
    siret_valid,
    typology_warnings,
    validate_code_insee,
    validate_code_postal,
    validate_horaires,
    validate_pivot,
    validate_siren,
    validate_typologie,
    vocabulary,
)
from crnt_shared.errors import RuleViolation
from pydantic import ValidationError

from services.registry.tests.samples import lumbres

A = membership.MembershipAction
S = membership.MembershipStatus

ALLOWED = {
    (S.PENDING, A.APPROVE): S.MEMBER,
    (S.PENDING, A.REJECT): S.REJECTED,
    (S.MEMBER, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.REINSTATE): S.MEMBER,
    (S.MEMBER, A.WITHDRAW): S.WITHDRAWN,
    (S.SUSPENDED, A.WITHDRAW): S.WITHDRAWN,
    (S.PENDING, A.EXPIRE): S.EXPIRED,
}


@pytest.mark.parametrize(("current", "action"), list(ALLOWED))
def test_allowed_transitions(current: S, action: A) -> None:
    assert membership.next_status(current, action) is ALLOWED[(current, action)]


@pytest.mark.parametrize(
    ("current", "action"),
    [(state, action) for state in S for action in A if (state, action) not in ALLOWED],
)
def test_every_other_transition_is_refused_naming_both_states(current: S, action: A) -> None:
    with pytest.raises(membership.IllegalTransition) as refused:
        membership.next_status(current, action)
    message = str(refused.value)
    assert message.startswith(f"centre is {current.value};")
    assert "only when" in message


def test_the_message_says_from_where_a_transition_is_possible() -> None:
    with pytest.raises(
        membership.IllegalTransition,
        match=r"^centre is withdrawn; it can be reinstated"
        r" only when suspended$",
    ):
        membership.next_status(S.WITHDRAWN, A.REINSTATE)
    with pytest.raises(membership.IllegalTransition, match="only when member or suspended"):
        membership.next_status(S.PENDING, A.WITHDRAW)


def test_approval_needs_an_animator() -> None:
    membership.ensure_approvable(1)
    with pytest.raises(RuleViolation, match="no animator"):
        membership.ensure_approvable(0)


def test_closed_records_do_not_change() -> None:
    for status in (S.PENDING, S.MEMBER, S.SUSPENDED):
        membership.ensure_open(status, "facts")
    for status in (S.REJECTED, S.WITHDRAWN):
        with pytest.raises(RuleViolation, match=f"centre is {status.value}"):
            membership.ensure_open(status, "facts")


def test_a_centre_in_the_network_keeps_one_animator() -> None:
    membership.ensure_animator_removable(S.PENDING, 1)
    membership.ensure_animator_removable(S.MEMBER, 2)
    with pytest.raises(RuleViolation, match="last animator"):
        membership.ensure_animator_removable(S.MEMBER, 1)
    with pytest.raises(RuleViolation, match="last animator"):
        membership.ensure_animator_removable(S.SUSPENDED, 1)


@pytest.mark.parametrize(
    "siret", ["43493312300029", "24620101600077", "78403517200021", "33507537000023"]
)
def test_valid_sirets(siret: str) -> None:
    assert siret_valid(siret)
    assert validate_pivot(siret) == siret


def test_a_mistyped_siret_fails_its_checksum() -> None:
    assert not siret_valid("43493312300028")
    with pytest.raises(ValueError, match="checksum"):
        validate_pivot("43493312300028")


def test_la_poste_sirets_follow_their_own_rule() -> None:
    # Luhn fails for these, but the digits of La Poste's SIRETs add up to a multiple of 5.
    assert siret_valid("35600000000001")
    assert siret_valid("35600000000015")
    assert not siret_valid("35600000000002")
    assert siret_valid("35600000000048")  # the head office passes Luhn as well


def test_pivot_accepts_rna_the_placeholder_and_spaces() -> None:
    assert validate_pivot("W123456789") == "W123456789"
    assert validate_pivot(PIVOT_PLACEHOLDER) == PIVOT_PLACEHOLDER
    assert validate_pivot("434 933 123 00029") == "43493312300029"


@pytest.mark.parametrize("pivot", ["", "W12345678", "X123456789", "1234567890123", "abc"])
def test_pivot_refuses_the_rest(pivot: str) -> None:
    with pytest.raises(ValueError, match="neither a SIRET"):
        validate_pivot(pivot)


def test_siren() -> None:
    assert validate_siren("200069037") == "200069037"
    assert validate_siren("246 201 016") == "246201016"
    with pytest.raises(ValueError, match="9 digits"):
        validate_siren("20006903")
    with pytest.raises(ValueError, match="checksum"):
        validate_siren("200069038")


def test_postal_and_insee_codes() -> None:
    assert validate_code_postal("62500") == "62500"
    for bad in ("6250", "625000", "62 50", "A2500"):
        with pytest.raises(ValueError, match="5 digits"):
            validate_code_postal(bad)
    for good in ("62765", "2A004", "2B033", "97411"):
        assert validate_code_insee(good) == good
    for bad in ("20004", "2C004", "6276", "627650", "ABCDE"):
        with pytest.raises(ValueError, match="INSEE"):
            validate_code_insee(bad)


def test_typologie_and_vocabularies() -> None:
    assert validate_typologie(["EPN", "BIB", "EPN", " CS "]) == ["EPN", "BIB", "CS"]
    with pytest.raises(ValueError, match="short code"):
        validate_typologie(["X" * 101])
    check = vocabulary("services")
    assert check(["Aide aux démarches administratives"]) == ["Aide aux démarches administratives"]
    with pytest.raises(ValueError, match="not a value of the standard's services list"):
        check(["Réparation de vélos"])


@pytest.mark.parametrize(
    "hours",
    [
        "Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00",
        "24/7",
        "Mo-Sa 10:00-20:00; PH off",
        'Tu,Th 14:00-17:00 "sur rendez-vous"',
        "Jan-Jun Mo 09:00-12:00 || closed",
        "Fr 22:00-26:00",
    ],
)
def test_opening_hours_in_osm_syntax(hours: str) -> None:
    assert validate_horaires(hours) == hours


@pytest.mark.parametrize(
    ("hours", "says"),
    [
        ("lundi 9h-12h", "not an OpenStreetMap keyword"),
        ("Mo-Fr 09:00-12:00;; Sa 10:00-12:00", "empty rule"),
        ("Mo 25:99-26:00", "not a time"),
        ('Mo 09:00-12:00 "unclosed', "unclosed comment"),
        ("Mo 09:00-12:00 & Tu", "unexpected '&'"),
        ("   ", "empty"),
    ],
)
def test_opening_hours_mistakes_are_named(hours: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        validate_horaires(hours)


@pytest.mark.parametrize(
    "national", ["CFP", "EPI", "FABRIQUE", "MDH", "RELAIS_LECTURE", "BIB", "TIERS_LIEUX"]
)
def test_the_national_cartographys_typologies_are_kept_and_the_unknown_ones_warned(
    national: str,
) -> None:
    assert validate_typologie(["EPN", national]) == ["EPN", national]
    warnings = typology_warnings(["EPN", national])
    if national in TYPOLOGIES:
        assert warnings == []
    else:
        [warning] = warnings
        assert f"{national} is not a data·inclusion code; it was kept" in warning


def test_a_siret_whose_siren_fails_its_check_digit_is_refused() -> None:
    # The 14 digits pass Luhn, the SIREN 100000000 does not.
    assert not siret_valid("10000000000008")
    with pytest.raises(ValueError, match="SIREN 100000000, which fails its checksum"):
        validate_pivot("10000000000008")
    assert validate_pivot(PIVOT_PLACEHOLDER) == PIVOT_PLACEHOLDER


@pytest.mark.parametrize("hours", ["Mo-Fr 25:00-26:00", "Mo 24:00-25:00", "Mo 9h"])
def test_opening_hours_the_real_parser_refuses(hours: str) -> None:
    with pytest.raises(ValueError, match="OpenStreetMap"):
        validate_horaires(hours)


def test_epci_resolution() -> None:
    assert membership.resolve_epci("62765", None, "200069037") == "200069037"
    assert membership.resolve_epci("62765", "200069037", "200069037") == "200069037"
    assert membership.resolve_epci("62765", "200069037", None) == "200069037"
    with pytest.raises(membership.EpciMismatch, match="no registered EPCI lists commune 62765"):
        membership.resolve_epci("62765", None, None)
    with pytest.raises(membership.EpciMismatch, match="belongs to EPCI 246201016, not 200069037"):
        membership.resolve_epci("62534", "200069037", "246201016")


def test_a_centre_draft_validates_each_field() -> None:
    centre = CentreDraft.model_validate(lumbres(courriels=["Accueil@CCPLumbres.fr"]))
    assert centre.epci_siren is None
    assert centre.courriels == ["accueil@ccplumbres.fr"]
    with pytest.raises(ValidationError) as invalid:
        CentreDraft.model_validate(
            lumbres(workstations=-1, code_postal="6238", unknown="x", telephone="0321129494")
        )
    fields = {error["loc"][0] for error in invalid.value.errors()}
    assert fields == {"workstations", "code_postal", "unknown", "telephone"}


def test_an_animator_has_a_valid_email() -> None:
    assert AnimatorDraft(name="Ana", email="Ana@Example.org").email == "ana@example.org"
    with pytest.raises(ValidationError, match="email"):
        AnimatorDraft(name="Ana", email="not-an-email")
