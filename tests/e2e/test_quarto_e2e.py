"""Real Quarto, end to end: the generated national book of the demo and one unit report
rendered with ``quarto render`` (fixtures ``mapped`` and ``quarto_out`` of
tests/e2e/conftest.py, shared with test_publishing_e2e.py), checked in the PDF (pypdf)
and in Chromium, and compared with the built-in backend's output of the same project.

Quarto comes from ``QUARTO_PATH`` or the PATH. Without it these tests are skipped —
unless ``KVINNOFRID_REQUIRE_QUARTO=1`` (set by ``.ci/run``), which turns the skip into a
failure: in CI a real-Quarto test that did not run is a failed test.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections import Counter
from pathlib import Path

import pypdf
import pytest
import yaml
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.pdf_fonts import pdf_fonts
from support.published import UNIT, quarto_or_skip

from kvinnofrid.reporting.render import APPENDICES_TITLE, choose_backend, render_book
from kvinnofrid.spec.diagrams import load_registry

pytestmark = pytest.mark.e2e

N_DIAGRAMS = len(load_registry().diagrams)
RENDERER = re.compile(r"webb- och PDF-versionen sattes med .*?\)?\.(?=\s)", re.DOTALL | re.IGNORECASE)


@pytest.fixture(scope="session", autouse=True)
def quarto() -> str:
    """The quarto binary (skip, or with KVINNOFRID_REQUIRE_QUARTO=1 fail, without it).
    Autouse and session-scoped, so it is decided before the pipeline fixture runs."""
    return quarto_or_skip()


def _builtin_pdf(project: Path, published: Path, out: Path, name: str) -> Path:
    """The built-in backend's PDF of ``project``: the pipeline's own (``published``) when
    the pipeline rendered with it, as in CI; else rendered here."""
    if choose_backend() == "builtin":
        return published
    return render_book(project, out, backend="builtin", name=name)[1]


def _pages(pdf: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pdf).pages]


def assert_same_book(pages: list[str], other: list[str]) -> None:
    """Same number of pages and the same text on every page up to the colophon; from the
    colophon on (where the sentence naming the backend may move a table row to the next
    page) the same words, without that sentence."""
    assert len(pages) == len(other)
    colophon = next((i for i, p in enumerate(pages) if p.lstrip().startswith("Kolofon")), len(pages))
    assert pages[:colophon] == other[:colophon]
    words = [Counter(RENDERER.sub("", "\n".join(p[colophon:])).split()) for p in (pages, other)]
    assert words[0] == words[1]


@pytest.fixture(scope="module")
def national(mapped, quarto_out, tmp_path_factory) -> dict:
    """The demo's national book (with Figure 1 as a map) as real Quarto rendered it
    (``quarto_out``, tests/e2e/conftest.py), beside the built-in backend's."""
    project = mapped / "build" / "report"
    q_html, q_pdf = quarto_out / "report" / "html" / "index.html", quarto_out / "report" / "rapport.pdf"
    builtin = _builtin_pdf(
        project, mapped / "results" / "report" / "rapport.pdf", tmp_path_factory.mktemp("bok"), "rapport"
    )
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    return {
        "html": q_html,
        "pdf": q_pdf,
        "pages": _pages(q_pdf),
        "builtin_pages": _pages(builtin),
        "config": config,
        "project": project,
    }


# ------------------------------------------------------------------ the PDF


def test_pdf_has_cover_toc_and_the_appendices(national):
    pages = national["pages"]
    assert "Socialtjänstens stöd till våldsutsatta vuxna" in pages[0]
    assert "Innehåll" in pages[1]
    toc = pages[1] + pages[2]
    for entry in (
        "Förord",
        "Sammanfattning",
        "Resultat från uppföljningen",
        APPENDICES_TITLE,
        "Bilaga 1. Deltagande kommuner",
        "Bilaga 3. Metod och datakvalitet",
        "Kolofon",
    ):
        assert entry in toc, entry
    outline = [o.title for o in pypdf.PdfReader(national["pdf"]).outline if not isinstance(o, list)]
    at = outline.index(APPENDICES_TITLE)
    assert outline[at + 1].startswith("Bilaga 1.") and outline[-1] == "Kolofon", outline
    # the divider page, then the first appendix on the next page
    divider = next(i for i, p in enumerate(pages) if p.strip().startswith(APPENDICES_TITLE))
    assert pages[divider + 1].lstrip().startswith("Bilaga 1.")
    # running footer: the title and the page number
    assert pages[5].rstrip().endswith("5") and "Socialtjänstens stöd till våldsutsatta vuxna" in pages[5]


def test_pdf_has_all_27_diagram_captions_in_order(national):
    text = "\n".join(national["pages"])
    numbers = [int(n) for n in re.findall(r"^Diagram (\d+): ", text, flags=re.MULTILINE)]
    assert numbers == list(range(1, N_DIAGRAMS + 1))
    # Figure 1 is the map; its table's caption is kept (Quarto drops table captions by itself)
    assert "Figur 1. Kommuner som deltog i projektet" in text and "Tabell till figur 1." in text


def test_pdf_names_quarto_and_is_dated_from_the_data(national):
    text = "\n".join(national["pages"])
    assert re.search(r"sattes med Quarto \d+\.\d+", text)
    reader = pypdf.PdfReader(national["pdf"])
    date = str(national["config"]["book"]["date"]).replace("-", "")
    assert reader.metadata["/CreationDate"].startswith(f"D:{date}")


def test_both_backends_give_the_same_book(national):
    assert_same_book(national["pages"], national["builtin_pages"])
    assert "sattes med inbyggd motor (pandoc" in "\n".join(national["builtin_pages"]).replace("\n", " ")


# ------------------------------------------------------------------ the HTML site


def test_html_site_has_one_page_per_chapter(national):
    site = national["html"].parent
    book = national["config"]["book"]
    for chapter in [*book["chapters"], *book.get("appendices", [])]:
        page = site / Path(chapter).with_suffix(".html")
        assert page.is_file(), page
    assert (site / "search.json").is_file() and (site / "site_libs").is_dir()
    index = national["html"].read_text(encoding="utf-8")
    assert 'lang="sv"' in index and "Innehåll" in index and 'title="Sök"' in index
    assert "Bilaga A —" not in "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    assert "fonts.googleapis.com" not in index


@pytest.fixture(scope="module")
def served(national):
    """The site over HTTP: Quarto's scripts and search do not run from file://."""
    handler = functools.partial(_QuietHandler, directory=str(national["html"].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")  # closed after this module: a second sync_playwright may start later
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium saknas ({CHROMIUM}): installera det (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    yield tab
    tab.close()


def test_sidebar_leads_to_the_results_chapter_with_its_diagrams(page, served):
    page.goto(served + "index.html", wait_until="load")
    sidebar = page.evaluate(
        "Array.from(document.querySelectorAll('#quarto-sidebar .sidebar-item')).map(i => i.innerText)"
    )
    assert any(APPENDICES_TITLE in s for s in sidebar) and any("Kolofon" in s for s in sidebar)
    page.click("#quarto-sidebar >> text=Resultat från uppföljningen")
    page.wait_for_load_state("load")
    assert page.url.endswith("02-resultat.html")
    assert "Resultat från uppföljningen" in page.inner_text("h1")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
    assert images and all(w > 0 for w in images)
    captions = page.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.innerText)")
    assert [int(re.match(r"Diagram (\d+):", c).group(1)) for c in captions if c.startswith("Diagram")] == list(
        range(1, N_DIAGRAMS + 1)
    )
    # the page's own table of contents is shown beside the text (the grid is not squeezed)
    assert (
        page.is_visible("#TOC a")
        and page.evaluate("document.querySelector('#quarto-sidebar').getBoundingClientRect().width") > 200
    )


def test_search_finds_freda(page, served):
    page.goto(served + "index.html", wait_until="load")
    page.click("#quarto-search")
    page.keyboard.type("FREDA")
    page.wait_for_selector(".aa-Item", timeout=15_000)
    hits = page.evaluate("Array.from(document.querySelectorAll('.aa-Item')).map(i => i.innerText)")
    assert hits and any("FREDA" in h for h in hits), hits


# ------------------------------------------------------------------ one unit report


@pytest.fixture(scope="module")
def unit(mapped, quarto_out, tmp_path_factory) -> dict:
    """One unit's report rendered alone by real Quarto, beside both editions rendered
    together (``quarto_out``) and the built-in backend's."""
    project = mapped / "build" / "kommuner" / UNIT
    # beside results/quality/ as in results/kommuner/, so the relative quality link resolves
    out = mapped / "results" / "kommuner-quarto"
    html, pdf = render_book(project, out, backend="quarto", name=UNIT)
    builtin = _builtin_pdf(
        project, mapped / "results" / "kommuner" / f"{UNIT}.pdf", tmp_path_factory.mktemp("enhet"), UNIT
    )
    return {
        "html": html,
        "pdf": pdf,
        "pages": _pages(pdf),
        "builtin_pages": _pages(builtin),
        "intern_pages": _pages(quarto_out / "kommuner" / "intern" / f"{UNIT}.pdf"),
        "many_pages": _pages(quarto_out / "kommuner" / f"{UNIT}.pdf"),
        "results": mapped / "results",
    }


def test_unit_reports_rendered_together_equal_one_rendered_alone(unit):
    assert unit["many_pages"] == unit["pages"]


def test_unit_report_diagram_tables_pass_through_quarto_as_written(unit, mapped):
    """The HTML-only tables are raw HTML (markdown.html_table) and Quarto, with
    ``html-table-processing: none``, leaves them exactly as written: had its filters
    taken them apart, Pandoc would write them again (wrapped cells, its own attributes)."""
    table = re.compile(r'<details class="diagram-table"><summary>.*?</summary>\s*(<table .*?</table>)', re.DOTALL)
    written = table.findall((mapped / "build" / "kommuner" / UNIT / "index.qmd").read_text(encoding="utf-8"))
    assert len(written) >= 10
    assert table.findall(unit["html"].read_text(encoding="utf-8")) == written


def test_unit_report_internal_edition_is_marked_on_every_page(unit):
    pages = unit["intern_pages"]
    assert "Intern version – innehåller små tal" in " ".join(pages[0].split())
    assert all("(intern version)" in page for page in pages)
    assert not any("intern version" in page for page in unit["pages"])


def test_unit_report_pdf(unit):
    pages = unit["pages"]
    text = "\n".join(pages)
    assert "Arboga: jämförelse med riket" in pages[0] and "Innehåll" in pages[1]
    captions = [int(n) for n in re.findall(r"^Figur (\d+): ", text, flags=re.MULTILINE)]
    assert captions and captions == list(range(1, len(captions) + 1))
    assert_same_book(pages, unit["builtin_pages"])
    # Quarto's Typst found the SVG figures' font too (TYPST_FONT_PATHS), not a fallback
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= pdf_fonts(unit["pdf"])


def test_unit_report_html_is_one_page_with_figures_and_quality_link(unit, page):
    assert unit["html"] == unit["results"] / "kommuner-quarto" / f"{UNIT}.html"
    page.goto(unit["html"].as_uri(), wait_until="load")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    images = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.src.slice(0, 5)])")
    captions = page.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.innerText)")
    toc = page.evaluate("Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href'))")
    quality = page.evaluate(f"document.querySelector('a[href=\"../quality/{UNIT}.html\"]') !== null")
    assert len(images) >= 18 and all(w > 0 and src == "data:" for w, src in images)  # self-contained
    assert [c.split(":")[0] for c in captions] == [f"Figur {k}" for k in range(1, len(captions) + 1)]
    assert toc and all(h.startswith("#") for h in toc)
    assert quality and (unit["results"] / "quality" / f"{UNIT}.html").is_file()
