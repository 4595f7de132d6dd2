"""Publishable documents, end to end: accessible PDFs from both backends, Figure 1 as a
map, the short colophon with its provenance record, and the HTML's link to the PDF.

The session's demo pipeline run is rerun with a boundary file the test makes (a square
per municipality, real kommunkoder: map_fixtures.py), plus one unit report in both
editions; the built-in backend renders those (as CI runs them), and real Quarto renders
the same projects again (fixtures ``mapped`` and ``quarto_out``, tests/e2e/conftest.py,
shared with test_quarto_e2e.py). Every PDF is checked with ``pdfua check`` (the PyPI package's
command line: the machine-checkable part of PDF/UA-1), every HTML page with axe-core
in Chromium.

Quarto comes from ``QUARTO_PATH`` or the PATH; without it the Quarto cases are skipped,
unless ``KVINNOFRID_REQUIRE_QUARTO=1`` (CI), which makes them fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import pikepdf
import pypdf
import pytest
from support.map_fixtures import write_squares
from support.paths import ROOT
from support.published import UNIT
from support.workflow import run_snakemake

import kvinnofrid
from kvinnofrid.reporting import figure_map
from kvinnofrid.reporting.provenance import sha256_of

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PDFUA = Path(sys.executable).parent / "pdfua"
# pdfua 0.1.3 cannot evaluate UA-14-001 (empty headings) on a heading whose /K is an
# array (it asks the array for an attribute); its_headings_have_text does that check.
KNOWN_SKIP = ("UA-14-001", "is_integer")


def _outputs(request, backend: str) -> Path:
    """The folder holding report/ and kommuner/ of a backend."""
    if backend == "quarto":
        return request.getfixturevalue("quarto_out")
    return request.getfixturevalue("mapped") / "results"


DOCUMENTS = {
    "nationell": "report/rapport.pdf",
    "enhet": f"kommuner/{UNIT}.pdf",
    "enhet-intern": f"kommuner/intern/{UNIT}.pdf",
}
CASES = [(b, d) for b in ("inbyggd", "quarto") for d in DOCUMENTS]


@pytest.fixture(params=CASES, ids=[f"{b}-{d}" for b, d in CASES])
def pdf(request) -> Path:
    backend, document = request.param
    return _outputs(request, "quarto" if backend == "quarto" else "builtin") / DOCUMENTS[document]


@pytest.fixture(params=["inbyggd", "quarto"])
def national(request) -> Path:
    """results/report/ (or Quarto's copy): rapport.pdf, provenance.json, html/."""
    return _outputs(request, "quarto" if request.param == "quarto" else "builtin") / "report"


# ------------------------------------------------------------------ the PDFs: PDF/UA


def test_pdfua_check_finds_no_error_and_no_warning(pdf):
    done = subprocess.run([str(PDFUA), "check", "--format", "json", str(pdf)], capture_output=True, text=True)
    report = json.loads(done.stdout)
    assert report["summary"]["errors"] == 0 and report["summary"]["warnings"] == 0, report["findings"]
    assert done.returncode == 0, done.stderr
    unexpected = [s for s in report["skipped"] if not (s["rule_id"] == KNOWN_SKIP[0] and KNOWN_SKIP[1] in s["reason"])]
    assert not unexpected, unexpected


def _elements(node, found=None):
    """Every element of the structure tree below ``node``, depth first."""
    found = [] if found is None else found
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found.append(kid)
            _elements(kid, found)
    return found


def _marks_content(element) -> bool:
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR"):
            return True
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and _marks_content(kid):
            return True
    return False


def test_the_pdf_is_tagged_swedish_titled_and_declares_pdf_ua(pdf):
    with pikepdf.open(pdf) as doc:
        assert str(doc.Root.Lang) == "sv-SE"
        assert bool(doc.Root.ViewerPreferences.DisplayDocTitle) is True
        assert bool(doc.Root.MarkInfo.Marked) is True
        with doc.open_metadata() as xmp:
            assert xmp.get("pdfuaid:part") == "1"
            assert xmp.get("dc:title")
        elements = _elements(doc.Root.StructTreeRoot)
    roles = [str(e.S) for e in elements]
    figures = [e for e in elements if e.S == "/Figure"]
    assert figures and all(str(f.get("/Alt", "")).strip() for f in figures)
    headings = [e for e in elements if re.fullmatch(r"/H\d?", str(e.S))]
    assert headings and all(_marks_content(h) for h in headings)  # UA-14-001, which pdfua skips
    assert roles.count("/Table") >= 1 and "/TH" in roles  # tables with header cells
    assert "/L" in roles and "/LI" in roles and "/TOC" in roles


def test_every_figure_has_the_alt_text_of_the_html(request):
    """The alt text of each figure in the PDF is the alt text of the same figure in the
    HTML, for the national report (every page of Quarto's site) and a unit report."""
    for backend in ("builtin", "quarto"):
        try:
            folder = _outputs(request, backend)
        except pytest.skip.Exception:
            continue
        for pdf_path, pages in (
            (folder / "report" / "rapport.pdf", sorted((folder / "report" / "html").glob("*.html"))),
            (folder / "kommuner" / f"{UNIT}.pdf", [folder / "kommuner" / f"{UNIT}.html"]),
        ):
            with pikepdf.open(pdf_path) as doc:
                in_pdf = sorted(str(e.Alt) for e in _elements(doc.Root.StructTreeRoot) if e.S == "/Figure")
            html_alts = []
            for page in pages:
                for alt in re.findall(r'<img[^>]*?\salt="([^"]*)"', page.read_text(encoding="utf-8")):
                    html_alts.append(_unescape(alt))
            assert in_pdf == sorted(a for a in html_alts if a), (backend, pdf_path.name)
            assert len(in_pdf) >= 15


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


# ------------------------------------------------------------------ Figure 1 as a map


def test_figure_1_is_the_map_and_the_table_stays_on_one_page(national):
    pages = [p.extract_text() for p in pypdf.PdfReader(national / "rapport.pdf").pages]
    text = "\n".join(pages)
    assert "Figur 1. Kommuner som deltog i projektet och kommuner som lämnade uppgifter" in text
    page = next(p for p in pages if "Tabell till figur 1." in p)
    assert "Län" in page and "Totalt" in page  # the table, its header and its total row on one page
    html = "".join(p.read_text(encoding="utf-8") for p in (national / "html").glob("*.html"))
    maps = [tag for tag in re.findall(r"<img[^>]*>", html) if 'alt="Karta över Sveriges 290 kommuner.' in tag]
    # the SVG (the vector map), as a file in Quarto's site, embedded in the built-in page
    assert len(maps) == 1 and re.search(r'src="(figures/karta\.svg|data:image/svg\+xml)', maps[0])


def test_without_a_boundary_file_the_table_stands_in_and_the_run_says_how(demo_run):
    log = (demo_run.workdir / "logs" / "report_text.log").read_text(encoding="utf-8")
    assert log.count(figure_map.NO_MAP_NOTICE) == 1
    assert demo_run.stderr.count("map: boundaries i config.yaml") == 1
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(demo_run.results / "report" / "rapport.pdf").pages)
    assert "Figur 1. Deltagande verksamheter per län" in text and "Karta över" not in text
    assert not (demo_run.results / "figures" / "karta.png").exists()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (dict(drop=("0180",)), "saknar 1 av landets 290 kommuner: Stockholm (0180)"),
        (dict(code_column="namn"), None),
        (dict(crs="EPSG:4326"), "kommunerna hamnar utanför Sverige"),
    ],
    ids=["kommun-saknas", "ingen-kommunkod", "fel-koordinatsystem"],
)
def test_a_wrong_boundary_file_stops_the_run_with_a_swedish_message(mapped, tmp_path, broken, message):
    path = tmp_path / "fel.gpkg"
    if broken.get("code_column"):
        write_squares(path)
        import geopandas as gpd

        frame = gpd.read_file(path).drop(columns="KnKod")
        frame.to_file(path, engine="pyogrio")
        message = "ingen kolumn med den fyrsiffriga kommunkoden"
    else:
        write_squares(path, **broken)
    work = tmp_path / "körning"
    shutil.copytree(mapped, work, symlinks=True)
    done = run_snakemake(work, f'map={{"boundaries": "{path}"}}', "--", "results/figures/karta.md", check=False)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_boundary_file_that_does_not_exist_is_named_before_anything_runs(mapped, tmp_path):
    done = run_snakemake(mapped, 'map={"boundaries": "/finns/inte/kommuner.gpkg"}', "--dry-run", check=False)
    assert done.returncode != 0
    assert "filen med kommungränser /finns/inte/kommuner.gpkg finns inte" in done.stderr + done.stdout


# ------------------------------------------------------------------ the colophon and the provenance record


def test_the_colophon_is_one_page_and_true(national):
    reader = pypdf.PdfReader(national / "rapport.pdf")
    pages = [p.extract_text() for p in reader.pages]
    # the page the colophon starts on (not a page of the table of contents, whose lines
    # have dot leaders and may run onto a page that starts with the colophon's entry)
    start = next(i for i, p in enumerate(pages) if p.lstrip().startswith("Kolofon") and ". . ." not in p)
    assert start == len(pages) - 1, "the colophon runs over more than one page"
    colophon = " ".join(pages[start].split())
    record = json.loads((national / "provenance.json").read_text(encoding="utf-8"))
    # the Typst named is the one that wrote the PDF
    producer = re.search(r"Typst (\d+\.\d+\.\d+)", str(reader.metadata.get("/Creator") or reader.metadata["/Producer"]))
    assert producer and f"Typst {producer.group(1)})" in colophon
    assert record["renderer"] in colophon
    # every date it names is a date of the data, none a run date that contradicts the title page
    allowed = {*record["period"], record["cutoff"], *record["rounds"]}
    assert set(re.findall(r"\d{4}-\d{2}-\d{2}", colophon)) <= allowed
    assert record["cutoff"] in pages[0] or record["cutoff"].replace("-", "") in str(reader.metadata["/CreationDate"])
    assert f"{len(record['inputs'])} filer" in colophon and "provenance.json" in colophon
    # the release, from the one version source (pyproject.toml), in the record and on the page
    assert record["code"]["version"] == kvinnofrid.__version__ == metadata.version("kvinnofrid")
    assert f"kvinnofrid {record['code']['version']}" in colophon
    if record["code"]["commit"]:
        assert record["code"]["commit"] in colophon
    # the link to the record beside the PDF
    links = [a.get_object()["/A"].get("/URI") for a in reader.pages[start].get("/Annots", [])]
    assert "provenance.json" in links


def test_the_provenance_record_lies_beside_the_report(national, mapped):
    record = json.loads((national / "provenance.json").read_text(encoding="utf-8"))
    raw = sorted(p for p in (ROOT / "data-raw").rglob("*") if p.suffix in (".xlsx", ".csv"))
    assert len(record["inputs"]) == len(raw) and all(len(i["sha256"]) == 64 for i in record["inputs"])
    assert record["documents"] == [{"file": "rapport.pdf", "sha256": sha256_of(national / "rapport.pdf")}]
    assert len(record["config_sha256"]) == 64 and record["cutoff"] == "2023-10-10"


# ------------------------------------------------------------------ the HTML: link to the PDF, axe-core


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium saknas ({CHROMIUM}): installera det (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def served(tmp_path):
    """Serves a folder over HTTP on the loopback address, as a web server would."""
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()


def test_the_html_links_to_the_pdf_when_the_folder_is_copied_to_a_web_server(national, browser, served, tmp_path):
    site = tmp_path / "webbplats" / "publikationer" / "su-kvinnofrid"
    shutil.copytree(national, site)
    root = served(tmp_path / "webbplats")
    page = browser.new_page()
    try:
        page.goto(root + "publikationer/su-kvinnofrid/html/index.html", wait_until="load")
        link = page.locator("a.kf-pdf-link")
        assert link.count() == 1 and link.inner_text() == "Ladda ner rapporten som PDF"
        assert re.search(r"\(PDF, \d+(,\d)? [kM]B\)", page.inner_text(".kf-pdf-download"))
        pdf_url = link.evaluate("a => a.href")
        response = page.request.get(pdf_url)
        assert response.ok and response.body() == (national / "rapport.pdf").read_bytes()
        colophon = "kolofon.html" if (site / "html" / "kolofon.html").exists() else "index.html"
        page.goto(root + f"publikationer/su-kvinnofrid/html/{colophon}", wait_until="load")
        record_url = page.locator('a[href$="provenance.json"]').evaluate("a => a.href")
        assert page.request.get(record_url).json()["cutoff"] == "2023-10-10"
    finally:
        page.close()


def test_a_unit_report_links_to_its_pdf_beside_it(request):
    for backend in ("builtin", "quarto"):
        try:
            folder = _outputs(request, backend) / "kommuner"
        except pytest.skip.Exception:
            continue
        for html in (folder / f"{UNIT}.html", folder / "intern" / f"{UNIT}.html"):
            text = html.read_text(encoding="utf-8")
            assert f'<a href="{UNIT}.pdf" class="kf-pdf-link">' in text, html
            assert (html.parent / f"{UNIT}.pdf").is_file()


def _axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]]


def test_axe_core_finds_no_violation_in_the_html(national, browser, served):
    root = served(national)
    pages = ["html/index.html"]
    if (national / "html" / "01-inledning.html").exists():  # Quarto's site: a page per chapter
        pages += ["html/01-inledning.html", "html/02-resultat.html", "html/kolofon.html"]
    page = browser.new_page()
    try:
        for name in pages:
            page.goto(root + name, wait_until="load")
            assert _axe_violations(page) == [], name
    finally:
        page.close()


def test_axe_core_finds_no_violation_in_the_unit_reports(mapped, browser):
    page = browser.new_page()
    try:
        for html in (
            mapped / "results" / "kommuner" / f"{UNIT}.html",
            mapped / "results" / "kommuner" / "intern" / f"{UNIT}.html",
        ):
            page.goto(html.as_uri(), wait_until="load")
            assert _axe_violations(page) == [], html.name
    finally:
        page.close()
