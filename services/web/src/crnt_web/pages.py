"""Rendering: one Jinja2 environment, the French typography applied to every page."""

from collections.abc import Callable
from functools import partial
from typing import Any

from crnt_shared import typography
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crnt_web import charts, formatting
from crnt_web.session import CSRF_FIELD, ROLE_LABELS, csrf_token


def _labelled(labels: dict[str, str]) -> Callable[[Any], str]:
    """A filter that names a value by its label (the value itself where it has none)."""
    return partial(formatting.label, labels)


class Pages:
    def __init__(self, *, mail_catcher_url: str | None) -> None:
        self.environment = Environment(
            loader=PackageLoader("crnt_web", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters.update(
            euros=formatting.euros,
            signed_euros=formatting.signed_euros,
            number=formatting.number,
            percent=formatting.percent,
            date_fr=formatting.date_fr,
            datetime_fr=formatting.datetime_fr,
            membership=_labelled(formatting.MEMBERSHIP),
            application=_labelled(formatting.APPLICATION),
            programme_status=_labelled(formatting.PROGRAMME),
            action_status=_labelled(formatting.ACTION),
            axis=_labelled(formatting.AXES),
            delivery_status=_labelled(formatting.DELIVERY),
            typology=_labelled(formatting.TYPOLOGIES),
            nature=_labelled(formatting.NATURES),
            plan_status=_labelled(formatting.PLAN_STATUS),
            expense_kind=_labelled(formatting.EXPENSE_KIND),
            ratio_percent=formatting.ratio_percent,
            share_of=formatting.share_of,
            missing=formatting.missing,
            hours=lambda v: str(v).replace(".", ","),
            badge=lambda v: formatting.BADGES.get(str(v), "info"),
            role=_labelled(ROLE_LABELS),
        )
        self.environment.globals.update(
            bars=charts.bars,
            Bar=charts.Bar,
            axes=formatting.AXES,
            natures=formatting.NATURES,
            csrf_field=CSRF_FIELD,
            mail_catcher_url=mail_catcher_url,
        )

    def render(
        self, request: Request, template: str, context: dict[str, Any] | None = None, **extra: Any
    ) -> str:
        values = {
            "request": request,
            "path": request.url.path,
            "person": getattr(request.state, "person", None),
            "csrf": csrf_token(request),
            "errors": {},
            "values": {},
            "notice": request.session.pop("notice", None) if "session" in request.scope else None,
            **(context or {}),
            **extra,
        }
        return typography.html(self.environment.get_template(template).render(values))

    def response(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        return HTMLResponse(
            self.render(request, template, context), status_code=status_code, headers=headers
        )


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def notify(request: Request, message: str, kind: str = "success") -> None:
    """A message for the next page (after a redirect), shown once."""
    request.session["notice"] = {"message": message, "kind": kind}
