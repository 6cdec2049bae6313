"""The national standard's CSV, without I/O: parsing, reporting, rendering."""

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from crnt_registry.csv_io import COLUMNS, parse, render
from crnt_registry.domain import CentreDraft, MembershipStatus
from crnt_registry.repository import Centre

DATA = Path(__file__).with_name("data")


def test_the_standards_example_row_is_valid() -> None:
    rows, errors = parse((DATA / "exemple-valide.csv").read_bytes())
    assert errors == []
    [row] = rows
    assert row.line == 2
    assert row.centre.pivot == "43493312300029"
    assert row.centre.typologie == ["TIERS_LIEUX", "ASSO"]
    assert row.centre.workstations == 0
    assert row.centre.epci_siren is None


def member_in_reims(facts: CentreDraft) -> Centre:
    """A member centre of the Grand Reims with these facts, as the registry would store it."""
    now = datetime.now(UTC)
    return Centre(
        id=uuid4(),
        status=MembershipStatus.MEMBER,
        facts=facts,
        epci_siren="200067213",
        epci_name="CU du Grand Reims",
        date_maj=date(2024, 4, 2),
        created_at=now,
        updated_at=now,
    )


def test_the_saint_omer_places_are_valid() -> None:
    rows, errors = parse((DATA / "pays-de-saint-omer-lieux.csv").read_bytes())
    assert errors == []
    assert len(rows) == 8


def test_render_then_parse_gives_the_same_facts() -> None:
    [row], _ = parse((DATA / "exemple-valide.csv").read_bytes())
    centre = member_in_reims(row.centre.model_copy(update={"epci_siren": "200067213"}))
    exported = render([centre])
    [again], errors = parse(exported.encode())
    assert errors == []
    assert again.source_id == str(centre.id)
    assert again.centre == row.centre
    original = next(csv.DictReader(io.StringIO((DATA / "exemple-valide.csv").read_text())))
    rendered = next(csv.DictReader(io.StringIO(exported)))
    assert list(rendered) == list(COLUMNS)
    assert {k: v for k, v in rendered.items() if k != "id"} == {
        k: v for k, v in original.items() if k != "id"
    }


def test_invalid_rows_are_reported_with_their_line_and_reason() -> None:
    header = ",".join(COLUMNS)
    good = "a,43493312300029,Lieu,Reims,51100,51454,1 rue,,,,,,,,,,,,,,2024-04-02" + "," * 11
    bad_siret = good.replace("43493312300029", "43493312300028")
    bad_postal = good.replace("51100", "5110")
    multi_line = good.replace("1 rue", '"1 rue\nbâtiment B"')
    content = "\n".join([header, good, bad_siret, multi_line, bad_postal]).encode()
    rows, errors = parse(content)
    assert [row.line for row in rows] == [2, 4]
    assert [error.line for error in errors] == [3, 6]
    assert "pivot: SIRET 43493312300028 fails its checksum" in errors[0].reason
    assert "code_postal" in errors[1].reason


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised_and_read_back() -> None:
    [row], _ = parse((DATA / "exemple-valide.csv").read_bytes())
    hostile = {
        "nom": '=HYPERLINK("http://evil.example","Cliquez")',
        "adresse": "+1+cmd|' /C calc'!A0",
        "complement_adresse": "-2+3",
        "presentation_resume": "@SUM(1+1)*cmd|' /C calc'!A0",
        "longitude": -1.5,
    }
    # Validated as an import would, so that the facts compare with what the import reads.
    facts = type(row.centre).model_validate({**row.centre.model_dump(), **hostile})
    # Validation strips these, but a row stored before that rule could still hold them.
    whitespace_first = {
        "presentation_detail": "\tTab first",
        "structure_parente": "\rCarriage return first",
    }
    hostile |= whitespace_first
    stored = facts.model_copy(update=whitespace_first)
    centre = member_in_reims(stored)
    exported = render([centre])
    rendered = next(csv.DictReader(io.StringIO(exported, newline="")))
    for name, value in hostile.items():
        if isinstance(value, str):
            assert rendered[name] == f"'{value}", name
    assert rendered["longitude"] == "-1.5"  # a number is no formula: left as it is
    assert rendered["telephone"].startswith("+33")
    [again], errors = parse(exported.encode())
    assert errors == []
    # The quote is the export's, not the place's.
    assert again.centre == facts.model_copy(
        update={name: value.strip() for name, value in whitespace_first.items()}
    )
