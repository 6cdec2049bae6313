"""Tokens verified locally: signature, claims, keys by kid, rotation, revocation (no I/O)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from crnt_shared.auth import (
    MAX_TOKEN_SECONDS,
    Actor,
    ActorKind,
    Authenticator,
    KeyRing,
    Role,
    issue_token,
    new_signing_key,
    public_jwk,
    read_jwks,
    require_centre,
)
from crnt_shared.http import Problem

KEY = new_signing_key()
CENTRE = UUID("6d1c4a52-37b4-4a8e-9a4b-7f1f1f6c2b10")
PERSON = str(uuid4())


def token(
    *,
    key: Any = KEY,
    kid: str = "k1",
    roles: tuple[str, ...] = ("animator",),
    at: datetime | None = None,
    lifetime: int = 600,
) -> str:
    return issue_token(
        key,
        kid,
        person_id=PERSON,
        name="Claire Dupont",
        roles=roles,
        centres=[CENTRE],
        session_id="s1",
        issued_at=at or datetime.now(UTC),
        lifetime_seconds=lifetime,
    )


def authenticator(
    announced: dict[str, dict[str, Any]] | None = None,
    revoked: dict[str, datetime] | None = None,
) -> Authenticator:
    async def load() -> tuple[dict[str, dict[str, Any]], set[str]]:
        return dict(announced or {}), set()

    async def revoked_before(person_id: str) -> datetime | None:
        return (revoked or {}).get(person_id)

    return Authenticator(
        service_tokens={Role.AGENCY: "agency-token", Role.COPIL: "copil-token"},
        keys=KeyRing({"k1": public_jwk(KEY, "k1")}, load),
        revoked_before=revoked_before,
    )


async def test_a_person_s_token_names_them_their_roles_and_centres() -> None:
    actor = await authenticator().authenticate(token())
    assert actor.kind is ActorKind.PERSON
    assert (actor.id, actor.name, actor.session_id) == (PERSON, "Claire Dupont", "s1")
    assert actor.roles == {Role.ANIMATOR}
    assert actor.animates(CENTRE)
    assert not actor.animates(uuid4())
    assert actor.ref.model_dump() == {"kind": "person", "id": PERSON, "name": "Claire Dupont"}


async def test_static_tokens_are_service_accounts() -> None:
    actor = await authenticator().authenticate("agency-token")
    assert (actor.kind, actor.id) == (ActorKind.SERVICE, "service:agency")
    assert actor.roles == {Role.AGENCY}
    assert actor.label == "agency"
    copil = await authenticator().authenticate("copil-token")
    assert copil.roles == {Role.COPIL}


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "a.b.c",
        token(at=datetime.now(UTC) - timedelta(hours=1)),  # expired
        token(key=new_signing_key()),  # signed by another key under a known kid
        token(key=new_signing_key(), kid="unknown"),  # an unknown key
        token(lifetime=MAX_TOKEN_SECONDS + 60),  # longer than 15 minutes
        token(roles=("superuser",)),
    ],
)
async def test_refused_tokens_say_nothing_of_whom_they_name(bad: str) -> None:
    with pytest.raises(Problem) as refused:
        await authenticator().authenticate(bad)
    assert refused.value.status == 401
    assert "Claire" not in refused.value.detail
    assert PERSON not in refused.value.detail


async def test_a_key_announced_later_is_found_by_its_kid_rotation_without_downtime() -> None:
    new_key = new_signing_key()
    announced: dict[str, dict[str, Any]] = {}
    auth = authenticator(announced)
    with pytest.raises(Problem):
        await auth.authenticate(token(key=new_key, kid="k2"))
    announced["k2"] = public_jwk(new_key, "k2")
    auth = authenticator(announced)  # a fresh ring: reloads are throttled to one a second
    assert (await auth.authenticate(token(key=new_key, kid="k2"))).id == PERSON
    # Tokens of the previous key stay valid until they expire.
    assert (await auth.authenticate(token())).id == PERSON


async def test_tokens_issued_before_a_revocation_are_refused() -> None:
    issued = datetime.now(UTC) - timedelta(seconds=60)
    auth = authenticator(revoked={PERSON: datetime.now(UTC) - timedelta(seconds=30)})
    with pytest.raises(Problem) as refused:
        await auth.authenticate(token(at=issued))
    assert refused.value.status == 401
    # A token issued after the revocation (the person signed in again) is accepted.
    assert (await auth.authenticate(token())).id == PERSON


def test_only_the_agency_and_the_centre_s_animators_act_for_a_centre() -> None:
    animator = Actor(
        ActorKind.PERSON, PERSON, "Claire", frozenset({Role.ANIMATOR}), frozenset({CENTRE})
    )
    require_centre(animator, CENTRE)
    with pytest.raises(Problem) as refused:
        require_centre(animator, uuid4())
    assert refused.value.status == 403
    agency = Actor(ActorKind.PERSON, PERSON, "Léa", frozenset({Role.AGENCY}))
    require_centre(agency, uuid4())


def test_jwks_from_json_or_file(tmp_path: Any) -> None:
    jwks = '{"keys": [{"kid": "k1", "kty": "OKP"}]}'
    assert read_jwks(jwks) == [{"kid": "k1", "kty": "OKP"}]
    path = tmp_path / "jwks.json"
    path.write_text(jwks)
    assert read_jwks(str(path)) == [{"kid": "k1", "kty": "OKP"}]
    assert read_jwks(None) == []
    with pytest.raises(ValueError, match="JWKS"):
        read_jwks('{"nokeys": 1}')
