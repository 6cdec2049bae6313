"""Bar charts drawn by the server as SVG: no script, readable without colours, and each one is
followed on its page by a table of the same figures (the chart is an image with a title; the
table is what a screen reader reads)."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from crnt_shared import typography
from markupsafe import Markup

BAR_HEIGHT = 22
GAP = 10
LABEL_WIDTH = 300
BAR_WIDTH = 360
VALUE_WIDTH = 130
COLOUR = "#000091"  # the DSFR's blue France: one series, one colour


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as people read it ("1 234,56 €", "40 %")


def _clip(text: str, length: int = 40) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def bars(title: str, items: Sequence[Bar], *, chart_id: str) -> Markup:
    """A horizontal bar chart; ``chart_id`` names its title for ``aria-labelledby``."""
    largest = max((item.value for item in items), default=0) or 1
    height = max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    rows = []
    for index, item in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(2.0, BAR_WIDTH * item.value / largest) if item.value > 0 else 0
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.0f}" text-anchor="end">'
            f"{escape(typography.text(_clip(item.label)))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}"'
            f' fill="{COLOUR}"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR_HEIGHT * 0.7:.0f}">'
            f"{escape(item.shown)}</text>"
        )
    title_text = escape(typography.text(title))
    # Every text in it is escaped above; the numbers are ours.
    return Markup(  # noqa: S704
        f'<svg class="crnt-chart" role="img" aria-labelledby="{chart_id}-title"'
        f' viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' xmlns="http://www.w3.org/2000/svg" font-size="13">'
        f'<title id="{chart_id}-title">{title_text}</title>'
        f"{''.join(rows)}</svg>"
    )
