"""Identity's rules without I/O: standing, names, return paths, keys and their rotation."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from crnt_identity import keys
from crnt_identity.domain import (
    Animation,
    Person,
    digest,
    display_name_from,
    safe_return_to,
    sign_in_html,
    sign_in_text,
    standing,
)
from crnt_shared.auth import Role, person_id_for

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def person(roles: frozenset[Role] = frozenset(), removed: bool = False) -> Person:
    return Person(uuid4(), "claire@arques.example.org", "Claire", roles, removed)


def test_an_animator_of_a_member_centre_has_the_role_and_that_centre_only() -> None:
    member, withdrawn = uuid4(), uuid4()
    who = standing(
        person(), [Animation(member, "Claire Dupont", True), Animation(withdrawn, "C", False)]
    )
    assert who.roles == {Role.ANIMATOR}
    assert who.centres == {member}
    assert who.display_name == "Claire Dupont"
    assert who.may_sign_in


def test_nobody_without_a_role_or_removed_may_sign_in() -> None:
    assert not standing(person(), [Animation(uuid4(), "C", False)]).may_sign_in
    assert not standing(person(frozenset({Role.AGENCY}), removed=True), []).may_sign_in
    assert standing(person(frozenset({Role.COPIL})), []).roles == {Role.COPIL}


def test_ids_names_and_digests() -> None:
    assert person_id_for("Lea.Martin@Example.org ") == person_id_for("lea.martin@example.org")
    assert display_name_from("lea.martin@example.org") == "Lea Martin"
    assert display_name_from("jean-paul_roux@example.org") == "Jean Paul Roux"
    assert digest("a") != digest("b")
    assert len(digest("a")) == 32


@pytest.mark.parametrize("bad", ["https://evil.example", "//evil.example", "budget", "/\\evil"])
def test_return_to_is_a_path_of_the_site(bad: str) -> None:
    with pytest.raises(ValueError, match="path of the site"):
        safe_return_to(bad)
    assert safe_return_to("/budget?annee=2026") == "/budget?annee=2026"


def test_the_mail_is_french_with_its_typography() -> None:
    text = sign_in_text("http://x/connexion/lien?jeton=abc")
    assert "ouvrez ce lien\u00a0:" in text
    assert "15\u00a0minutes" in text
    assert "ne sert qu’une fois" in text
    assert "'" not in text
    assert 'href="http://x/connexion/lien?jeton=abc"' in sign_in_html(
        "http://x/connexion/lien?jeton=abc"
    )


def test_keys_rotate_announced_ahead_then_the_old_one_retires() -> None:
    first = keys.generate("passphrase", NOW, NOW)
    assert keys.signing_key([first], NOW) == first
    assert not keys.needs_new_key([first], NOW + timedelta(days=29), timedelta(days=30))
    later = NOW + timedelta(days=30)
    assert keys.needs_new_key([first], later, timedelta(days=30))
    second = keys.generate("passphrase", later, later + timedelta(seconds=60))
    ring = [first, second]
    # Announced, not yet signing: the old key still signs.
    assert keys.signing_key(ring, later) == first
    assert keys.signing_key(ring, later + timedelta(seconds=60)) == second
    # The old key retires once the last token it signed has expired.
    assert keys.to_retire(ring, later + timedelta(seconds=61), 900) == []
    assert keys.to_retire(ring, later + timedelta(seconds=60 + 900 + 31), 900) == [first]


def test_private_keys_are_encrypted_and_decrypted_with_the_passphrase() -> None:
    key = keys.generate("passphrase", NOW, NOW)
    assert b"ENCRYPTED PRIVATE KEY" in key.private_pem
    assert "d" not in key.public_jwk
    assert keys.Vault("passphrase").private(key) is not None
    with pytest.raises(ValueError, match=r"password|decrypt|Bad"):
        keys.Vault("wrong").private(key)
