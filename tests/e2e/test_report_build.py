"""End to end: demo data → tables → stats → facts → figures → build_book → render_book
(built-in backend), once per session; then the HTML in real Chromium and the PDF text.

Chromium is required: the browser test FAILS (never skips) when /usr/bin/chromium is
missing — install it (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import re
import time

import pypdf
import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.report_inputs import book_kwargs, report_inputs

from kvinnofrid.reporting.book import build_book
from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.reporting.render import render_book
from kvinnofrid.reporting.text import FORBIDDEN
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics import tables as tables_module

N_DIAGRAMS = len(load_registry().diagrams)
TIMINGS: dict[str, float] = {}


pytestmark = pytest.mark.e2e  # every test here reads a Snakemake run or renders a report


@pytest.fixture(scope="session")
def built_report(tmp_path_factory, drawn_figures):
    root = tmp_path_factory.mktemp("rapport")
    start = time.perf_counter()
    inputs = report_inputs()  # cached: drawn_figures has built them
    TIMINGS["pipeline"] = time.perf_counter() - start
    figures_dir = drawn_figures
    tables_dir = root / "results" / "tables"
    tables_module.write_tables(inputs.tables, tables_dir)
    mark = time.perf_counter()
    chapters = build_book(
        root / "build" / "report", **book_kwargs(inputs, figures_dir=figures_dir, tables_dir=tables_dir)
    )
    TIMINGS["build_book"] = time.perf_counter() - mark
    mark = time.perf_counter()
    html, pdf = render_book(root / "build" / "report", root / "results" / "report", backend="builtin")
    TIMINGS["render"] = time.perf_counter() - mark
    TIMINGS["total"] = time.perf_counter() - start
    print("\nreport fixture timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))
    return {"inputs": inputs, "chapters": chapters, "html": html, "pdf": pdf, "project": root / "build" / "report"}


@pytest.fixture(scope="session")
def pdf_text(built_report) -> str:
    reader = pypdf.PdfReader(built_report["pdf"])
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")  # closed after this module: a second sync_playwright may start later
def browser_page(built_report):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium saknas ({CHROMIUM}): installera det (Debian: apt-get install chromium) "
            "för att testa rapportens HTML i en riktig webbläsare."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(built_report["html"].as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        yield page
        browser.close()


# ------------------------------------------------------------------ browser


def test_every_image_loads(browser_page):
    images = browser_page.evaluate(
        "Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth, ok: i.complete}))"
    )
    assert len(images) >= N_DIAGRAMS
    broken = [i["alt"][:60] for i in images if not i["ok"] or i["w"] <= 0]
    assert not broken, broken
    assert all(i["alt"].startswith("Diagram") for i in images)


def test_every_toc_link_lands_on_an_element(browser_page):
    links = browser_page.evaluate("Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href'))")
    assert len(links) > 20
    missing = browser_page.evaluate(
        """hrefs => hrefs.filter(h => !h.startsWith('#') ||
                 !document.getElementById(decodeURIComponent(h.slice(1))))""",
        links,
    )
    assert not missing, missing
    toc = browser_page.inner_text("#TOC")
    for heading in (
        "Förord",
        "Sammanfattning",
        "Resultat från uppföljningen",
        "Bilaga 1. Deltagande kommuner och verksamheter",
        "Bilaga 2. Variabler",
        "Bilaga 3. Metod och datakvalitet",
        "Kolofon",
    ):
        assert heading in toc, heading
    # chapter 3 holds only authors' parts, none written in the repository: left out
    assert "Lärdomar och medskick" not in toc


def test_all_diagrams_with_captions_in_html(browser_page):
    captions = browser_page.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.innerText)")
    for n in range(1, N_DIAGRAMS + 1):
        assert any(c.startswith(f"Diagram {n}:") for c in captions), n
        assert browser_page.query_selector(f"#diagram-{n:02d}") is not None, n


def test_html_visible_text_has_no_placeholders(browser_page):
    text = browser_page.inner_text("body")
    assert not FORBIDDEN.search(text), FORBIDDEN.search(text)
    assert "simulerade" in text  # demo data said clearly


def test_participants_appendix_has_47_rows_in_html(browser_page):
    rows = browser_page.evaluate(
        """() => { const t = Array.from(document.querySelectorAll('table')).find(t =>
                     t.caption && t.caption.innerText.startsWith('Deltagande kommuner och verksamheter'));
                   return t ? t.querySelectorAll('tbody tr').length : -1; }"""
    )
    assert rows == 47


# ------------------------------------------------------------------ PDF


def test_pdf_toc_captions_and_swedish_numbers(built_report, pdf_text):
    inputs = built_report["inputs"]
    assert "Innehåll" in pdf_text
    for n in range(1, N_DIAGRAMS + 1):
        assert f"Diagram {n}:" in pdf_text, n
    total = inputs.facts["cases_total"]
    grouped = f"{total // 1000}{NBSP}{total % 1000:03d}"
    plain = pdf_text.replace(NBSP, " ")
    assert grouped.replace(NBSP, " ") + " ärenden" in plain
    assert grouped in pdf_text or grouped.replace(NBSP, " ") in pdf_text
    share = round(inputs.facts["share_women"] * 100)
    assert re.search(rf"\({share}[ {NBSP}]procent\)[ {NBSP}\n]+var[ \n]+kvinnor", pdf_text)
    assert "DEMOVERSION" in pdf_text
    assert "Platshållartext – ersätts av rapportförfattarna" in pdf_text


def test_no_placeholders_in_any_output(built_report, pdf_text):
    for path in built_report["chapters"]:
        text = path.read_text(encoding="utf-8")
        assert not FORBIDDEN.search(text), (path.name, FORBIDDEN.search(text))
    assert not FORBIDDEN.search(pdf_text), FORBIDDEN.search(pdf_text)


def test_participants_appendix_lists_47_rows(built_report):
    text = (built_report["project"] / "bilaga-1-deltagare.qmd").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"^\| .+ \| (Ja|Nej) \|$", line)]
    assert len(rows) == 47
    assert sum(line.endswith("| Ja |") for line in rows) == 34


def test_figure_and_table_files_in_the_project(built_report):
    project = built_report["project"]
    for n in range(1, N_DIAGRAMS + 1):
        assert (project / "figures" / f"diagram_{n:02d}.png").exists()
        assert (project / "tables" / f"diagram_{n:02d}.csv").exists()
