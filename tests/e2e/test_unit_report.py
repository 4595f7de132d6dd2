"""The unit and län reports end to end: the demo run's `kommuner` target, protection
against an attacker who sees every published table, the browser and the PDFs
(the definitions on hand-made frames are in tests/unit/reporting/test_unit_report.py)."""

from __future__ import annotations

import json
import re
import shutil

import polars as pl
import pypdf
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import unit_report as ur
from kvinnofrid.reporting.numfmt import NBSP, fmt_int, fmt_pct
from kvinnofrid.statistics.tables import TABLE_SCHEMA

T = 5
UNIT, LAN = "arboga", "vastmanlands-lan"  # a small unit, a län of three units


@pytest.fixture(scope="module")
def unit_run(pipeline_run):
    """The comparison tables of every area, one unit's and one län's report."""
    from support.workflow import run_snakemake

    targets = [f"results/kommuner/{slug}.{ext}" for slug in (UNIT, LAN) for ext in ("html", "pdf")]
    targets += [f"results/kommuner/intern/{UNIT}.{ext}" for ext in ("html", "pdf")]
    run_snakemake(pipeline_run.workdir, "--", *targets)
    return pipeline_run


def _truth(run) -> tuple[dict, list[at.Area]]:
    areas_info = json.loads((run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    areas = [at.Area(a["kind"], a["name"], a["slug"], tuple(a["units"])) for a in areas_info]
    derived = pl.read_parquet(run.interim / "cases_derived.parquet")
    diagrams = [
        int(t) for t in pl.read_parquet(run.interim / "kommuner" / "tables.parquet")["table"].unique() if t.isdigit()
    ]
    return at.area_tables(derived, areas, sorted(diagrams)), areas


@pytest.mark.e2e
def test_every_unit_that_sent_data_and_every_lan_with_two_units_gets_a_report(unit_run):
    from support.workflow import run_snakemake

    areas = json.loads((unit_run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    units = pl.read_csv(unit_run.interim / "units.csv")
    assert sorted(a["name"] for a in areas if a["kind"] == "enhet") == sorted(units["unit"].unique())
    lan = [a for a in areas if a["kind"] == "lan"]
    assert lan and all(len(a["units"]) >= 2 for a in lan)
    assert sum(a["cases"] for a in areas if a["kind"] == "enhet") == 3070
    dry = run_snakemake(unit_run.workdir, "-n", "--", "kommuner").stdout
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in dry.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    # every batch is planned, and the batches hold every unit's and län's reports
    batches = counts.get("unit_reports")
    assert batches and batches == len(set(re.findall(r"output: \S*reports/batch-(\d+)\.json", dry))), dry[-2000:]
    planned = [job for b in range(batches) for job in ur.batch_jobs(areas, b, batches)]
    assert sorted(planned) == sorted(ur.report_jobs(areas))
    assert {s for s, e in planned if e == "publicerad"} == {a["slug"] for a in areas if a["kind"] in ("enhet", "lan")}
    assert {s for s, e in planned if e == "intern"} == {a["slug"] for a in areas if a["kind"] == "enhet"}


@pytest.mark.e2e
def test_no_hidden_small_count_can_be_recovered_from_what_the_reports_publish(unit_run):
    """The attacker of test_suppression (linear programming over every published
    number of every area of a table) against the reports' tables."""
    from support.attack import attack

    published = pl.read_parquet(unit_run.interim / "kommuner" / "tables.parquet")
    truth, areas = _truth(unit_run)
    totals = {"Riket": [a.name for a in areas if a.kind == "enhet"]}
    totals |= {a.name: list(a.units) for a in areas if a.kind in ("storleksklass", "grupp", "lan")}
    attacked = 0
    for table_id, per_area in truth.items():
        kind = "multi" if at.table_kind(table_id) == "multi" else "single"
        shown = {
            a.name: published.filter((pl.col("table") == table_id) & (pl.col("area") == a.name)).select(
                TABLE_SCHEMA.names()
            )
            for a in areas
        }
        for a in areas:
            if a.kind == "riket":  # published as it is
                assert_frame_equal(shown[a.name], per_area[a.name].select(TABLE_SCHEMA.names()))
                continue
            true, seen = per_area[a.name], shown[a.name]
            small = (true["n"] < T).to_numpy()  # zeros too
            assert seen.filter(small)["n"].null_count() == int(small.sum()), (table_id, a.name)
            visible = seen.filter(~pl.col("suppressed"))
            assert_frame_equal(
                visible, true.filter((~seen["suppressed"]).to_numpy()).select(visible.columns), check_dtypes=False
            )
        for area, cell, value, low, high in attack(shown, per_area, totals, kind):
            attacked += 1
            assert high - low >= 1 - 1e-6, f"tabell {table_id}: {area} {cell} = {value} räknas fram: [{low}, {high}]"
    assert attacked > 100


@pytest.mark.e2e
def test_the_reports_tables_show_no_small_count_of_the_unit_or_lan(unit_run):
    for slug, kind in ((UNIT, "enhet"), (LAN, "lan")):
        info = next(
            a
            for a in json.loads((unit_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
            if a["slug"] == slug and a["kind"] == kind
        )
        csvs = sorted((unit_run.workdir / "build" / "kommuner" / slug / "tables").glob("*.csv"))
        assert len(csvs) >= 17
        for path in csvs:
            if path.name == "trend.csv":  # the area's own rounds only
                shown = pl.read_csv(path)["n"].drop_nulls()
                assert not ((shown > 0) & (shown < T)).any(), f"{slug}/{path.name}"
                continue
            rows = pl.read_csv(path).filter(pl.col("group") == info["name"])
            assert rows.height, path.name
            shown = rows["n"].drop_nulls()
            assert not (shown < T).any(), f"{slug}/{path.name}"
            assert (rows["n"].is_null() == rows["suppressed"]).all()


@pytest.fixture(scope="module")
def snapshots():
    from kvinnofrid.demo import simulate

    return simulate.simulate_rounds(simulate.SimulationSettings())


@pytest.mark.e2e
def test_nothing_personal_in_the_unit_reports(unit_run, snapshots):
    from support.privacy import needles_of, scan_for_personal_data

    folders = [
        unit_run.results / "kommuner",
        unit_run.interim / "kommuner",
        unit_run.workdir / "build" / "kommuner",
        unit_run.workdir / "logs" / "unit_report",
    ]
    assert scan_for_personal_data(folders, needles_of(snapshots)) > 40


@pytest.mark.e2e
def test_unit_report_in_the_browser(unit_run):
    from playwright.sync_api import sync_playwright
    from support.browser import CHROMIUM, CHROMIUM_ARGS

    html = unit_run.results / "kommuner" / f"{UNIT}.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        images = page.evaluate(
            "Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth, svg: i.src.startsWith('data:image/svg+xml')}))"
        )
        links = page.evaluate("Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href'))")
        missing = page.evaluate("hs => hs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))", links)
        captions = page.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.innerText)")
        body = page.inner_text("body")
        quality_link = page.evaluate("document.querySelector('a[href=\"../quality/arboga.html\"]') !== null")
        browser.close()
    assert len(images) >= 18 and all(i["w"] > 0 and i["alt"] for i in images)
    assert sum(i["svg"] for i in images) >= 17  # the comparison bars are vectors, embedded in the page
    assert links and not missing, missing
    assert [c.split(":")[0] for c in captions] == [f"Figur {k}" for k in range(1, len(captions) + 1)]
    assert "Arboga" in body and "Riket" in body and "dold" in body
    assert quality_link and (unit_run.results / "quality" / "arboga.html").is_file()


@pytest.mark.e2e
def test_unit_and_lan_pdfs_have_their_figures_and_swedish_numbers(unit_run):
    from support.pdf_fonts import pdf_fonts

    for slug, name in ((UNIT, "Arboga"), (LAN, "Västmanlands län")):
        reader = pypdf.PdfReader(unit_run.results / "kommuner" / f"{slug}.pdf")
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert f"{name}: jämförelse med riket" in text
        assert reader.metadata.title == f"{name}: jämförelse med riket"  # what a screen reader announces
        assert "Figur 17" in text and "Innehåll" in text
        info = next(
            a
            for a in json.loads((unit_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
            if a["slug"] == slug
        )
        flat = text.replace("\u00a0", " ").replace("\n", " ")
        assert f"Underlaget är {fmt_int(info['cases']).replace(NBSP, ' ')} ärenden" in flat
        shown = pl.read_parquet(unit_run.interim / "kommuner" / "tables.parquet").filter(
            (pl.col("area") == name) & ~pl.col("suppressed") & pl.col("share").is_not_null()
        )
        printed = {fmt_pct(s).replace(NBSP, " ") for s in shown["share"]}
        assert any(re.search(rf"(?<![\d,]){p}", flat) for p in printed), "a visible share in Swedish form (38 %)"
        assert "{{" not in text
        assert not re.search(r"\b(None|nan|NaN|inf)\b", text), "a missing value printed as Python's word for it"
        # the SVG figures' words are set in their own font (Typst found it), not a fallback
        assert {"DejaVuSans", "DejaVuSans-Bold"} <= pdf_fonts(reader)


def _csv_rows(run, slug: str, edition: str, name: str) -> dict[str, pl.DataFrame]:
    folder = run.workdir / "build" / "kommuner" / ("intern" if edition == "intern" else "") / slug / "tables"
    return {
        p.stem: pl.read_csv(p).filter(pl.col("group") == name)
        for p in sorted(folder.glob("*.csv"))
        if p.stem != "trend"
    }


@pytest.mark.e2e
def test_the_internal_edition_shows_the_small_counts_the_published_one_hides(unit_run):
    """Arboga (30 cases): a count under 5 that the published edition hides is in the
    internal edition, which is marked on its first page and in every page's footer."""
    published = _csv_rows(unit_run, UNIT, "publicerad", "Arboga")
    internal = _csv_rows(unit_run, UNIT, "intern", "Arboga")
    assert published.keys() == internal.keys() and len(internal) >= 17
    revealed = 0
    for table_id, rows in internal.items():
        hidden = published[table_id]["suppressed"].to_numpy()
        assert not rows["suppressed"].any() and rows["n"].null_count() == 0, table_id
        small = rows.filter(hidden & ((rows["n"] > 0) & (rows["n"] < T)).to_numpy())
        revealed += small.height
    assert revealed > 0
    reader = pypdf.PdfReader(unit_run.results / "kommuner" / "intern" / f"{UNIT}.pdf")
    pages = [page.extract_text() for page in reader.pages]
    assert "Intern version – innehåller små tal" in " ".join(pages[0].split())
    assert all("(intern version)" in page for page in pages)
    flat = " ".join(" ".join(pages).split())
    assert "Detta är den interna versionen" in flat
    # no sentence of the PDF speaks of a hidden value (the figures may: the size class and
    # the country stay protected in the internal edition, and their marks are text)
    source = (unit_run.workdir / "build" / "kommuner" / "intern" / UNIT / "index.qmd").read_text("utf-8")
    pdf_only = re.sub(r'::: \{\.content-visible when-format="html"\}.*?\n:::\n', "", source, flags=re.S)
    assert "Detta är den interna versionen" in pdf_only and "dold" not in pdf_only
    html = (unit_run.results / "kommuner" / "intern" / f"{UNIT}.html").read_text(encoding="utf-8")
    assert "intern-varning" in html and 'href="../../quality/arboga.html"' in html


@pytest.mark.e2e
def test_nothing_of_the_internal_tables_reaches_the_published_editions(unit_run):
    """Every published report's own rows are exactly the protected tables: no count that
    tables_intern has and tables hides; and no published file calls itself internal."""
    tables = pl.read_parquet(unit_run.interim / "kommuner" / "tables.parquet")
    intern = pl.read_parquet(unit_run.interim / "kommuner" / "tables_intern.parquet")
    areas = json.loads((unit_run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    for slug, kind in ((UNIT, "enhet"), (LAN, "lan")):
        name = next(a["name"] for a in areas if a["slug"] == slug and a["kind"] == kind)
        for table_id, shown in _csv_rows(unit_run, slug, "publicerad", name).items():
            truth = tables.filter((pl.col("table") == table_id) & (pl.col("area") == name))
            assert shown["n"].to_list() == truth["n"].to_list(), (slug, table_id)
            if kind == "enhet":
                full = intern.filter((pl.col("table") == table_id) & (pl.col("area") == name))
                leaked = shown.filter(truth["suppressed"].to_numpy() & full["n"].is_not_null().to_numpy())
                assert leaked["n"].null_count() == leaked.height, (slug, table_id)
        text = " ".join(
            page.extract_text() for page in pypdf.PdfReader(unit_run.results / "kommuner" / f"{slug}.pdf").pages
        )
        assert "intern version" not in text.lower() and "publicerade versionen" in " ".join(text.split())
        assert "intern-varning" not in (unit_run.results / "kommuner" / f"{slug}.html").read_text("utf-8")


@pytest.mark.e2e
def test_too_few_units_to_protect_publish_nothing_below_the_country_and_say_why(tiny_copy):
    """.test/ has 2 units: each would read the other's numbers off the country's
    (published as they are), so no comparison report is made, the bundle holds the
    country alone, and the log says why; the run itself succeeds."""
    from support.paths import TINY_CONFIG
    from support.workflow import run_snakemake

    shutil.rmtree(tiny_copy.workdir / "interim" / "kommuner", ignore_errors=True)
    done = run_snakemake(tiny_copy.workdir, "--", "kommuner", configfile=TINY_CONFIG, check=False)
    log = (tiny_copy.workdir / "logs" / "unit_tables.log").read_text(encoding="utf-8")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Inga jämförelserapporter görs: med 2 verksamheter" in log
    assert "Traceback" not in log
    areas = json.loads((tiny_copy.workdir / "interim" / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    assert [a["kind"] for a in areas] == ["riket"]
    published = pl.read_parquet(tiny_copy.workdir / "interim" / "kommuner" / "tables.parquet")
    assert set(published["area_kind"].to_list()) == {"riket"}
    reports = tiny_copy.workdir / "results" / "kommuner"
    assert not reports.exists() or not list(reports.rglob("*.pdf"))
