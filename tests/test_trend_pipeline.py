"""End to end: the round comparison of the real pipeline on the demo exports.

trend.csv has the previous report's values and both submission rounds; the final
round is the national tables; the interim round is what compiling at its date gives;
the report shows the section with the csv's values in Swedish format.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.reporting import trend_report
from kvinnofrid.reporting.numfmt import fmt_int, fmt_pct
from kvinnofrid.reporting.swedish import antal, datum, procent
from kvinnofrid.stages import batches
from kvinnofrid.stages.compile import compile_cases
from kvinnofrid.stages.derive import derive_cases
from kvinnofrid.statistics import trend

INTERIM, FINAL = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
PREVIOUS = {"share_women": 0.91, "share_hrv": 0.15, "share_risk_assessed": 0.75, "share_survey_improved": 0.78}


pytestmark = pytest.mark.e2e  # every test here reads a Snakemake run or renders a report


@pytest.fixture(scope="module")
def shares(pipeline_run) -> pl.DataFrame:
    return trend_report.read_trend(pipeline_run.results / "trend" / "trend.csv")


@pytest.fixture(scope="module")
def rounds(pipeline_run) -> pl.DataFrame:
    return trend_report.read_rounds(pipeline_run.results / "trend" / "rounds.csv")


def test_trend_csv_has_the_previous_report_and_both_rounds(pipeline_run, shares):
    header = (pipeline_run.results / "trend" / "trend.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(trend.TREND_SCHEMA.names())
    assert re.search(r",2023-05-15,", (pipeline_run.results / "trend" / "trend.csv").read_text(encoding="utf-8"))
    assert shares["measure"].unique(maintain_order=True).to_list() == list(PREVIOUS)
    for measure, value in PREVIOUS.items():
        rows = shares.filter(pl.col("measure") == measure)
        assert rows["source"].to_list() == [
            "Tidigare rapport 2019–2020",
            "Preliminär sammanställning",
            "Slutlig sammanställning",
        ]
        assert rows["round"].to_list() == [None, INTERIM, FINAL]
        assert rows["share"][0] == value and rows["n"][0] is None and rows["ci_low"][0] is None
        assert rows["n"][1:].min() > 0
    assert (pipeline_run.results / "figures" / "trend.png").stat().st_size > 0
    assert (pipeline_run.results / "figures" / "trend.svg").stat().st_size > 0


@pytest.mark.parametrize(
    "measure, diagram, categories",
    [
        ("share_women", 2, ["Kvinna"]),
        ("share_hrv", 5, ["Ja"]),
        ("share_risk_assessed", 26, ["Ja"]),
        ("share_survey_improved", 18, ["Förbättrats mycket", "Förbättrats lite"]),
    ],
)
def test_final_round_is_the_national_tables(pipeline_run, shares, measure, diagram, categories):
    table = pl.read_csv(pipeline_run.results / "tables" / f"diagram_{diagram:02d}.csv")
    chosen = table.filter(pl.col("category").is_in(categories))
    final = shares.filter((pl.col("measure") == measure) & (pl.col("round") == FINAL)).row(0, named=True)
    assert final["n"] == chosen["n"].sum() and final["denominator"] == chosen["denominator"][0]
    if len(categories) == 1:  # the published row itself (same 6 decimals in both csv files)
        assert (final["share"], final["ci_low"], final["ci_high"]) == chosen.select("share", "ci_low", "ci_high").row(0)
    else:
        assert final["share"] == pytest.approx(chosen["share"].sum(), abs=2e-6)


def test_interim_round_is_the_compilation_at_its_date(pipeline_run, shares, rounds):
    folder = pipeline_run.interim / "clean" / INTERIM.isoformat()
    cleaned = [  # rule clean writes one set of files per batch of exports (stages/batches.py)
        file
        for p in sorted(folder.glob("*.parquet"))
        if not p.name.endswith((".risk.parquet", ".rejected.parquet"))
        for file in batches.read_batch(
            reports=pipeline_run.interim / "quality" / INTERIM.isoformat() / f"{p.stem}.json",
            cases=p,
            risk=p.with_suffix(".risk.parquet"),
        )
    ]
    cases, risk, _ = compile_cases(cleaned, INTERIM)
    assert cases.height > 0 and cases["opened"].max() <= INTERIM
    per_round = pl.read_parquet(pipeline_run.interim / "rounds" / INTERIM.isoformat() / "cases_derived.parquet")
    assert_frame_equal(per_round, derive_cases(cases, risk))
    assert rounds.filter(pl.col("round") == INTERIM)["cases"].item() == cases.height
    assert (
        rounds.filter(pl.col("round") == FINAL)["cases"].item()
        == pl.read_parquet(pipeline_run.interim / "cases.parquet").height
    )
    # the interim round has fewer cases: the final one is not a copy of it
    assert cases.height < rounds.filter(pl.col("round") == FINAL)["cases"].item()
    assert (
        shares.filter((pl.col("measure") == "share_risk_assessed") & (pl.col("round") == INTERIM))["denominator"].item()
        == cases.height
    )


def _report_text(pipeline_run) -> str:
    page = (pipeline_run.results / "report" / "html" / "index.html").read_text(encoding="utf-8")
    page = re.sub(r"data:[^\"')\s]+", "", page)  # embedded images and csv
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"[ \t\r\n]+", " ", text)  # keep the no-break spaces


def test_report_has_the_trend_section_with_the_csv_values(pipeline_run, shares, rounds):
    text = _report_text(pipeline_run)
    start = text.index("Insamlingsomgångar och tidigare rapport Figur 3 och tabellen")
    section = text[start : text.index("Underlag för nationell statistik", start)]
    assert "Figur 3: Nyckelandelar per insamlingsomgång och i den tidigare rapporten" in section
    for r in rounds.iter_rows(named=True):  # prose: the date written out
        assert f"underlaget {datum(r['round'])} ({r['source'].lower()}) " in section.lower()
        assert f"{antal(r['cases'])} ärenden från {antal(r['units'])} verksamheter" in section
    for r in shares.iter_rows(named=True):
        share = fmt_pct(r["share"])
        if r["round"] is None:  # labelled as taken from the earlier report
            assert f"{r['source']}* – – {share} –" in section
        else:
            ci = f"{fmt_pct(r['ci_low'])}–{fmt_pct(r['ci_high'])}"
            assert f"{r['source']} {r['round']} {fmt_int(r['n'])} {fmt_int(r['denominator'])} {share} {ci}" in section
    previous = shares.filter(pl.col("round").is_null())
    assert (
        "Enligt tidigare rapport 2019–2020 var motsvarande andelar "
        + ", ".join(procent(s) for s in previous["share"][:-1])
        + f" och {procent(previous['share'][-1])}; "
        "de värdena är hämtade ur den tidigare rapporten"
    ) in section
    assert "värdet är hämtat ur den tidigare rapporten" in section
