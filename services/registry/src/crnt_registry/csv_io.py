"""The national standard's CSV (``standard-mediation-num`` v1.0.2): UTF-8, comma-separated,
``|`` between the values of a multi-valued field, one place per row.

The standard has no EPCI, no animators and no workstations: an imported row takes its EPCI from
its ``code_insee`` and starts with no animators and 0 workstations, which the agency sets later.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, get_origin

from pydantic import ValidationError

from crnt_registry.domain import CentreDraft
from crnt_registry.repository import Centre

#: The standard's columns, in its order.
COLUMNS = (
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
)
#: Columns the standard requires, besides ``code_insee`` that the registry needs for the EPCI.
REQUIRED_COLUMNS = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj")
#: The columns of a list field: their values share one cell, ``|`` between them.
MULTI_VALUED = frozenset(
    name
    for name, field in CentreDraft.model_fields.items()
    if name in COLUMNS and get_origin(field.annotation) is list
)
SEPARATOR = "|"


@dataclass(frozen=True)
class Row:
    """A line of the file that reads as a centre: its number, its ``id`` column, the centre."""

    line: int
    source_id: str
    centre: CentreDraft


class RowError(NamedTuple):
    """A line of the file that does not read as a centre, and why: a ``(line, reason)`` as the
    import's report lists its errors."""

    line: int
    reason: str


class UnreadableFile(ValueError):
    """A file that is not the standard's CSV at all (its header, its encoding)."""


def parse(content: bytes) -> tuple[list[Row], list[RowError]]:
    """The valid rows as drafts, and a sentence for each invalid one (line 1 is the header)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"the file is not UTF-8 (byte {error.start}): save it as UTF-8 CSV and send it again"
        ) from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in (*REQUIRED_COLUMNS, "code_insee") if name not in header]
    if missing:
        raise UnreadableFile(
            f"the header lacks the standard's column(s) {', '.join(missing)}: the first line must"
            " name the columns of standard-mediation-num, comma-separated"
        )
    rows: list[Row] = []
    errors: list[RowError] = []
    line = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise UnreadableFile(
                f"line {line + 1} cannot be read as CSV ({error}): a value is larger than"
                f" {csv.field_size_limit() // 1024} KiB or a quote is not closed"
            ) from error
        start, line = line + 1, reader.line_num
        if None in record:
            errors.append(RowError(start, "the row has more values than the header has columns"))
            continue
        values = {
            name: _unneutralised((value or "").strip()) for name, value in record.items() if name
        }
        if not any(values.values()):
            continue
        problems = [
            f"{name}: required by the standard" for name in REQUIRED_COLUMNS if not values.get(name)
        ]
        try:
            centre = CentreDraft.model_validate(_draft_values(values))
        except ValidationError as error:
            problems += [_problem(item) for item in error.errors()]
            centre = None
        if problems or centre is None:
            errors.append(RowError(start, "; ".join(problems)))
        else:
            rows.append(Row(start, values["id"], centre))
    return rows, errors


def _draft_values(values: dict[str, str]) -> dict[str, Any]:
    draft: dict[str, Any] = {}
    for name in COLUMNS:
        value = values.get(name, "")
        if name == "id" or not value:
            continue
        if name in MULTI_VALUED:
            draft[name] = [part for part in value.split(SEPARATOR) if part.strip()]
        else:
            draft[name] = value
    return draft


def _problem(item: Any) -> str:
    field = ".".join(str(part) for part in item["loc"]) or "row"
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = "not a column of the standard"
    return f"{field}: {message}"


def render(centres: Iterable[Centre]) -> str:
    """The centres as the standard's CSV; ``id`` is the registry's centre id."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for centre in centres:
        facts = centre.facts.model_dump(mode="json")
        facts["date_maj"] = centre.date_maj.isoformat()
        facts["epci_siren"] = centre.epci_siren
        writer.writerow([_cell(name, str(centre.id), facts) for name in COLUMNS])
    return buffer.getvalue()


def _cell(name: str, centre_id: str, facts: dict[str, Any]) -> str:
    if name == "id":
        return centre_id
    value = facts.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralise(SEPARATOR.join(str(item) for item in value))
    return neutralise(str(value))


#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs: OWASP's defence against CSV injection is
    a single quote before a cell that starts with = + - @ tab or CR (the csv writer quotes and
    doubles the double quotes). A plain number (-1.5, +33321…) is no formula and stays."""
    if cell.startswith(FORMULA_TRIGGERS) and not _NUMBER.match(cell):
        return f"'{cell}"
    return cell


def _unneutralised(cell: str) -> str:
    """The value :func:`neutralise` exported, so that an export imports back unchanged."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS):
        return cell[1:]
    return cell
