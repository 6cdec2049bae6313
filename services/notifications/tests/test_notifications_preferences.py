"""Preferences: opted-out recipients get nothing and are recorded as suppressed, but always hear
decisions about their own centre; the signed unsubscribe link works and refuses tampering."""

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher
from crnt_shared.contracts.registry import MembershipApproved, MembershipSuspended
from crnt_shared.testing import wait_until

from services.notifications.tests.notifications_testkit import (
    CCPL,
    Publish,
    animators,
    centre,
    mails_to,
    membership,
    settle,
    to,
)

pytestmark = pytest.mark.integration

API = "/api/v1"


async def test_opted_out_recipients_are_suppressed_but_hear_their_own_membership(
    publish: Publish,
    mail: MailCatcher,
    client: httpx.AsyncClient,
    agency: dict[str, str],
    window: float,
) -> None:
    response = await client.put(
        f"{API}/preferences/Lea@Arques.example", json={"opted_out": ["network"]}, headers=agency
    )
    assert response.status_code == 200, response.text
    assert response.json()["opted_out"] == ["network"]
    home = centre("Médiathèque d'Arques")
    people = animators("lea@arques.example", "tom@arques.example")
    await publish.registry(membership(MembershipApproved, home, people, previous="pending"))
    await mails_to(mail, "lea@arques.example")  # the welcome: essential
    await settle(window + 0.5)
    mail.clear()

    newcomer = centre("EPN de Lumbres", commune="Lumbres", epci=CCPL)
    await publish.registry(
        membership(
            MembershipApproved, newcomer, animators("alex@lumbres.example"), previous="pending"
        )
    )
    [news] = await mails_to(mail, "tom@arques.example")
    assert news.subject == "Un nouveau membre dans le réseau\u202f: EPN de Lumbres"
    await settle(0.5)
    assert to(mail, "lea@arques.example") == []
    suppressed = (
        await client.get(
            f"{API}/deliveries",
            params={"recipient": "lea@arques.example", "kind": "new_members"},
            headers=agency,
        )
    ).json()
    assert [item["status"] for item in suppressed["items"]] == ["suppressed"]

    await publish.registry(
        membership(
            MembershipSuspended,
            home.model_copy(update={"status": "suspended"}),
            people,
            previous="member",
            reason="Travaux",
        )
    )
    [decision] = await mails_to(mail, "lea@arques.example")
    assert decision.subject == "Adhésion suspendue\u202f: Médiathèque d'Arques"


async def test_the_unsubscribe_link_opts_out_and_a_tampered_one_is_refused(
    publish: Publish, mail: MailCatcher, client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    await publish.registry(
        membership(
            MembershipApproved, centre("Lieu A"), animators("ana@a.example"), previous="pending"
        ),
        membership(
            MembershipApproved, centre("Lieu B"), animators("bob@b.example"), previous="pending"
        ),
    )
    news = next(m for m in await mails_to(mail, "ana@a.example", 2) if "membre dans" in m.subject)
    [link] = re.findall(r"http://notifications\.test(/api/v1/unsubscribe\?token=\S+)", news.text)
    token = parse_qs(urlparse(link).query)["token"][0]

    page = await client.get(link)
    assert page.status_code == 200
    assert "ana@a.example" in page.text
    assert "nouveaux membres du réseau" in page.text
    before = (await client.get(f"{API}/preferences/ana@a.example", headers=agency)).json()
    assert before["opted_out"] == []  # looking at the page changes nothing

    done = await client.post(link)
    assert done.status_code == 200
    assert "Désinscription enregistrée" in done.text
    after = (await client.get(f"{API}/preferences/ana@a.example", headers=agency)).json()
    assert after["opted_out"] == ["network"]
    assert {c["category"]: c["opted_out"] for c in after["categories"]}["network"] is True
    assert (await client.post(link)).status_code == 200  # twice is fine

    payload, _, signature = token.partition(".")
    forged = payload.replace(payload[5], "A" if payload[5] != "A" else "B", 1)
    for bad in (f"{forged}.{signature}", f"{payload}.{signature[::-1]}", "not-a-token-at-all"):
        for method in ("GET", "POST"):
            refused = await client.request(method, f"{API}/unsubscribe", params={"token": bad})
            assert refused.status_code == 400, bad
            assert refused.headers["content-type"] == "application/problem+json"
            assert "not valid" in refused.json()["detail"]
    missing = await client.post(f"{API}/unsubscribe")
    assert missing.status_code == 422


async def test_preferences_api_validates_and_needs_the_agency(
    client: httpx.AsyncClient, agency: dict[str, str]
) -> None:
    url = f"{API}/preferences/kim@wizernes.example"
    assert (await client.get(url)).status_code == 401
    copil = {"Authorization": "Bearer test-copil-token"}
    assert (await client.get(url, headers=copil)).status_code == 403
    fresh = (await client.get(url, headers=agency)).json()
    assert fresh["opted_out"] == []
    assert {c["category"] for c in fresh["categories"] if c["essential"]} == {
        "membership",
        "agency",
    }
    essential = await client.put(url, json={"opted_out": ["membership"]}, headers=agency)
    assert essential.status_code == 422
    assert "always sent" in essential.json()["detail"]
    unknown = await client.put(url, json={"opted_out": ["spam"]}, headers=agency)
    assert unknown.status_code == 422
    extra = await client.put(url, json={"opted_out": [], "x": 1}, headers=agency)
    assert extra.status_code == 422
    bad_address = await client.get(f"{API}/preferences/not-an-address", headers=agency)
    assert bad_address.status_code == 422
    both = await client.put(url, json={"opted_out": ["budget", "network"]}, headers=agency)
    assert both.json()["opted_out"] == ["budget", "network"]

    async def stored() -> bool:
        got = (await client.get(url, headers=agency)).json()
        return bool(got["opted_out"] == ["budget", "network"] and got["updated_at"])

    await wait_until(stored)


@pytest.mark.parametrize("token", ["ébranlé.signature-é", "payload.sïgnature", "x\x00yyyyyyyyyy"])
async def test_a_mangled_unsubscribe_token_is_an_invalid_link_not_a_500(
    client: httpx.AsyncClient, token: str
) -> None:
    for method in ("GET", "POST"):
        refused = await client.request(method, f"{API}/unsubscribe", params={"token": token})
        assert refused.status_code == 400, refused.text
        assert "link" in refused.json()["detail"]
