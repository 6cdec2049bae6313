"""The table ``make bench`` prints: each figure beside its baseline of the same run and its
target (issue 15)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One line of the table: what was measured, against what, for which target."""

    name: str
    measured: str
    baseline: str
    target: str
    met: bool | None


def table(figures: list[Figure], baseline: str = "baseline (same run)") -> str:
    rows = [("figure", "measured", baseline, "target", "met")]
    rows += [
        (
            f.name,
            f.measured,
            f.baseline,
            f.target,
            "-" if f.met is None else "yes" if f.met else "NO",
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    rendered = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    rendered.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return "\n".join(rendered)
