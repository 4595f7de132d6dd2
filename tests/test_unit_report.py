"""Comparison reports per unit and län (kvinnofrid.disclosure.area_tables, kvinnofrid.reporting.unit_report, rules unit_tables,
unit_report, kommuner): definitions on tiny frames, then the real pipeline — a
recovery attack on everything the reports publish, the reports' own tables, a unit
report in the real browser and its PDF."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pypdf
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import unit_report as ur
from kvinnofrid.reporting.numfmt import NBSP, fmt_int, fmt_pct
from kvinnofrid.statistics.tables import TABLE_SCHEMA, finish_table

T = 5
UNIT, LAN = "arboga", "vastmanlands-lan"  # a small unit, a län of three units


# ------------------------------------------------------------------ definitions


def test_areas_country_classes_in_config_order_units_and_lan_with_three_units():
    units = ["B", "A", "C", "D", "E"]
    meta = pl.DataFrame(
        {"unit": units, "unit_slug": [u.lower() for u in units], "lan": ["Y län", "X län", "X län", "X län", "Y län"]}
    )
    classes = {"A": "Liten", "B": "Stor", "C": "Stor", "D": "Stor", "E": "Liten"}
    areas = at.areas_of(meta, classes, ["Stor", "Liten"], groups=dict.fromkeys("ABCDE", "Grupp 1"))
    assert [(a.kind, a.name, a.units) for a in areas] == [
        ("riket", "Riket", ("A", "B", "C", "D", "E")),
        ("storleksklass", "Stor", ("B", "C", "D")),
        ("grupp", "Grupp 1", ("A", "B", "C", "D", "E")),
        ("enhet", "A", ("A",)),
        ("enhet", "B", ("B",)),
        ("enhet", "C", ("C",)),
        ("enhet", "D", ("D",)),
        ("enhet", "E", ("E",)),
        ("lan", "X län", ("A", "C", "D")),
    ]  # "Liten" and Y län pool two units: each would read the other's numbers off the sum
    assert areas[-1].slug == "x-lan"


def test_top_group_share_of_closed_cases_by_hand():
    derived = pl.DataFrame(
        {"is_closed": [True, True, True, True, False], "top_group": [True, False, None, True, False]}
    )
    table = at.top_group_table(derived)
    assert table["category"].to_list() == ["Toppgrupp", "Övriga avslutade ärenden"]
    assert table["n"].to_list() == [2, 2] and table["denominator"].to_list() == [4, 4]
    assert table["share"].to_list() == [0.5, 0.5]


def _long(table_id, area, rows):
    frame = pl.DataFrame(rows, schema=["category", "n", "denominator", "share", "suppressed"], orient="row")
    return (
        frame.with_columns(
            pl.lit(table_id).alias("table"),
            pl.lit("enhet").alias("area_kind"),
            pl.lit(area).alias("area"),
            pl.lit(None, pl.String).alias("group"),
            pl.lit(None, pl.Float64).alias("ci_low"),
            pl.lit(None, pl.Float64).alias("ci_high"),
            pl.lit(None, pl.Float64).alias("mean"),
            pl.when(pl.col("suppressed")).then(pl.lit("under_troskel")).alias("hidden_reason"),
            pl.lit(None, pl.String).alias("denominator_reason"),
        )
        .select(at.LONG_SCHEMA.names())
        .cast(dict(at.LONG_SCHEMA))
    )


def test_histogram_counts_become_shares_so_areas_of_different_size_compare():
    long = pl.concat(
        [
            _long("16", "A", [("1–90", 3, 4, None, False), ("91–", 1, 4, None, False)]),
            _long("16", "Riket", [("1–90", 30, 60, None, False), ("91–", 30, 60, None, False)]),
        ]
    )
    areas = [at.Area("enhet", "A", "a", ("A",)), at.Area("riket", "Riket", "riket", ("A",))]
    table = at.comparison_table(long, "16", areas)
    assert table["group"].to_list() == ["A", "A", "Riket", "Riket"]
    assert table["share"].to_list() == [0.75, 0.25, 0.5, 0.5]


def test_sentence_names_the_largest_visible_category_and_the_others():
    table = pl.DataFrame(
        {
            "group": ["A", "A", "Riket", "Riket"],
            "category": ["x", "y", "x", "y"],
            "share": [0.2, 0.8, 0.4, 0.6],
            "suppressed": [False, False, False, False],
        }
    )
    assert (
        ur.summary_sentence(table, "A", ["A", "Riket"])
        == "Störst andel i A har kategorin ”y” med 80\u00a0% (Riket: 60\u00a0%)."
    )
    hidden = table.with_columns(pl.when(pl.col("group") == "A").then(True).otherwise(False).alias("suppressed"))
    assert ur.summary_sentence(hidden, "A", ["A", "Riket"]).startswith("Andelarna för A visas inte eftersom")


def test_a_measure_of_a_round_is_hidden_when_one_of_its_categories_is():
    measures = [{"id": "improved", "label": "Förbättrats", "diagram": 18, "categories": ["mycket", "lite"]}]
    import datetime as dt

    r1, r2 = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
    by_round = {
        r1: _long(
            "18",
            "A",
            [("mycket", None, 12, None, True), ("lite", 8, 12, 8 / 12, False), ("inte", None, 12, None, True)],
        ),
        r2: _long("18", "A", [("mycket", 6, 20, 0.3, False), ("lite", 8, 20, 0.4, False), ("inte", 6, 20, 0.3, False)]),
    }
    out = at.area_trend(by_round, "A", measures, {"interim": "Prel", "final": "Slut"})
    assert out["source"].to_list() == ["Prel", "Slut"]
    assert out["share"].to_list() == [None, 0.7] and out["n"].to_list() == [None, 14]


def test_internal_tables_hold_the_units_own_counts_beside_the_published_country_and_classes():
    meta = pl.DataFrame({"unit": ["A", "B", "C"], "unit_slug": ["a", "b", "c"], "lan": ["X län"] * 3})
    areas = at.areas_of(meta, dict.fromkeys("ABC", "Stor"), ["Stor"])
    counts = {"A": (2, 30), "B": (10, 40), "C": (12, 3)}

    def table(a, b):
        return finish_table(
            pl.DataFrame(
                {"group": [None, None], "category": ["ja", "nej"], "n": [a, b], "denominator": [a + b] * 2},
                schema_overrides={"group": pl.String},
            )
        )

    by_area = {"Riket": table(24, 73), "Stor": table(24, 73), "X län": table(24, 73)}
    by_area |= {u: table(*c) for u, c in counts.items()}
    tables = {"2": by_area}
    published = at.protect({"2023-10-10": tables}, areas, T)["2023-10-10"]
    internal = at.internal_tables(tables, published, areas)

    def rows(frame, area):
        return frame.filter(pl.col("area") == area).sort("category")

    assert set(internal["area_kind"]) == {"riket", "storleksklass", "enhet"}  # no län
    for area in ("Riket", "Stor"):
        assert_frame_equal(rows(internal, area), rows(published, area))
    for unit, (a, b) in counts.items():
        assert rows(internal, unit)["n"].to_list() == [a, b]
        assert not rows(internal, unit)["suppressed"].any()
    assert rows(published, "A")["n"].null_count() and rows(published, "C")["n"].null_count()


def test_every_area_has_a_published_report_every_unit_an_internal_one_and_batches_split_them():
    every = [
        {"kind": "riket", "slug": "riket"},
        {"kind": "storleksklass", "slug": "stor"},
        *({"kind": "enhet", "slug": f"u{k}"} for k in range(7)),
        {"kind": "lan", "slug": "x-lan"},
    ]
    jobs = ur.report_jobs(every)
    assert sorted(s for s, e in jobs if e == ur.PUBLISHED) == sorted([f"u{k}" for k in range(7)] + ["x-lan"])
    assert sorted(s for s, e in jobs if e == ur.INTERNAL) == [f"u{k}" for k in range(7)]
    batches = [ur.batch_jobs(every, b, 3) for b in range(3)]
    assert sorted(j for b in batches for j in b) == sorted(jobs) and all(batches)
    for b in batches:  # both editions of a unit in one batch
        assert {s for s, e in b if e == ur.INTERNAL} <= {s for s, e in b if e == ur.PUBLISHED}
    assert ur.report_paths("res", "build", "u1", ur.INTERNAL) == (Path("res/intern"), Path("build/intern/u1"))
    assert ur.report_paths("res", "build", "u1", ur.PUBLISHED) == (Path("res"), Path("build/u1"))


def test_the_published_edition_refuses_a_visible_count_below_the_threshold():
    shown = pl.DataFrame({"n": [7, 0, 3]})
    with pytest.raises(ValueError, match="publicerade"):
        ur._check_published(shown, T, "arboga, tabell 2")
    with pytest.raises(ValueError, match="publicerade"):  # a zero is a small count too
        ur._check_published(shown.head(2), T, "arboga, tabell 2")
    ur._check_published(shown.head(1), T, "arboga, tabell 2")


# ------------------------------------------------------------------ the pipeline


@pytest.fixture(scope="module")
def unit_run(pipeline_run):
    """The comparison tables of every area, one unit's and one län's report."""
    from conftest import run_snakemake

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
    from conftest import run_snakemake

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
    from test_suppression import attack

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
    from test_pipeline import _needles, scan_for_personal_data

    folders = [
        unit_run.results / "kommuner",
        unit_run.interim / "kommuner",
        unit_run.workdir / "build" / "kommuner",
        unit_run.workdir / "logs" / "unit_report",
    ]
    assert scan_for_personal_data(folders, _needles(snapshots)) > 40


@pytest.mark.e2e
def test_unit_report_in_the_browser(unit_run):
    from playwright.sync_api import sync_playwright
    from test_report_build import CHROMIUM, CHROMIUM_ARGS

    html = unit_run.results / "kommuner" / f"{UNIT}.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
        images = page.evaluate("Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth}))")
        links = page.evaluate("Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href'))")
        missing = page.evaluate("hs => hs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))", links)
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
    assert "Detta är den interna versionen" in flat and "dold" not in flat
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
    from conftest import TINY_CONFIG, run_snakemake

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
