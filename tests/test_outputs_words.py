"""Every output a reader looks at, from a real run on the demo data (Snakemake, the
default target): the report's HTML (text, alt texts, search index), the PDF's text,
the workbook, the figures' text, the tables a reader downloads and each unit's quality
page. None holds template code, a quality rule's code name or a form instruction to the
person registering ("Annan (ange i kommentar)").

The tables under results/tables/ and the national bundle are the data contract
(docs/output-contract.md): they keep the form's labels, which the back-test freezes.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pypdf
import pytest
from claim_checks import FORM_INSTRUCTION, RULE_CODES, TEMPLATE_CODE, check_prose, check_reader_text

pytestmark = pytest.mark.e2e


class _Visible(HTMLParser):
    """The text a reader sees or hears: text outside scripts and styles, and the alt,
    title and aria-label attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("alt", "title", "aria-label") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(path: Path) -> str:
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


def reader_outputs(run) -> dict[str, str]:
    """Every reader-facing output of the run as text, by path."""
    results, build = run.results, run.workdir / "build" / "report"
    texts: dict[str, str] = {}
    for path in sorted((results / "report" / "html").rglob("*.html")):
        texts[str(path)] = visible_text(path)
    for path in sorted((results / "report" / "html").rglob("search.json")):
        texts[str(path)] = " ".join(str(v) for entry in json.loads(path.read_text()) for v in entry.values())
    reader = pypdf.PdfReader(results / "report" / "rapport.pdf")
    texts["rapport.pdf"] = "\n".join(page.extract_text() for page in reader.pages)
    book = openpyxl.load_workbook(results / "tabeller.xlsx", read_only=True)
    texts["tabeller.xlsx"] = " ".join(
        str(cell) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for cell in row if cell
    )
    for path in sorted((results / "figures").glob("*.svg")):
        texts[str(path)] = visible_text(path)
    for path in sorted((results / "quality").glob("*.html")):
        texts[str(path)] = visible_text(path)
    for path in sorted((build / "tables").glob("*.csv")) + sorted(build.glob("*.qmd")):
        texts[str(path)] = path.read_text(encoding="utf-8")
    return texts


def test_no_template_code_rule_code_or_form_instruction_reaches_a_reader(pipeline_run):
    texts = reader_outputs(pipeline_run)
    kinds = {Path(p).suffix for p in texts} | {"pdf" for p in texts if p.endswith(".pdf")}
    assert {".html", ".svg", ".csv", ".qmd", "pdf"} <= kinds and "tabeller.xlsx" in texts
    assert sum(p.startswith(str(pipeline_run.results / "quality")) for p in texts) >= 10
    for where, text in texts.items():
        check_reader_text(where, text)


def test_the_checks_would_catch_what_the_issue_found():
    """The patterns of the scan find the faults a reader found (so a pass means something)."""
    assert TEMPLATE_CODE.search("{# what the size classes rest on #}")
    assert RULE_CODES.search("| `duplicate_case_key` | Karantän |")
    assert FORM_INSTRUCTION.search("Annan (ange i kommentar) 15 %")
    with pytest.raises(AssertionError):
        check_prose("x.qmd", "Inledning.\n\n47 verksamheter i 45 kommuner deltog.\n")
    with pytest.raises(AssertionError):
        check_prose("x.qmd", "Andelen var 62 % av alla.\n")


def test_the_published_prose_follows_the_swedish_rules(pipeline_run):
    for path in sorted((pipeline_run.workdir / "build" / "report").glob("*.qmd")):
        check_prose(path.name, path.read_text(encoding="utf-8"))


class _Cells(HTMLParser):
    """The text of every table cell (td) of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._in, self.cells = True, [*self.cells, ""]

    def handle_endtag(self, tag):
        if tag == "td":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


def test_the_results_by_size_are_in_the_book_with_no_small_count(pipeline_run):
    """The section on municipality size is in the built HTML, and no count of one to four
    cases is visible in it: its cells are shares, marks or the number of units (at least
    three per class), its prose names no such count, and its CSV hides them."""
    pages = [p.read_text(encoding="utf-8") for p in (pipeline_run.results / "report" / "html").rglob("*.html")]
    page = next(p for p in pages if 'id="sec-storlek"' in p)
    fragment = page[page.index('id="sec-storlek"') : page.index('id="sec-hrv"')]
    assert "Skillnader mellan kommuner av olika storlek" in fragment
    parser = _Cells()
    parser.feed(fragment)
    cells = [c.strip() for c in parser.cells]
    assert "Riket" in cells and "Under 15 000 invånare" in cells
    for cell in cells:
        if re.search(r"[A-Za-zÅÄÖåäö]", cell):
            continue  # an area's name ("15 000–39 999 invånare") or the mark "dold"
        if re.fullmatch(r"[\d\s\u00a0]+", cell):
            assert int(re.sub(r"\D", "", cell)) >= 3, cell  # units per class
        else:
            assert re.fullmatch(r"\d+[\s\u00a0]?%|<5", cell), cell
    prose = re.sub(r"<[^>]+>", " ", fragment)
    assert not re.search(r"\b(?:[1-4]|ett|två|tre|fyra)\s+ärend", prose)
    table = (pipeline_run.workdir / "build" / "report" / "tables" / "storlek.csv").read_text(encoding="utf-8")
    for line in table.splitlines()[1:]:
        area, _, count = line.split(",")[:3]
        assert area == "Riket" or count == "" or int(count) >= 5, line
