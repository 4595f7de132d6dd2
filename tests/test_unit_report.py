"""Comparison reports per unit and län (kvinnofrid.disclosure.area_tables, kvinnofrid.reporting.unit_report, rules unit_tables,
unit_report, kommuner): definitions on tiny frames, then the real pipeline — a
recovery attack on everything the reports publish, the reports' own tables, a unit
report in the real browser and its PDF."""

from __future__ import annotations

import json
import re

import polars as pl
import pypdf
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import unit_report as ur
from kvinnofrid.reporting.numfmt import NBSP, fmt_int
from kvinnofrid.statistics.tables import TABLE_SCHEMA

T = 5
UNIT, LAN = "arboga", "kalmar-lan"      # a small unit, a län of two units


# ------------------------------------------------------------------ definitions

def test_areas_country_classes_in_config_order_units_and_lan_with_two_units():
    meta = pl.DataFrame({"unit": ["B", "A", "C"], "unit_slug": ["b", "a", "c"],
                         "lan": ["Y län", "X län", "X län"]})
    areas = at.areas_of(meta, {"A": "Liten", "B": "Stor", "C": "Stor"}, ["Stor", "Liten"])
    assert [(a.kind, a.name, a.units) for a in areas] == [
        ("riket", "Riket", ("A", "B", "C")), ("storleksklass", "Stor", ("B", "C")),
        ("storleksklass", "Liten", ("A",)), ("enhet", "A", ("A",)), ("enhet", "B", ("B",)),
        ("enhet", "C", ("C",)), ("lan", "X län", ("A", "C"))]     # Y län has one unit: no summary
    assert areas[-1].slug == "x-lan"


def test_top_group_share_of_closed_cases_by_hand():
    derived = pl.DataFrame({"is_closed": [True, True, True, True, False],
                            "top_group": [True, False, None, True, False]})
    table = at.top_group_table(derived)
    assert table["category"].to_list() == ["Toppgrupp", "Övriga avslutade ärenden"]
    assert table["n"].to_list() == [2, 2] and table["denominator"].to_list() == [4, 4]
    assert table["share"].to_list() == [0.5, 0.5]


def _long(table_id, area, rows):
    frame = pl.DataFrame(rows, schema=["category", "n", "denominator", "share", "suppressed"], orient="row")
    return frame.with_columns(pl.lit(table_id).alias("table"), pl.lit("enhet").alias("area_kind"),
                              pl.lit(area).alias("area"), pl.lit(None, pl.String).alias("group"),
                              pl.lit(None, pl.Float64).alias("ci_low"), pl.lit(None, pl.Float64).alias("ci_high"),
                              pl.lit(None, pl.Float64).alias("mean")).select(at.LONG_SCHEMA.names()).cast(
        dict(at.LONG_SCHEMA))


def test_histogram_counts_become_shares_so_areas_of_different_size_compare():
    long = pl.concat([
        _long("16", "A", [("1–90", 3, 4, None, False), ("91–", 1, 4, None, False)]),
        _long("16", "Riket", [("1–90", 30, 60, None, False), ("91–", 30, 60, None, False)])])
    areas = [at.Area("enhet", "A", "a", ("A",)), at.Area("riket", "Riket", "riket", ("A",))]
    table = at.comparison_table(long, "16", areas)
    assert table["group"].to_list() == ["A", "A", "Riket", "Riket"]
    assert table["share"].to_list() == [0.75, 0.25, 0.5, 0.5]


def test_sentence_names_the_largest_visible_category_and_the_others():
    table = pl.DataFrame({"group": ["A", "A", "Riket", "Riket"], "category": ["x", "y", "x", "y"],
                          "share": [0.2, 0.8, 0.4, 0.6], "suppressed": [False, False, False, False]})
    assert ur.summary_sentence(table, "A", ["A", "Riket"]) == \
        "Störst andel i A har kategorin ”y” med 80\u00a0% (Riket: 60\u00a0%)."
    hidden = table.with_columns(pl.when(pl.col("group") == "A").then(True).otherwise(False).alias("suppressed"))
    assert ur.summary_sentence(hidden, "A", ["A", "Riket"]).startswith("Andelarna för A visas inte eftersom")


def test_a_measure_of_a_round_is_hidden_when_one_of_its_categories_is():
    measures = [{"id": "improved", "label": "Förbättrats", "diagram": 18, "categories": ["mycket", "lite"]}]
    import datetime as dt

    r1, r2 = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
    by_round = {
        r1: _long("18", "A", [("mycket", None, 12, None, True), ("lite", 8, 12, 8 / 12, False),
                              ("inte", None, 12, None, True)]),
        r2: _long("18", "A", [("mycket", 6, 20, 0.3, False), ("lite", 8, 20, 0.4, False),
                              ("inte", 6, 20, 0.3, False)]),
    }
    out = at.area_trend(by_round, "A", measures, {"interim": "Prel", "final": "Slut"})
    assert out["source"].to_list() == ["Prel", "Slut"]
    assert out["share"].to_list() == [None, 0.7] and out["n"].to_list() == [None, 14]


# ------------------------------------------------------------------ the pipeline

@pytest.fixture(scope="module")
def unit_run(pipeline_run):
    """The comparison tables of every area, one unit's and one län's report."""
    from conftest import run_snakemake

    targets = [f"results/kommuner/{slug}.{ext}" for slug in (UNIT, LAN) for ext in ("html", "pdf")]
    run_snakemake(pipeline_run.workdir, "--", *targets)
    return pipeline_run


def _truth(run) -> tuple[dict, list[at.Area]]:
    areas_info = json.loads((run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    areas = [at.Area(a["kind"], a["name"], a["slug"], tuple(a["units"])) for a in areas_info]
    derived = pl.read_parquet(run.interim / "cases_derived.parquet")
    diagrams = [int(t) for t in pl.read_parquet(run.interim / "kommuner" / "tables.parquet")["table"].unique()
                if t.isdigit()]
    return at.area_tables(derived, areas, sorted(diagrams)), areas


@pytest.mark.e2e
def test_every_unit_that_sent_data_and_every_lan_with_two_units_gets_a_report(unit_run):
    from conftest import run_snakemake

    areas = json.loads((unit_run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    units = pl.read_csv(unit_run.interim / "units.csv")
    assert sorted(a["name"] for a in areas if a["kind"] == "enhet") == sorted(units["unit"].unique())
    lan = [a for a in areas if a["kind"] == "lan"]
    assert lan and all(len(a["units"]) >= 2 for a in lan)
    assert sum(a["cases"] for a in areas if a["kind"] == "enhet") == 3070
    dry = run_snakemake(unit_run.workdir, "-n", "--", "kommuner").stdout
    counts = {line.split()[0]: int(line.split()[1]) for line in dry.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    # every other unit's and län's report is planned; the two built above are not
    assert counts.get("unit_report") == len([a for a in areas if a["kind"] in ("enhet", "lan")]) - 2, dry[-2000:]


@pytest.mark.e2e
def test_no_hidden_small_count_can_be_recovered_from_what_the_reports_publish(unit_run):
    """The attacker of test_suppression (linear programming over every published
    number of every area of a table) against the reports' tables."""
    from test_suppression import attack

    published = pl.read_parquet(unit_run.interim / "kommuner" / "tables.parquet")
    truth, areas = _truth(unit_run)
    totals = {"Riket": [a.name for a in areas if a.kind == "enhet"]}
    totals |= {a.name: list(a.units) for a in areas if a.kind in ("storleksklass", "lan")}
    attacked = 0
    for table_id, per_area in truth.items():
        kind = "multi" if at.table_kind(table_id) == "multi" else "single"
        shown = {a.name: published.filter((pl.col("table") == table_id) & (pl.col("area") == a.name))
                 .select(TABLE_SCHEMA.names()) for a in areas}
        for a in areas:
            if a.kind in ("riket", "storleksklass"):          # published as they are
                assert_frame_equal(shown[a.name], per_area[a.name].select(TABLE_SCHEMA.names()))
                continue
            true, seen = per_area[a.name], shown[a.name]
            small = ((true["n"] > 0) & (true["n"] < T)).to_numpy()
            assert seen.filter(small)["n"].null_count() == int(small.sum()), (table_id, a.name)
            visible = seen.filter(~pl.col("suppressed"))
            assert_frame_equal(visible, true.filter((~seen["suppressed"]).to_numpy()).select(visible.columns),
                               check_dtypes=False)
        for area, cell, value, low, high in attack(shown, per_area, totals, kind):
            attacked += 1
            assert high - low >= 1 - 1e-6, f"tabell {table_id}: {area} {cell} = {value} räknas fram: [{low}, {high}]"
    assert attacked > 100


@pytest.mark.e2e
def test_the_reports_tables_show_no_small_count_of_the_unit_or_lan(unit_run):
    for slug, kind in ((UNIT, "enhet"), (LAN, "lan")):
        info = next(a for a in json.loads((unit_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
                    if a["slug"] == slug and a["kind"] == kind)
        csvs = sorted((unit_run.workdir / "build" / "kommuner" / slug / "tables").glob("*.csv"))
        assert len(csvs) >= 17
        for path in csvs:
            if path.name == "trend.csv":           # the area's own rounds only
                shown = pl.read_csv(path)["n"].drop_nulls()
                assert not ((shown > 0) & (shown < T)).any(), f"{slug}/{path.name}"
                continue
            rows = pl.read_csv(path).filter(pl.col("group") == info["name"])
            assert rows.height, path.name
            shown = rows["n"].drop_nulls()
            assert not ((shown > 0) & (shown < T)).any(), f"{slug}/{path.name}"
            assert (rows["n"].is_null() == rows["suppressed"]).all()


@pytest.fixture(scope="module")
def snapshots():
    from kvinnofrid.demo import simulate

    return simulate.simulate_rounds(simulate.SimulationSettings())


@pytest.mark.e2e
def test_nothing_personal_in_the_unit_reports(unit_run, snapshots):
    from test_pipeline import _needles, scan_for_personal_data

    folders = [unit_run.results / "kommuner", unit_run.interim / "kommuner", unit_run.workdir / "build" / "kommuner",
               unit_run.workdir / "logs" / "unit_report"]
    assert scan_for_personal_data(folders, _needles(snapshots)) > 40


@pytest.mark.e2e
def test_unit_report_in_the_browser(unit_run):
    from test_report_build import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    html = unit_run.results / "kommuner" / f"{UNIT}.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        images = page.evaluate("Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth}))")
        links = page.evaluate("Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href'))")
        missing = page.evaluate("hs => hs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))",
                                links)
        captions = page.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.innerText)")
        body = page.inner_text("body")
        quality_link = page.evaluate("document.querySelector('a[href=\"../quality/arboga.html\"]') !== null")
        browser.close()
    assert len(images) >= 18 and all(i["w"] > 0 for i in images)
    assert links and not missing, missing
    assert [c.split(":")[0] for c in captions] == [f"Figur {k}" for k in range(1, len(captions) + 1)]
    assert "Arboga" in body and "Riket" in body and "dold" in body
    assert quality_link and (unit_run.results / "quality" / "arboga.html").is_file()


@pytest.mark.e2e
def test_unit_and_lan_pdfs_have_their_figures_and_swedish_numbers(unit_run):
    for slug, name in ((UNIT, "Arboga"), (LAN, "Kalmar län")):
        reader = pypdf.PdfReader(unit_run.results / "kommuner" / f"{slug}.pdf")
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert f"{name}: jämförelse med riket" in text
        assert "Figur 17" in text and "Innehåll" in text
        info = next(a for a in json.loads((unit_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
                    if a["slug"] == slug)
        flat = text.replace("\u00a0", " ").replace("\n", " ")
        assert f"Underlaget är {fmt_int(info['cases']).replace(NBSP, ' ')} ärenden" in flat
        assert re.search(r"med \d{1,3} % \(", flat), "a share in Swedish form (38 %) in the text"
        for forbidden in ("{{", "None", "nan"):
            assert forbidden not in text
