"""The authors' written parts rendered: in the HTML and the PDF at their place (the
book assembly of the parts is in tests/unit/reporting/test_author_parts.py)."""

from __future__ import annotations

import re

import pypdf
import pytest
from support.author_parts import FILLED, filled_copy
from support.report_inputs import book_kwargs, report_inputs

from kvinnofrid.reporting.book import build_book
from kvinnofrid.reporting.render import render_book


@pytest.fixture(scope="module")
def inputs():
    return report_inputs()


@pytest.mark.e2e
def test_written_parts_in_the_html_and_the_pdf_at_their_place(inputs, drawn_figures, tmp_path):
    src = filled_copy(tmp_path, FILLED)
    build_book(tmp_path / "build", **book_kwargs(inputs, report_src=src, figures_dir=drawn_figures))
    html, pdf = render_book(tmp_path / "build", tmp_path / "out", backend="builtin")
    page = html.read_text(encoding="utf-8")
    assert "Författarinstruktion" not in page and "<!--" not in page.split("<body", 1)[1].replace("<!-- -->", "")
    checklist = page.index('id="sec-lardomar-kommuner"')
    assert page.index('id="sec-resultat"') < page.index('id="sec-lardomar"') < checklist
    assert checklist < page.index("Ledningen har avsatt tid") < page.index('id="sec-bilaga-deltagare"')
    assert page.index('id="diagram-07"') < page.index("Så bedöms våldets grad") < page.index('id="diagram-08"')
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Författarinstruktion" not in text and "Skriv din text under" not in text
    assert "Vad behöver kommuner för att lyckas med ISU?" in text
    assert text.index("Diagram 7:") < text.index("Så bedöms våldets grad") < text.index("Diagram 8:")
    assert text.index("Vad behöver kommuner för att lyckas med ISU?") < text.index("Bilaga 1. Deltagande")
    assert "Hur kan nationella aktörer stödja kommuner?" not in text.split("Bilaga 3")[0]
