"""The mail catcher speaks enough of Mailpit's API for the services' tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import smtplib
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

import httpx
import pytest
from crnt_devstack.mailcatcher import MailCatcher

BIENVENUE_TEXT = (
    "Bonjour Élodie,\n\n"
    "Votre espace « Médiathèque de l'Aa » est inscrit au réseau.\n"
    "Budget alloué : 1 234,56 €\n"
)
BIENVENUE_HTML = (
    "<html><body><p>Bonjour <strong>Élodie</strong>,</p>"
    "<p>Budget alloué : 1 234,56 €</p></body></html>"
)


def bienvenue() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address("Réseau CRNT", "noreply", "crnt.example")
    msg["To"] = Address("Élodie Lefèvre", "elodie", "saint-omer.example")
    msg["Cc"] = "compta@crnt.example"
    msg["Subject"] = "Bienvenue à Saint-Omer"
    msg["Date"] = "Tue, 03 Jun 2025 10:15:00 +0200"
    msg["Message-ID"] = "<bienvenue-1@crnt.example>"
    msg.set_content(BIENVENUE_TEXT, cte="quoted-printable")
    msg.add_alternative(BIENVENUE_HTML, subtype="html", cte="base64")
    return msg


def relance() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "budget@crnt.example"
    msg["To"] = "tresorier@arques.example"
    msg["Subject"] = "Relance budget 2025"
    msg["Message-ID"] = "<relance-2@crnt.example>"
    msg.set_content("Merci de valider le budget.\n")
    return msg


async def send(
    catcher: MailCatcher,
    *messages: EmailMessage,
    login: tuple[str, str] | None = None,
    to_addrs: Sequence[str] | None = None,
) -> None:
    def deliver() -> None:
        with smtplib.SMTP(
            catcher.host, catcher.smtp_port, local_hostname="localhost", timeout=10
        ) as smtp:
            if login is not None:
                smtp.login(*login)
            for message in messages:
                smtp.send_message(message, to_addrs=to_addrs)

    await asyncio.to_thread(deliver)


@pytest.fixture
async def catcher() -> AsyncIterator[MailCatcher]:
    async with MailCatcher(smtp_port=0, http_port=0, max_messages=100) as running:
        yield running


@pytest.fixture
async def api(catcher: MailCatcher) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=catcher.http_url, timeout=10) as client:
        yield client


@pytest.fixture
async def two_mails(catcher: MailCatcher) -> None:
    await send(catcher, bienvenue())
    # Authenticated like a service configured with credentials; one envelope-only recipient.
    await send(
        catcher,
        relance(),
        login=("notifications", "s3cret"),
        to_addrs=["tresorier@arques.example", "archives@crnt.example"],
    )


async def test_livez(api: httpx.AsyncClient) -> None:
    response = await api.get("/livez")
    assert response.status_code == 200


@pytest.mark.usefixtures("two_mails")
async def test_messages_are_listed_newest_first(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/messages")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["count"], body["messages_count"]) == (2, 2, 2)
    newest, oldest = body["messages"]
    assert newest["Subject"] == "Relance budget 2025"
    assert int(newest["ID"]) > int(oldest["ID"])
    assert oldest["Subject"] == "Bienvenue à Saint-Omer"
    assert oldest["MessageID"] == "bienvenue-1@crnt.example"
    assert oldest["From"] == {"Name": "Réseau CRNT", "Address": "noreply@crnt.example"}
    assert oldest["To"] == [{"Name": "Élodie Lefèvre", "Address": "elodie@saint-omer.example"}]
    assert oldest["Cc"] == [{"Name": "", "Address": "compta@crnt.example"}]
    assert oldest["Snippet"].startswith("Bonjour Élodie, Votre espace « Médiathèque")
    assert oldest["Size"] > 0
    assert datetime.fromisoformat(oldest["Created"]).tzinfo is not None

    page = (await api.get("/api/v1/messages", params={"limit": 1, "start": 1})).json()
    assert (page["count"], page["messages_count"]) == (1, 2)
    assert page["messages"][0]["ID"] == oldest["ID"]


@pytest.mark.usefixtures("two_mails")
async def test_message_detail_decodes_french_mime_parts(api: httpx.AsyncClient) -> None:
    listing = (await api.get("/api/v1/search", params={"query": "subject:Bienvenue"})).json()
    message_id = listing["messages"][0]["ID"]

    detail = (await api.get(f"/api/v1/message/{message_id}")).json()
    assert detail["ID"] == message_id
    assert detail["Subject"] == "Bienvenue à Saint-Omer"
    assert detail["Text"] == BIENVENUE_TEXT
    assert "1 234,56 €" in detail["Text"]
    assert detail["HTML"].strip() == BIENVENUE_HTML
    assert detail["Date"] == "2025-06-03T10:15:00.000+02:00"
    assert detail["ReturnPath"] == "noreply@crnt.example"
    assert detail["Bcc"] == []

    other = (await api.get("/api/v1/message/latest")).json()
    assert other["Subject"] == "Relance budget 2025"
    assert other["Text"] == "Merci de valider le budget.\n"
    assert other["HTML"] == ""
    assert other["Bcc"] == [{"Name": "", "Address": "archives@crnt.example"}]


@pytest.mark.usefixtures("two_mails")
@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("to:elodie@saint-omer.example", ["Bienvenue à Saint-Omer"]),
        ("to:compta@crnt.example", ["Bienvenue à Saint-Omer"]),  # Cc counts as to:
        ("to:archives@crnt.example", ["Relance budget 2025"]),  # envelope-only recipient
        ('subject:"Bienvenue à Saint-Omer"', ["Bienvenue à Saint-Omer"]),
        ('subject:"bienvenue à saint-omer"', ["Bienvenue à Saint-Omer"]),
        ("MÉDIATHÈQUE", ["Bienvenue à Saint-Omer"]),  # free text, body, case-insensitive
        ("from:budget@ budget", ["Relance budget 2025"]),
        ("-subject:bienvenue", ["Relance budget 2025"]),
        ("crnt.example", ["Relance budget 2025", "Bienvenue à Saint-Omer"]),
        ('subject:"Bienvenue à Lille"', []),
    ],
)
async def test_search(api: httpx.AsyncClient, query: str, subjects: list[str]) -> None:
    response = await api.get("/api/v1/search", params={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert [m["Subject"] for m in body["messages"]] == subjects
    assert (body["total"], body["messages_count"]) == (2, len(subjects))


@pytest.mark.usefixtures("two_mails")
async def test_raw_and_headers(api: httpx.AsyncClient) -> None:
    message_id = (await api.get("/api/v1/messages")).json()["messages"][1]["ID"]

    raw = await api.get(f"/api/v1/message/{message_id}/raw")
    assert raw.status_code == 200
    assert b"Message-ID: <bienvenue-1@crnt.example>" in raw.content
    parsed = email.message_from_bytes(raw.content, policy=email.policy.default)
    assert parsed["Subject"] == "Bienvenue à Saint-Omer"

    headers = (await api.get(f"/api/v1/message/{message_id}/headers")).json()
    assert headers["Message-Id"] == ["<bienvenue-1@crnt.example>"]  # Go-canonical, like Mailpit
    assert headers["Cc"] == ["compta@crnt.example"]
    assert headers["Mime-Version"] == ["1.0"]
    assert headers["Content-Type"][0].startswith("multipart/alternative")


async def test_delete_some_then_all(catcher: MailCatcher, api: httpx.AsyncClient) -> None:
    await send(catcher, bienvenue(), relance(), relance())
    ids = [m["ID"] for m in (await api.get("/api/v1/messages")).json()["messages"]]

    response = await api.request("DELETE", "/api/v1/messages", json={"IDs": ids[:2]})
    assert response.status_code == 200
    remaining = (await api.get("/api/v1/messages")).json()
    assert [m["ID"] for m in remaining["messages"]] == ids[2:]

    assert (await api.delete("/api/v1/messages")).status_code == 200
    assert (await api.get("/api/v1/messages")).json()["total"] == 0
    assert catcher.messages == []


async def test_unknown_message_is_a_json_404(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/message/nope", "/api/v1/message/42/headers", "/api/v1/message/latest"):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json"
        assert "not found" in response.json()["detail"]


async def test_eight_bit_utf8_headers_and_html_only(catcher: MailCatcher) -> None:
    raw = (
        "From: Mairie <mairie@saint-omer.example>\r\n"
        "To: Hélène <helene@example.org>\r\n"
        "Subject: Réunion à 18 h — 12 €\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "<p>Salle des fêtes&nbsp;: entrée libre</p>\r\n"
    ).encode()

    def deliver() -> None:
        with smtplib.SMTP(catcher.host, catcher.smtp_port, local_hostname="localhost") as smtp:
            smtp.sendmail("mairie@saint-omer.example", ["helene@example.org"], raw)

    await asyncio.to_thread(deliver)
    (message,) = catcher.messages
    assert message.subject == "Réunion à 18 h — 12 €"
    assert message.to == [{"Name": "Hélène", "Address": "helene@example.org"}]
    assert message.text == "Salle des fêtes : entrée libre"  # derived from HTML, like Mailpit
    assert message.raw == raw


async def test_oldest_messages_are_dropped() -> None:
    async with MailCatcher(smtp_port=0, http_port=0, max_messages=3) as catcher:
        for n in range(5):
            catcher.add(f"Subject: n{n}\r\n\r\nbody\r\n".encode(), "a@example.org", ["b@x.org"])
        assert [m.subject for m in catcher.messages] == ["n2", "n3", "n4"]
        assert [m.id for m in catcher.messages] == ["3", "4", "5"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_main_serves_and_exits_cleanly_on_sigterm() -> None:
    smtp_port, http_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crnt_devstack.mailcatcher",
        f"--smtp-port={smtp_port}",
        f"--http-port={http_port}",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
            for _ in range(200):
                try:
                    if (await client.get("/livez")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the mail catcher did not come up")
            probe = MailCatcher(smtp_port=smtp_port)  # only used for host/port in send()
            await send(probe, relance())
            assert (await client.get("/api/v1/messages")).json()["total"] == 1
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert "received ID=1 from=budget@crnt.example" in stderr.decode()


async def test_html_view_lists_and_reads_mails(
    api: httpx.AsyncClient, catcher: MailCatcher
) -> None:
    message = EmailMessage()
    message["From"], message["To"] = "identite@crnt.example", "elodie@saint-omer.example"
    message["Subject"] = "Votre lien de connexion"
    message.set_content("Ouvrez http://127.0.0.1:8000/connexion/lien?jeton=abc&x=1 pour entrer.\n")
    message.add_alternative("<p>Bonjour <script>alert(1)</script></p>", subtype="html")
    await send(catcher, message, relance())

    inbox = await api.get("/")
    assert inbox.status_code == 200
    assert inbox.headers["content-type"].startswith("text/html")
    assert "2 courriels" in inbox.text
    assert inbox.text.index("Relance budget 2025") < inbox.text.index("Votre lien de connexion")
    searched = await api.get("/", params={"q": "subject:lien"})
    assert "Votre lien de connexion" in searched.text
    assert "Relance budget" not in searched.text

    first = catcher.messages[0]
    page = await api.get(f"/view/{first.id}")
    assert page.status_code == 200
    link = "http://127.0.0.1:8000/connexion/lien?jeton=abc&amp;x=1"
    assert f'<a href="{link}">{link}</a>' in page.text
    assert f'src="/view/{first.id}.html"' in page.text
    assert "sandbox" in page.text

    part = await api.get(f"/view/{first.id}.html")
    assert "<script>" in part.text  # shown as sent, but the page may run nothing:
    assert part.headers["content-security-policy"].startswith("sandbox")
    assert (await api.get("/view/999")).status_code == 404
