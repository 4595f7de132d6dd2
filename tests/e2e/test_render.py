"""The renderer end to end: a tiny 2-chapter book through the built-in backend (pandoc +
typst) into HTML and PDF, and the HTML in a real browser (the error messages and the
Quarto backend with a stand-in quarto are in tests/unit/reporting/test_render.py)."""

import re

import pypdf
import pytest
from support.browser import CHROMIUM
from support.render_project import SEX, make_project

from kvinnofrid.reporting.markdown import html_table
from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.reporting.render import render_book


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("bok")
    project = make_project(root)
    out = root / "results" / "report"
    paths = render_book(project, out, backend="builtin")
    return project, out, paths


@pytest.mark.e2e
def test_render_book_writes_both_files(rendered):
    _, out, paths = rendered
    assert paths == [out / "html" / "index.html", out / "rapport.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.e2e
def test_html_is_self_contained_with_toc_caption_and_table(rendered):
    _, out, _ = rendered
    html = (out / "html" / "index.html").read_text(encoding="utf-8")
    assert '<html xmlns="http://www.w3.org/1999/xhtml" lang="sv"' in html or 'lang="sv"' in html
    toc = re.search(r'<nav id="TOC".*?</nav>', html, re.DOTALL).group(0)
    for entry in ("Förord", "Resultat från uppföljningen", "Vilka är de våldsutsatta vuxna?"):
        assert entry in toc
    assert "Diagram 1: Hur ser könsfördelningen ut?" in html
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html)
    assert 'alt="Diagram: Hur ser könsfördelningen ut?' in html
    assert '<details class="diagram-table">' in html
    assert html_table(SEX) in html  # the raw HTML table as written
    assert f"2{NBSP}858" in html and f"94{NBSP}%" in html
    link = re.search(r'<a href="(data:text/csv[^"]*)"[^>]*download="diagram_02.csv"', html)
    assert link and "Kvinna%2C2858%2C3048" in link.group(1)
    assert "figures/diagram_02.png" not in html  # nothing left to fetch
    assert "Göteborg" in html and "Tabellerna finns i webbversionen." not in html


@pytest.mark.e2e
def test_pdf_has_title_page_toc_chapters_caption_and_swedish_text(rendered):
    _, out, _ = rendered
    reader = pypdf.PdfReader(out / "rapport.pdf")
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages).replace(NBSP, " ")
    assert "Socialtjänstens stöd till våldsutsatta vuxna" in pages[0]
    assert "Innehåll" in pages[1] and "Förord" in pages[1]
    assert "Resultat från uppföljningen" in text
    assert "Diagram 1: Hur ser könsfördelningen ut?" in text
    assert "3 070 ärenden" in text
    assert all(ch in text for ch in "åäö")
    assert "Ladda ner tabellen" not in text  # the table block is HTML-only
    assert "Göteborg 1 204" in text and "Tabellerna finns i webbversionen." in text
    # page numbers in the footer, counted from the page after the title page
    assert pages[-1].rstrip().endswith("3") and pages[2].rstrip().endswith("2")


# --------------------------------------------------------------------------- real browser


@pytest.mark.e2e
def test_html_in_a_real_browser(rendered):
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium saknas: installera det med `apt-get update && apt-get install -y chromium` "
            "(CI installerar det); testet öppnar rapport.html i en riktig webbläsare."
        )
    from playwright.sync_api import sync_playwright

    _, out, _ = rendered
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto((out / "html" / "index.html").as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            assert images and all(done and width > 0 for done, width in images)
            links = page.evaluate(
                "Array.from(document.querySelectorAll('#TOC a')).map(a => [a.getAttribute('href'),"
                " !!document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)))])"
            )
            assert len(links) == 3 and all(ok for _, ok in links), links
            page.click("details.diagram-table > summary")
            assert page.is_visible("details.diagram-table table")
            assert page.get_attribute("a.csv-download", "href").startswith("data:text/csv")
        finally:
            browser.close()
