"""What people read in a browser: the inbox (``/``, searched with ``?q=``) and one message
(``/view/{ID}``), plain French pages without script; the message's HTML part is shown in a
sandboxed frame."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from crnt_devstack.mailcatcher.message import Address, CaughtMessage, rfc3339

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem;"
    "color:#161616}a{color:#000091}table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}"
    "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}"
    "iframe{width:100%;height:32rem;border:1px solid #ddd}dt{font-weight:bold}"
)
_URL = re.compile(r"https?://[^\s<>\"']+")


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — boîte de test</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _who(addresses: Sequence[Address]) -> str:
    return ", ".join(
        f"{a['Name']} <{a['Address']}>" if a["Name"] else a["Address"] for a in addresses
    )


def inbox_page(found: Sequence[CaughtMessage], query: str, total: int) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(rfc3339(m.created))}</td>"
        f"<td>{html.escape(_who(m.to))}</td>"
        f'<td><a href="/view/{m.id}">{html.escape(m.subject or "(sans objet)")}</a></td></tr>'
        for m in found
    )
    table = (
        "<table><caption>Courriels, du plus récent au plus ancien</caption><thead><tr>"
        '<th scope="col">Reçu (UTC)</th><th scope="col">Destinataires</th>'
        f'<th scope="col">Objet</th></tr></thead><tbody>{rows}</tbody></table>'
        if found
        else "<p>Aucun courriel.</p>"
    )
    form = (
        '<form method="get" action="/" role="search"><label for="q">Chercher '
        "(to:adresse, subject:mot…)</label> "
        f'<input id="q" name="q" type="search" value="{html.escape(query, quote=True)}"> '
        '<button type="submit">Chercher</button></form>'
    )
    heading = f"<h1>Boîte de test : {total} courriel{'s' if total > 1 else ''}</h1>"
    return _page("Courriels", heading + form + table)


def _linked(text: str) -> str:
    escaped = html.escape(text)
    return _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)


def message_page(message: CaughtMessage) -> str:
    facts = "".join(
        f"<dt>{name}</dt><dd>{html.escape(value)}</dd>"
        for name, value in (
            ("De", _who([message.sender])),
            ("À", _who(message.to)),
            ("Objet", message.subject),
            ("Reçu (UTC)", rfc3339(message.created)),
        )
    )
    parts = f"<h2>Texte</h2><pre>{_linked(message.text)}</pre>"
    if message.html:
        parts += (
            f'<h2>HTML</h2><iframe sandbox src="/view/{message.id}.html" '
            f'title="Version HTML du courriel"></iframe>'
        )
    back = '<p><a href="/">← Tous les courriels</a></p>'
    title = message.subject or "(sans objet)"
    return _page(title, f"{back}<h1>{html.escape(title)}</h1><dl>{facts}</dl>{parts}")
