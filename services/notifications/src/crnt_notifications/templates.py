"""The emails, rendered from Jinja2 templates: per kind a subject, a plain text and an HTML body.

Files live in ``templates/``: ``<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html``. HTML
is autoescaped; text is not. Undefined variables are errors, so that a template that names a
field the handler does not give fails in the tests, not in someone's mailbox.
"""

import re
from dataclasses import dataclass
from typing import Any

from crnt_shared import dates, labels, typography
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crnt_notifications import formatting
from crnt_notifications.domain import Category, Kind, category_of

CATEGORY_LABELS = {
    Category.MEMBERSHIP: "adhésion de votre lieu",
    Category.AGENCY: "suivi des adhésions et du budget",
    Category.NETWORK: "nouveaux membres du réseau",
    Category.BUDGET: "dotation de votre lieu",
    Category.PROGRAMME: "programme de travail et actions",
}

#: A membership's state, as "Adhésion : active → suspendue" says it.
STATUS_LABELS = {
    "pending": "demandée",
    "member": "active",
    "rejected": "refusée",
    "suspended": "suspendue",
    "withdrawn": "retirée",
}

#: The axes of the work programme, as the programme service names them.
AXIS_LABELS = labels.AXES

#: An action's state ("une action programmée, en cours, terminée, annulée").
ACTION_STATUS_LABELS = labels.ACTION_STATUSES


#: Control characters (C0, DEL, C1 such as U+0085) and the Unicode line and paragraph
#: separators: Python's email package reads any of them as a line break, and a header value
#: with a line break cannot be written.
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")


def header_text(text: str) -> str:
    """Text that can go into a mail header on one line: every control character and line
    separator (U+2028, U+0085, VT, FF, CR, LF, tab…) becomes one space. The no-break spaces of
    amounts and French punctuation stay."""
    return _NOT_IN_A_HEADER.sub(" ", text).strip()


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


#: Who signs every mail, and whom to write to (NOTIFICATIONS_AGENCY_NAME, ..._CONTACT_EMAIL).
DEFAULT_AGENCY = "Agence d'urbanisme et de développement de la région de Saint-Omer"
DEFAULT_CONTACT = "crnt@example.org"


class Renderer:
    """Every mail through one French typography filter (``crnt_shared.typography``)."""

    def __init__(self, *, agency: str = DEFAULT_AGENCY, contact: str = DEFAULT_CONTACT) -> None:
        self.agency, self.contact = agency, contact
        self._environment = Environment(
            loader=PackageLoader("crnt_notifications", "templates"),
            autoescape=select_autoescape(["html"], default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Package files, not edited while the service runs: no stat of each per mail.
            auto_reload=False,
        )
        self._environment.filters.update(
            euros=formatting.euros,
            signed_euros=formatting.signed_euros,
            date_fr=dates.french_date,
            datetime_fr=dates.french_datetime,
            status_fr=lambda status: STATUS_LABELS.get(status, status),
            axis_fr=lambda axis: AXIS_LABELS.get(axis, axis),
            action_status_fr=lambda status: ACTION_STATUS_LABELS.get(status, status),
            percent=formatting.percent,
            count_fr=formatting.count_fr,
            number=formatting.number,
            of_place=formatting.of_place,
        )

    def render(
        self, kind: Kind, context: dict[str, Any], *, unsubscribe_url: str | None
    ) -> Rendered:
        values = {
            **context,
            "kind": kind.value,
            "category_label": CATEGORY_LABELS[category_of(kind)],
            "essential": category_of(kind).essential,
            "unsubscribe_url": unsubscribe_url,
            "agency_name": self.agency,
            "contact_email": self.contact,
        }
        subject = self._environment.get_template(f"{kind}.subject.txt").render(values)
        return Rendered(
            subject=typography.text(header_text(subject)),
            text=typography.text(
                self._environment.get_template(f"{kind}.txt").render(values).strip() + "\n"
            ),
            html=typography.html(self._environment.get_template(f"{kind}.html").render(values)),
        )
