"""``crnt deliveries``: the emails notifications sent, and how they went."""

from typing import Annotated

import typer
from crnt_shared.vocabularies import DeliveryStatus, MailKind

from crnt_cli.choices import choice
from crnt_cli.client import Service
from crnt_cli.output import AsJson, as_json_if, command, group, table

deliveries = group("Emails sent to the animators and the agency.")


@command(deliveries, "list")
def deliveries_list(
    status: Annotated[str | None, choice(DeliveryStatus, "A delivery status.")] = None,
    recipient: Annotated[str | None, typer.Option(help="an email address")] = None,
    kind: Annotated[str | None, choice(MailKind, "The kind of mail", metavar="KIND")] = None,
    limit: int = 50,
    as_json: AsJson = False,
) -> None:
    """Emails and their delivery status."""
    page = Service.from_env("notifications").json(
        "GET",
        "/deliveries",
        params={"status": status, "recipient": recipient, "kind": kind, "limit": limit},
    )
    if as_json_if(as_json, page):
        return
    items = page["items"] if isinstance(page, dict) else page
    table(
        f"Deliveries ({page.get('total', len(items)) if isinstance(page, dict) else len(items)})",
        ["created", "recipient", "kind", "status", "subject"],
        [
            [
                d.get("created_at"),
                d.get("recipient"),
                d.get("kind"),
                d.get("status"),
                d.get("subject"),
            ]
            for d in items
        ],
    )
