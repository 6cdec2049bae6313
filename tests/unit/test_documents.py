"""The documents' writer: every format renders, even a document with nothing to chart yet."""

import io

import pytest
from crnt_shared.documents import Chart, Document, Table, render
from pypdf import PdfReader

EMPTY_YEAR = Document(
    title="Budget annexe 2000",
    facts=["Version 1"],
    tables=[Table(title="Dépenses", header=["Ligne", "Montant"], rows=[])],
    charts=[
        Chart(title="Dépenses par axe", labels=[], series=[]),
        Chart(title="Ressources", labels=["Région"], series=[("Estimé", [])]),
    ],
)


@pytest.mark.parametrize("fmt", ["ods", "xlsx", "pdf"])
def test_a_year_with_no_line_yet_still_makes_its_document(fmt: str) -> None:
    # Found by fuzzing: reportlab's bar chart raised IndexError on empty data (a 500).
    content = render(EMPTY_YEAR, fmt)
    assert content
    if fmt == "pdf":
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        assert "Budget annexe 2000" in text
