"""The AsyncAPI document of a service, as a page a person reads: rendered here from the
document itself, self-contained (no script, no font, no stylesheet from elsewhere), in French
with its typography; what the contracts say (in English) is marked ``lang="en"``.

``asyncapi_router`` serves the document at ``/asyncapi.json`` and the page at ``/asyncapi``.
"""

import html
import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from crnt_shared import typography
from crnt_shared.asyncapi import CONSUME, DEAD_LETTER, PUBLISH, SET_ASIDE
from crnt_shared.problems import problems
from crnt_shared.topics import DAY_MS

MAX_DEPTH = 8

STYLE = """
body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;color:#161616;background:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
a{color:#000091}a:focus,[tabindex]:focus{outline:3px solid #0a76f6;outline-offset:2px}
.skip{position:absolute;left:-999rem}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
code{font-family:ui-monospace,monospace;font-size:.95em;overflow-wrap:anywhere}
th code{overflow-wrap:normal}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #929292;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}article{border-top:1px solid #929292;margin-top:1.5rem}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fr(text: str) -> str:
    """A French sentence of the page, escaped, with its typography."""
    return _e(typography.text(text))


def _en(text: str | None, element: str = "p") -> str:
    return f'<{element} lang="en">{_e(text)}</{element}>' if text else ""


def _code(value: object) -> str:
    return f"<code>{_e(value)}</code>"


def _ref(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """What a local reference (``#/components/schemas/Name``) points to."""
    while "$ref" in schema:
        found: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            found = found[part.replace("~1", "/").replace("~0", "~")]
        schema = found
    return schema


def _type(document: dict[str, Any], schema: dict[str, Any]) -> str:
    schema = _ref(document, schema)
    if "const" in schema:
        return _code(json.dumps(schema["const"], ensure_ascii=False))
    if "enum" in schema:
        values = ", ".join(_code(value) for value in schema["enum"])
        return f"{_fr('l’une des valeurs :')} {values}"
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        return " ou ".join(_type(document, option) for option in options)
    names = {
        "string": "texte",
        "integer": "entier",
        "number": "nombre",
        "boolean": "booléen",
        "object": "objet",
        "null": "<code>null</code>",
    }
    kind = schema.get("type")
    if kind == "array":
        return f"liste de {_type(document, schema.get('items', {}))}"
    label = names.get(str(kind), "toute valeur") if kind else "toute valeur"
    if schema.get("format"):
        label += f" ({_e(schema['format'])})"
    if schema.get("pattern"):
        label += f", motif {_code(schema['pattern'])}"
    return label


def _object(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema of a field, through references, lists and ``T | None``."""
    schema = _ref(document, schema)
    if schema.get("type") == "array":
        return _object(document, schema.get("items", {}))
    for option in schema.get("anyOf", []):
        found = _object(document, option)
        if found is not None:
            return found
    return schema if "properties" in schema else None


def _fields(
    document: dict[str, Any], schema: dict[str, Any], prefix: str = "", depth: int = 0
) -> Iterator[tuple[str, str, bool, str | None]]:
    """(name, type, required, description) of every field, nested ones as ``a.b`` and the
    items of a list as ``a[].b``."""
    schema = _ref(document, schema)
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        resolved = _ref(document, field)
        description = field.get("description") or resolved.get("description")
        path = f"{prefix}{name}"
        yield path, _type(document, field), name in required, description
        nested = _object(document, field)
        if nested is not None and depth < MAX_DEPTH:
            is_list = resolved.get("type") == "array" or any(
                _ref(document, option).get("type") == "array"
                for option in resolved.get("anyOf", [])
            )
            yield from _fields(document, nested, f"{path}{'[]' if is_list else ''}.", depth + 1)


def _table(caption: str, rows: list[tuple[str, str, bool, str | None]]) -> str:
    body = "".join(
        f"<tr><th scope='row'><code>{'.<wbr>'.join(_e(part) for part in name.split('.'))}"
        f"</code></th><td>{kind}</td>"
        f"<td>{'oui' if required else 'non'}</td>"
        f"<td>{_en(description, 'span')}</td></tr>"
        for name, kind, required, description in rows
    )
    return (
        f'<div class="scroll" role="region" tabindex="0" aria-label="{_e(caption)}">'
        f"<table><caption>{_e(caption)}</caption><thead><tr><th scope='col'>Champ</th>"
        "<th scope='col'>Type</th><th scope='col'>Obligatoire</th>"
        f"<th scope='col'>Description</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def _anchor(name: str) -> str:
    return f"message-{name}"


def _message_links(document: dict[str, Any], operation: dict[str, Any]) -> str:
    items = []
    for reference in operation["messages"]:
        name = reference["$ref"].rsplit("/", 1)[1]
        message = document["components"]["messages"][name]
        link = f'<a href="#{_anchor(name)}">{_code(message["name"])}</a>'
        said = _en(message.get("summary"), "span")
        items.append(f"<li>{link}{_fr(' :')} {said}</li>" if said else f"<li>{link}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _topic(document: dict[str, Any], operation: dict[str, Any]) -> str:
    return str(_ref(document, operation["channel"])["address"])


def _operations(document: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [op for key, op in document["operations"].items() if key.startswith(prefix)]


def _section(anchor: str, title: str, content: str) -> str:
    return (
        f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{_e(title)}</h2>{content}</section>'
    )


def _published(document: dict[str, Any]) -> str:
    parts = []
    for operation in _operations(document, PUBLISH):
        kafka = _ref(document, operation["channel"])["bindings"]["kafka"]
        days = kafka["topicConfiguration"]["retention.ms"] // DAY_MS
        facts = f"{kafka['partitions']} partitions ; chaque événement y reste {days} jours."
        parts.append(f"<h3>Sujet {_code(_topic(document, operation))}</h3><p>{_fr(facts)}</p>")
        parts.append(_message_links(document, operation))
    return "".join(parts) or f"<p>{_fr('Rien.')}</p>"


def _consumed(document: dict[str, Any]) -> str:
    parts = [
        "<p>"
        + _fr(
            "Chaque groupe de consommateurs traite chaque événement une seule fois et ignore"
            " les autres types du sujet."
        )
        + "</p>"
    ]
    for operation in _operations(document, CONSUME):
        group = operation["bindings"]["kafka"]["groupId"]["enum"][0]
        topic = _topic(document, operation)
        parts.append(f"<h3>Groupe {_code(group)}, sujet {_code(topic)}</h3>")
        parts.append(_message_links(document, operation))
    return "".join(parts)


def _dead_letters(document: dict[str, Any]) -> str:
    topics = ", ".join(_code(_topic(document, op)) for op in _operations(document, SET_ASIDE))
    headers = document["components"]["schemas"]["DeadLetterHeaders"]["properties"]
    rows = [(name, "texte", True, field.get("description")) for name, field in headers.items()]
    said = _fr(
        "Un enregistrement qui n’est pas un événement valide d’un contrat connu, ou dont le"
        " traitement échoue encore après des tentatives bornées, est mis de côté tel quel"
        " (même clé, même valeur) sur le sujet du même nom suivi de « .dlq » :"
    )
    return (
        f"<p>{said} {topics}. {_fr('Ses en-têtes disent pourquoi.')}</p>"
        f"{_table('En-têtes d’une lettre morte', rows)}"
    )


def _envelope(document: dict[str, Any], message: dict[str, Any]) -> str:
    envelope = _ref(document, message["payload"])
    rows = [
        row
        for row in _fields(document, envelope)
        if row[0] not in ("type", "data") and not row[0].startswith("data.")
    ]
    said = _fr(
        "Chaque message est une enveloppe CloudEvents 1.0 en JSON structuré ; outre son type"
        " (type) et ses données (data), elle porte :"
    )
    return f"<p>{said}</p>{_table('Champs de l’enveloppe CloudEvents', rows)}"


def _message(document: dict[str, Any], name: str, message: dict[str, Any]) -> str:
    payload = _ref(document, message["payload"])
    data = _object(document, payload.get("properties", {}).get("data", {}))
    rows = list(_fields(document, data, "data.")) if data else []
    table = _table(f"Données de {message['name']}", rows) if rows else ""
    return (
        f'<article aria-labelledby="{_anchor(name)}"><h3 id="{_anchor(name)}">'
        f"{_code(message['name'])}</h3>{_en(message.get('summary'))}"
        f"{_en(message.get('description'))}"
        f"<p>{_fr('Clé Kafka : le sujet (subject) de l’événement. Contrat :')} {_code(name)}.</p>"
        f"{table}</article>"
    )


def render(document: dict[str, Any], service: str) -> str:
    """The page of ``document`` (an AsyncAPI 3.0 document of :mod:`crnt_shared.asyncapi`)."""
    messages = {
        name: message
        for name, message in document["components"]["messages"].items()
        if name != DEAD_LETTER
    }
    sections = [
        ("publie", "Ce que le service publie", _published(document)),
        ("consomme", "Ce que le service consomme", _consumed(document)),
    ]
    if _operations(document, SET_ASIDE):
        sections.append(("lettres", "Lettres mortes", _dead_letters(document)))
    if messages:
        first = next(iter(messages.values()))
        sections.append(("enveloppe", "L’enveloppe commune", _envelope(document, first)))
        ordered = sorted(messages.items(), key=lambda item: str(item[1]["name"]))
        articles = "".join(_message(document, name, message) for name, message in ordered)
        sections.append(("messages", "Les messages", articles))
    title = f"Les événements du service {service}"
    intro = _fr(
        "Ce que le service publie et consomme sur Kafka, tiré des contrats d’événements du"
        " projet. Chaque message est une enveloppe CloudEvents 1.0 ; sa clé Kafka est le sujet"
        " de l’événement, l’identifiant de l’agrégat, de sorte que les événements d’un même"
        " agrégat restent dans l’ordre."
    )
    links = (
        f"<p>{_fr('Le même document, pour les outils :')} "
        f'<a href="asyncapi.json">{_code("asyncapi.json")}</a> (AsyncAPI'
        f" {_e(document['asyncapi'])}). {_fr('L’API HTTP du service :')}"
        ' <a href="/docs"><code>/docs</code></a>.</p>'
    )
    summary = "".join(
        f'<li><a href="#{anchor}">{_e(text)}</a></li>' for anchor, text, _ in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · crnt</title><style>{STYLE}</style></head><body>"
        '<a class="skip" href="#contenu">Aller au contenu</a>'
        f'<main id="contenu"><h1>{_e(title)}</h1><p>{intro}</p>{links}'
        f'<nav aria-label="Sommaire"><ul>{summary}</ul></nav>'
        + "".join(_section(*section) for section in sections)
        + "</main></body></html>\n"
    )


def asyncapi_router(service: str, document: Callable[[], dict[str, Any]]) -> APIRouter:
    """``/asyncapi.json`` and ``/asyncapi``, the page of the same document."""
    router = APIRouter(tags=["events"])

    @router.get("/asyncapi.json", summary="The AsyncAPI 3.0 document of the events")
    @problems(uses_database=False)
    async def asyncapi_json() -> dict[str, Any]:
        return document()

    @router.get(
        "/asyncapi",
        summary="The same document, as a page to read",
        response_class=HTMLResponse,
        responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    )
    @problems(uses_database=False)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(render(document(), service))

    return router
