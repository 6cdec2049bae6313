"""What the notifications' routers share: the runtime of the request, who may call, the plain
pages a person's browser gets from a link."""

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from crnt_shared.auth import Actor, Role, require
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from crnt_notifications.runtime import NotificationsRuntime

_Route = TypeVar("_Route", bound=Callable[..., Any])

#: The service's one router: each module of this package adds the routes of its resource.
router = APIRouter()

MAX_PAGE = 500
NNBSP = "\u202f"  # before : ; ! ? and inside « », as French typography wants


def _runtime(request: Request) -> NotificationsRuntime:
    runtime: NotificationsRuntime = request.app.state.runtime
    return runtime


#: The notifications' runtime, which serves the request.
Runtime = Annotated[NotificationsRuntime, Depends(_runtime)]

AGENCY = require(Role.AGENCY)
#: Anyone signed in (each route checks whose address it is).
SignedIn = Annotated[Actor, require(Role.AGENCY, Role.COPIL, Role.ANIMATOR)]


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:40em;margin:2em auto;">'
        f'<h1 style="font-size:1.3em;">{html.escape(title)}</h1>{body}</body></html>',
        status_code=status_code,
    )


@dataclass(frozen=True)
class LinkPages:
    """The routes of a signed link a person opens from an email, at ``path``: its GET shows a
    page that asks to confirm (a mail scanner that opens links changes nothing), its POST acts.
    Both answer with an HTML page for their browser, not JSON."""

    path: str
    tag: str
    responses: dict[int | str, dict[str, Any]] | None = None

    def get(self, summary: str) -> Callable[[_Route], _Route]:
        return self._route("GET", summary)

    def post(self, summary: str) -> Callable[[_Route], _Route]:
        return self._route("POST", summary)

    def _route(self, method: str, summary: str) -> Callable[[_Route], _Route]:
        return router.api_route(
            self.path,
            methods=[method],
            tags=[self.tag],
            response_class=HTMLResponse,
            summary=summary,
            responses=self.responses,
        )
