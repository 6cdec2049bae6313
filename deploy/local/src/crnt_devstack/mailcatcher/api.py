"""The HTTP side: the subset of Mailpit's API v1 that tests read (``/api/v1/messages``,
``/api/v1/message/{ID}``, ``.../headers``, ``.../raw``, ``/api/v1/search``,
``DELETE /api/v1/messages``, ``/livez``; ``{ID}`` may be ``latest``), and the pages people
read (:mod:`~crnt_devstack.mailcatcher.pages`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from crnt_devstack.mailcatcher.message import JSON, CaughtMessage
from crnt_devstack.mailcatcher.pages import PAGE_HEADERS, inbox_page, message_page
from crnt_devstack.mailcatcher.store import MessageStore

Limit = Annotated[int, Query(ge=1)]
Start = Annotated[int, Query(ge=0)]


class DeleteRequest(BaseModel):
    ids: list[str] = Field(default_factory=list, alias="IDs")


def build_app(store: MessageStore) -> FastAPI:
    app = FastAPI(title="crnt mail catcher (Mailpit API subset)")

    def get(message_id: str) -> CaughtMessage:
        message = store.get(message_id)
        if message is None:
            raise HTTPException(status_code=404, detail=f"message {message_id!r} not found")
        return message

    def page(found: list[CaughtMessage], start: int, limit: int) -> JSON:
        shown = found[::-1][start : start + limit]
        return {
            "total": len(store),
            "unread": len(store),
            "count": len(shown),
            "messages_count": len(found),
            "start": start,
            "tags": [],
            "messages": [m.summary() for m in shown],
        }

    @app.get("/livez", response_class=PlainTextResponse)
    @app.get("/readyz", response_class=PlainTextResponse)
    async def livez() -> str:
        return "ok"

    @app.get("/api/v1/messages")
    async def list_messages(limit: Limit = 50, start: Start = 0) -> JSON:
        return page(store.messages, start, limit)

    @app.delete("/api/v1/messages", response_class=PlainTextResponse)
    async def delete_messages(body: Annotated[DeleteRequest | None, Body()] = None) -> str:
        if body is None or not body.ids:
            store.clear()
        store.remove(body.ids if body else [])
        return "ok"

    @app.get("/api/v1/search")
    async def search(query: str, limit: Limit = 50, start: Start = 0) -> JSON:
        return page(store.matching(query), start, limit)

    @app.delete("/api/v1/search", response_class=PlainTextResponse)
    async def delete_search(query: str) -> str:
        store.remove([m.id for m in store.matching(query)])
        return "ok"

    @app.get("/api/v1/message/{message_id}")
    async def get_message(message_id: str) -> JSON:
        return get(message_id).detail()

    @app.get("/api/v1/message/{message_id}/headers")
    async def get_headers(message_id: str) -> dict[str, list[str]]:
        return get(message_id).headers

    @app.get("/api/v1/message/{message_id}/raw")
    async def get_raw(message_id: str) -> Response:
        return Response(get(message_id).raw, media_type="text/plain; charset=utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def inbox(q: str = "", limit: Limit = 200) -> HTMLResponse:
        found = store.matching(q)[::-1][:limit]
        return HTMLResponse(inbox_page(found, q, len(store)), headers=PAGE_HEADERS)

    @app.get("/view/{message_id}.html", response_class=HTMLResponse, include_in_schema=False)
    async def view_html(message_id: str) -> HTMLResponse:
        headers = {
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"
        }
        return HTMLResponse(get(message_id).html, headers=headers)

    @app.get("/view/{message_id}", response_class=HTMLResponse, include_in_schema=False)
    async def view(message_id: str) -> HTMLResponse:
        return HTMLResponse(message_page(get(message_id)), headers=PAGE_HEADERS)

    return app
