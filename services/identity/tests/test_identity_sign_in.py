"""Sign-in by mailed link on the real PostgreSQL, Kafka and SMTP: the link, the session, the
token, and what happens when access ends."""

import asyncio
from typing import Any

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.contracts.registry import (
    AnimatorChangeData,
    AnimatorRemoved,
    MembershipApproved,
    MembershipWithdrawn,
)
from crnt_shared.testing import AGENCY_TOKEN
from fastapi import FastAPI

from .conftest import (
    AGENCY_EMAIL,
    COPIL_EMAIL,
    animator,
    bearer,
    centre,
    handled,
    link_secret,
    membership,
    sign_in,
)

pytestmark = pytest.mark.integration


async def test_an_agency_person_signs_in_with_the_mailed_link_once(
    client: httpx.AsyncClient, mail: MailCatcher, app: FastAPI
) -> None:
    response = await client.post(
        "/api/v1/sign-in", json={"email": AGENCY_EMAIL.upper(), "return_to": "/budget"}
    )
    assert response.status_code == 202
    secret = await link_secret(mail, AGENCY_EMAIL)
    message = next(m for m in mail.messages if m.to[0]["Address"] == AGENCY_EMAIL)
    assert message.subject == "Votre lien de connexion au réseau des cybercentres"
    assert "http://127.0.0.1:8000/connexion/lien?jeton=" in message.text
    assert "ce lien\u00a0:" in message.text
    assert "15\u00a0minutes" in message.text
    assert "’" in message.text
    assert "'" not in message.text

    redeemed = await client.post("/api/v1/sign-in/redeem", json={"token": secret})
    assert redeemed.status_code == 200, redeemed.text
    grant = redeemed.json()
    assert grant["token_type"] == "Bearer"
    assert 0 < grant["expires_in"] <= 900
    assert grant["return_to"] == "/budget"
    assert grant["person"]["email"] == AGENCY_EMAIL
    assert grant["person"]["display_name"] == "Lea Martin"
    assert grant["person"]["roles"] == ["agency"]

    me = await client.get("/api/v1/me", headers=bearer(grant["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == grant["person"]["id"]

    again = await client.post("/api/v1/sign-in/redeem", json={"token": secret})
    assert again.status_code == 400
    mistyped = await client.post("/api/v1/sign-in/redeem", json={"token": secret[:-2] + "xx"})
    assert mistyped.status_code == 400
    assert again.json()["detail"] == mistyped.json()["detail"]

    # The secret and the refresh token are kept as digests only, and never published.
    async with app.state.runtime.pool.acquire() as connection:
        outbox = await connection.fetch("SELECT payload FROM outbox")
        dumped = " ".join(str(row) for row in await connection.fetch("SELECT * FROM sessions"))
        dumped += " ".join(
            str(row) for row in await connection.fetch("SELECT * FROM sign_in_links")
        )
    for row in outbox:
        assert secret.encode() not in row["payload"]
        assert grant["refresh_token"].encode() not in row["payload"]
    assert secret not in dumped
    assert grant["refresh_token"] not in dumped


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, mail: MailCatcher
) -> None:
    known = await client.post("/api/v1/sign-in", json={"email": COPIL_EMAIL})
    unknown = await client.post("/api/v1/sign-in", json={"email": "nobody@example.org"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    await link_secret(mail, COPIL_EMAIL)
    await asyncio.sleep(0.5)
    assert not [m for m in mail.messages if m.to[0]["Address"] == "nobody@example.org"]


async def test_sign_in_requests_are_limited_per_address(
    client: httpx.AsyncClient, mail: MailCatcher
) -> None:
    for _ in range(5):
        assert (
            await client.post("/api/v1/sign-in", json={"email": "x@example.org"})
        ).status_code == 202
    refused = await client.post("/api/v1/sign-in", json={"email": "x@example.org"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "x@example.org" not in refused.text
    # Another address from the same client still may (the per-client limit is higher).
    assert (
        await client.post("/api/v1/sign-in", json={"email": "y@example.org"})
    ).status_code == 202


async def test_an_expired_link_is_refused_like_a_used_one(
    client: httpx.AsyncClient, mail: MailCatcher, app: FastAPI
) -> None:
    await client.post("/api/v1/sign-in", json={"email": COPIL_EMAIL})
    secret = await link_secret(mail, COPIL_EMAIL)
    async with app.state.runtime.pool.acquire() as connection:
        await connection.execute("UPDATE sign_in_links SET expires_at = now() - interval '1 s'")
    response = await client.post("/api/v1/sign-in/redeem", json={"token": secret})
    assert response.status_code == 400
    assert "already used, expired, or mistyped" in response.json()["detail"]


async def test_refresh_and_sign_out(client: httpx.AsyncClient, mail: MailCatcher) -> None:
    grant = await sign_in(client, mail, COPIL_EMAIL)
    refreshed = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["person"]["roles"] == ["copil"]
    assert refreshed.json()["session_id"] == grant["session_id"]
    ended = await client.post(
        "/api/v1/sessions/end", json={"refresh_token": grant["refresh_token"]}
    )
    assert ended.status_code == 204
    after = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert after.status_code == 401


async def test_the_animators_of_member_centres_sign_in_until_their_centre_leaves(
    client: httpx.AsyncClient, mail: MailCatcher, app: FastAPI, publish: Any
) -> None:
    arques = centre("Cybercentre d'Arques")
    claire = animator("claire@arques.example.org", "Claire Dupont")
    pending = await client.post("/api/v1/sign-in", json={"email": claire.email})
    assert pending.status_code == 202  # not a member yet: nothing is sent
    approved = membership(MembershipApproved, arques, [claire], "pending")
    await publish(approved)
    await handled(app, approved)

    grant = await sign_in(client, mail, claire.email)
    assert grant["person"]["roles"] == ["animator"]
    assert grant["person"]["centres"] == [str(arques.id)]
    assert grant["person"]["display_name"] == "Claire Dupont"
    assert len([m for m in mail.messages if m.to[0]["Address"] == claire.email]) == 1

    withdrawn = membership(
        MembershipWithdrawn, arques.model_copy(update={"status": "withdrawn"}), [claire], "member"
    )
    await publish(withdrawn)
    await handled(app, withdrawn)
    me = await client.get("/api/v1/me", headers=bearer(grant["access_token"]))
    assert me.status_code == 401
    assert "Claire" not in me.text
    assert claire.email not in me.text
    refreshed = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert refreshed.status_code == 401
    async with app.state.runtime.pool.acquire() as connection:
        revoked = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'fr.crnt.identity.access.revoked.v1'"
        )
    assert revoked == 1


async def test_a_removed_animator_s_session_ends(
    client: httpx.AsyncClient, mail: MailCatcher, app: FastAPI, publish: Any
) -> None:
    arques = centre("Cybercentre d'Arques")
    claire = animator("claire@arques.example.org", "Claire Dupont")
    marc = animator("marc@arques.example.org", "Marc Petit")
    approved = membership(MembershipApproved, arques, [claire, marc], "pending")
    await publish(approved)
    await handled(app, approved)
    grant = await sign_in(client, mail, marc.email)
    removed = AnimatorRemoved.create(
        source="/crnt/registry",
        subject=str(arques.id),
        data=AnimatorChangeData(centre=arques, animator=marc),
    )
    await publish(removed)
    await handled(app, removed)
    assert (
        await client.get("/api/v1/me", headers=bearer(grant["access_token"]))
    ).status_code == 401
    refused = await client.post(
        "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert refused.status_code == 401
    # Claire, still an animator, is not affected.
    assert (await sign_in(client, mail, claire.email))["person"]["roles"] == ["animator"]


async def test_the_agency_adds_and_removes_people(
    client: httpx.AsyncClient, mail: MailCatcher
) -> None:
    agency = bearer(AGENCY_TOKEN)
    added = await client.post(
        "/api/v1/people",
        json={
            "email": "Nina.Bernard@copil.example.org",
            "display_name": "Nina Bernard",
            "roles": ["copil"],
        },
        headers=agency,
    )
    assert added.status_code == 201, added.text
    person = added.json()
    assert (person["email"], person["roles"]) == ("nina.bernard@copil.example.org", ["copil"])
    listed = await client.get("/api/v1/people", headers=agency)
    assert {p["email"] for p in listed.json()["items"]} == {
        AGENCY_EMAIL,
        COPIL_EMAIL,
        "nina.bernard@copil.example.org",
    }
    grant = await sign_in(client, mail, person["email"])
    assert (
        await client.get("/api/v1/people", headers=bearer(grant["access_token"]))
    ).status_code == 403

    removed = await client.delete(f"/api/v1/people/{person['id']}", headers=agency)
    assert removed.status_code == 204
    assert (
        await client.get("/api/v1/me", headers=bearer(grant["access_token"]))
    ).status_code == 401
    assert (
        await client.post(
            "/api/v1/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
        )
    ).status_code == 401
    assert (
        await client.delete(f"/api/v1/people/{person['id']}", headers=agency)
    ).status_code == 404
    # No new link for a removed person; the answer is the same all the same.
    assert (
        await client.post("/api/v1/sign-in", json={"email": person["email"]})
    ).status_code == 202
    await asyncio.sleep(0.5)
    assert len([m for m in mail.messages if m.to[0]["Address"] == person["email"]]) == 1


async def test_the_public_keys_verify_the_tokens(
    client: httpx.AsyncClient, mail: MailCatcher
) -> None:
    import jwt

    keys = (await client.get("/api/v1/keys")).json()["keys"]
    assert len(keys) == 1
    assert "d" not in keys[0]
    grant = await sign_in(client, mail, AGENCY_EMAIL)
    header = jwt.get_unverified_header(grant["access_token"])
    assert header["kid"] == keys[0]["kid"]
    assert header["alg"] == "EdDSA"
    claims = jwt.decode(
        grant["access_token"],
        jwt.PyJWK(keys[0]).key,
        algorithms=["EdDSA"],
        audience="crnt",
        issuer="crnt-identity",
    )
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["sub"] == grant["person"]["id"]
    assert claims["sid"] == grant["session_id"]
