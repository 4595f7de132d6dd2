"""Every published group protected, end to end on the demo: the independent audit
(kvinnofrid.disclosure.audit) attacks what the comparison reports publish; no count
below the threshold is visible for any area but the country in any published
workbook, nor in the report tables of the areas that hide most; a grouping file
changes the comparison group."""

from __future__ import annotations

import json

import openpyxl
import polars as pl
import pytest

from kvinnofrid.disclosure import audit
from kvinnofrid.spec import municipalities

T = 5


@pytest.fixture(scope="module")
def published_run(pipeline_run):
    """The demo with every unit's and län's published workbook (target kommuner_tabeller)
    and the published reports of the areas that hide most: the unit with the fewest
    cases and the län of the most units. Every report is built from the same protected
    tables as the workbooks, and the report builder refuses to publish a count below the
    threshold (unit_report._check_published); all ~80 reports (target kommuner) would
    cost minutes of rendering and check nothing more here."""
    from support.workflow import run_snakemake

    areas = json.loads((pipeline_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
    smallest = min((a for a in areas if a["kind"] == "enhet"), key=lambda a: (a["cases"], a["slug"]))
    widest = max((a for a in areas if a["kind"] == "lan"), key=lambda a: (len(a["units"]), a["slug"]))
    reports = [f"results/kommuner/{a['slug']}.pdf" for a in (smallest, widest)]
    run_snakemake(pipeline_run.workdir, "--", "kommuner_tabeller", *reports)
    return pipeline_run


@pytest.mark.e2e
def test_the_independent_audit_pins_nothing_on_the_demo(pipeline_run):
    """What every comparison report and workbook publishes is rule unit_tables' output,
    which the default target builds (the national bundle reads it)."""
    heard = []  # the tables audited side by side (two processes), each reported as it is done
    pub = audit.from_run(pipeline_run.workdir, T)
    result = audit.audit(pub, T, workers=2, progress=lambda table, found, seconds: heard.append(table))
    assert heard == pub.final["table"].unique(maintain_order=True).to_list()
    counts = result["counts"]
    assert counts["outsider_exact"] == 0, result["findings"]["outsider_exact"][:5]
    assert counts["unit_exact"] == 0, result["findings"]["unit_exact"][:5]
    assert counts["unit_narrow"] == 0, result["findings"]["unit_narrow"][:5]  # reading the marks too
    assert counts["pair_exact"] == 0, result["findings"]["pair_exact"][:5]
    assert counts["visible_small"] == 0 and result["visible_zeros"] == 0
    hidden = result["hidden"]
    assert hidden["storleksklass"][0] > 0 and hidden["riket"][0] == 0  # classes are protected, the country not


def _published_numbers(path):
    """(sheet, area, header, value) of every number of a workbook's table sheets."""
    wb = openpyxl.load_workbook(path)
    for sheet in wb.sheetnames[3:]:
        rows = list(wb[sheet].iter_rows())
        start = next(k for k, r in enumerate(rows) if r[0].value == "Område")
        header = [c.value for c in rows[start]]
        for r in rows[start + 1 :]:
            for h, c in zip(header, r, strict=False):
                if h in ("Antal", "Bas (N)") and isinstance(c.value, int | float):
                    yield sheet, r[0].value, h, c.value


@pytest.mark.e2e
def test_no_count_below_the_threshold_is_visible_for_any_area_but_the_country(published_run):
    books = list((published_run.results / "kommuner").glob("*.xlsx"))
    areas = json.loads((published_run.interim / "kommuner" / "areas.json").read_text("utf-8"))
    assert len(books) == sum(a["kind"] in ("enhet", "lan") for a in areas)
    checked = 0
    for book in books:
        for sheet, area, header, value in _published_numbers(book):
            checked += 1
            if area != "Riket":
                assert value >= T, f"{book.name} {sheet} {area} {header} = {value}"
    assert checked > 1000
    reports = list((published_run.workdir / "build" / "kommuner").glob("*/tables"))
    assert len(reports) == 2, reports
    hidden = 0
    for csv in (published_run.workdir / "build" / "kommuner").glob("*/tables/*.csv"):
        if csv.name == "trend.csv":
            continue
        rows = pl.read_csv(csv).filter(pl.col("group") != "Riket")
        shown = rows["n"].drop_nulls()
        assert not (shown < T).any(), csv
        assert rows.filter(pl.col("suppressed"))["hidden_reason"].null_count() == 0, csv  # every hidden cell says why
        hidden += rows["suppressed"].sum()
    assert hidden > 0  # the reports checked do hide cells


@pytest.mark.e2e
def test_a_grouping_file_changes_the_comparison_group(pipeline_run, tmp_path):
    """Groups by län from a generated file: the areas, the bundle and a unit's workbook
    compare with the unit's group instead of its size class."""
    from support.workflow import run_snakemake

    register = municipalities.load_register()
    groups = tmp_path / "grupper.csv"
    lines = [
        f"{k},{'Norr' if lan.split()[0] in NORTH else 'Söder'}"
        for k, lan in register.select("kommunkod", "lan").iter_rows()
    ]
    groups.write_text("kommunkod,grupp\n" + "\n".join(lines) + "\n", encoding="utf-8")
    work = pipeline_run.copy_to(tmp_path / "run")
    run_snakemake(
        work.workdir,
        "--config",
        f"comparison_groups={{file: {groups}}}",
        "--",
        "results/kommuner/arboga.xlsx",
        "results/nationellt",
    )
    areas = json.loads((work.interim / "kommuner" / "areas.json").read_text("utf-8"))
    kinds = {a["kind"] for a in areas}
    assert "grupp" in kinds and "storleksklass" not in kinds
    arboga = next(a for a in areas if a["name"] == "Arboga")
    assert arboga["group"] == "Söder"
    seen = {area for _, area, _, _ in _published_numbers(work.results / "kommuner" / "arboga.xlsx")}
    assert "Jämförelsegruppen Söder" in seen and not any(str(s).startswith("Kommuner med") for s in seen)
    bundle_areas = json.loads((work.results / "nationellt" / "omraden.json").read_text("utf-8"))
    assert {a["name"] for a in bundle_areas if a["kind"] == "grupp"} <= {"Norr", "Söder"}


NORTH = ("Norrbottens", "Västerbottens", "Jämtlands", "Västernorrlands", "Gävleborgs", "Dalarnas", "Värmlands")


@pytest.mark.e2e
def test_a_grouping_file_missing_a_municipality_is_a_message_not_a_traceback(pipeline_run, tmp_path):
    from support.workflow import run_snakemake

    register = municipalities.load_register()
    groups = tmp_path / "grupper.csv"
    rows = [f"{k},A" for k in register["kommunkod"].to_list()[1:]]
    groups.write_text("kommunkod,grupp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    work = pipeline_run.copy_to(tmp_path / "run")
    done = run_snakemake(
        work.workdir,
        "--config",
        f"comparison_groups={{file: {groups}}}",
        "--forcerun",
        "unit_tables",
        "--",
        "interim/kommuner/areas.json",
        check=False,
    )
    assert done.returncode != 0
    log = (work.workdir / "logs" / "unit_tables.log").read_text("utf-8") + done.stderr
    assert "saknar jämförelsegrupp" in log and register["kommun"][0] in log
    assert "Traceback" not in (work.workdir / "logs" / "unit_tables.log").read_text("utf-8")
