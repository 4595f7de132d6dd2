"""End to end: the real Snakemake DAG on the shipped demo exports, and on the tiny
.test set for the plumbing (configuration, reruns, the whole DAG).

The demo exports were written from the generator's case frames in every variant of the
export contract, with defective rows on top. So the strongest check of ingest, clean
and compile together is that what comes out equals what the generator put in.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from support.paths import ROOT
from support.privacy import needles_of, scan_for_personal_data

from kvinnofrid.demo import simulate
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.spec.rules import RULES
from kvinnofrid.stages.compile import case_id_expr
from kvinnofrid.stages.pseudonym import DEMO_KEY, pseudonymise

CASE_COLUMNS = codebook.case_schema().names()

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def snapshots():
    return simulate.simulate_rounds(simulate.SimulationSettings())


def _with_keys(snapshot: simulate.RoundSnapshot, units: pl.DataFrame) -> pl.DataFrame:
    """The generator's cases keyed like the pipeline keys them (hashed client)."""
    slug_of = snapshot.units.select("unit", "municipality", "service_type").join(
        units.select("municipality", "service_type", pl.col("unit_slug"), pl.col("unit").alias("unit_name")).unique(),
        on=["municipality", "service_type"],
        how="left",
    )
    cases = snapshot.cases.join(slug_of, on="unit", how="left")
    assert cases["unit_slug"].null_count() == 0, "a generated unit was not found among the compiled units"
    return cases.with_columns(pseudonymise(cases["client"], DEMO_KEY).alias("client_key"))


def test_compiled_cases_equal_the_generated_final_round(pipeline_run, snapshots):
    compiled = pl.read_parquet(pipeline_run.interim / "cases.parquet")
    units = pl.read_csv(pipeline_run.interim / "units.csv", schema_overrides={"service_type": pl.Int8})
    expected = _with_keys(snapshots[-1], units).with_columns(
        case_id_expr(pl.col("unit_slug"), pl.col("client_key"), pl.col("opened")).alias("case_id")
    )
    assert compiled.height == 3070
    assert_frame_equal(
        compiled.select("case_id", pl.col("unit"), *CASE_COLUMNS).sort("case_id"),
        expected.select("case_id", pl.col("unit_name").alias("unit"), *CASE_COLUMNS).sort("case_id"),
    )


def test_interim_round_rows_used_equal_the_generated_interim_round(pipeline_run, snapshots):
    interim = snapshots[0]
    used = pl.concat(
        [
            pl.read_parquet(p)
            for p in sorted((pipeline_run.interim / "clean" / interim.round.isoformat()).glob("*.parquet"))
            if not p.name.endswith((".risk.parquet", ".rejected.parquet"))
        ],
        how="diagonal_relaxed",
    )
    units = pl.read_csv(pipeline_run.interim / "units.csv", schema_overrides={"service_type": pl.Int8})
    expected = _with_keys(interim, units)
    assert used.height == interim.cases.height
    key = ["unit_slug", "client_key", "opened"]
    got = used.join(units.select("file", "unit_slug"), on="file").select("unit_slug", "client_key", *CASE_COLUMNS)
    assert_frame_equal(
        got.sort(key),
        expected.select("unit_slug", "client_key", *CASE_COLUMNS).sort(key),
        check_column_order=False,
    )


def test_every_row_is_accounted_for_and_every_unit_has_a_page(pipeline_run):
    summary = pl.read_csv(pipeline_run.results / "quality" / "summary.csv")
    assert summary.columns[:6] == ["round", "unit", "rows_read", "rows_used", "rows_excluded", "rows_quarantined"]
    assert summary.columns[6:] == list(RULES)
    assert (summary["rows_read"] == summary["rows_used"] + summary["rows_excluded"] + summary["rows_quarantined"]).all()
    final = summary.filter(pl.col("round") == "2023-10-10")
    assert final["rows_used"].sum() == 3070 and final.height == 34
    assert summary.filter(pl.col("round") == "2023-05-15").height == 32
    # every defect kind of the generator reached the report under its rule's name
    for rule in (
        "case_key_missing",
        "duplicate_case_key",
        "opened_outside_period",
        "age_under_18",
        "unknown_value",
        "invalid_date",
        "closing_date_before_opening",
        "closing_date_after_submission",
        "age_not_a_number",
        "age_above_110",
        "local_variable",
        "case_missing_from_later_export",
    ):
        assert summary[rule].sum() > 0, rule
    units = pl.read_csv(pipeline_run.interim / "units.csv")
    for slug in units["unit_slug"].unique():
        page = (pipeline_run.results / "quality" / f"{slug}.html").read_text(encoding="utf-8")
        assert "<html" in page.lower()


def test_the_demo_keys_notice_is_given_once_not_once_per_clean_job(demo_run):
    clean_jobs = len(list((demo_run.workdir / "logs" / "benchmarks" / "clean").rglob("*.tsv")))
    assert clean_jobs == 8
    assert demo_run.stderr.count("så den publika demonyckeln används") == 1


def test_no_personal_data_reaches_any_output_interim_file_or_log(pipeline_run, snapshots):
    needles = needles_of(snapshots)
    assert any(n.startswith("K0") for n in needles) and any(n.startswith("HDL") for n in needles)
    folders = [pipeline_run.workdir / f for f in ("results", "interim", "logs", "build", ".snakemake/log")]
    assert scan_for_personal_data(folders, needles) > 200


def test_rerunning_the_national_steps_gives_byte_identical_tables_and_facts(tiny_copy):
    from support.paths import TINY_CONFIG
    from support.workflow import run_snakemake

    outputs = [
        *sorted((tiny_copy.results / "tables").glob("*.csv")),
        tiny_copy.results / "facts.json",
        tiny_copy.results / "statistics" / "comparisons.csv",
    ]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in outputs}
    run_snakemake(tiny_copy.workdir, "--forcerun", "derive", "--", "results/facts.json", configfile=TINY_CONFIG)
    assert all(p.stat().st_mtime_ns != before[p][1] for p in outputs), "the steps were not rerun"
    changed = [p.name for p in outputs if p.read_bytes() != before[p][0]]
    assert not changed, f"not byte-identical after a rerun: {changed}"


# ------------------------------------------------------------------ the tiny .test set


def test_the_tiny_config_has_only_the_required_keys_and_runs_the_default_target(tiny_run):
    """Every optional key takes the schema's default: the run needs nothing else."""
    from support.paths import TINY_CONFIG

    required = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))["required"]
    assert sorted(yaml.safe_load(TINY_CONFIG.read_text(encoding="utf-8"))) == sorted(required)
    results = tiny_run.results
    for path in (
        "report/html/index.html",
        "report/rapport.pdf",
        "kolada/nyckeltal.csv",
        "quality/summary.csv",
        "quality/eksjo.html",
        "facts.json",
        "trend/trend.csv",
        f"figures/{load_registry().diagrams[-1].slug}.svg",
    ):
        assert (results / path).is_file(), path
    assert json.loads((results / "facts.json").read_text(encoding="utf-8"))["cases_total"] == 37
    print(f"tiny run: {tiny_run.seconds:.0f} s")


def test_a_minimal_configfile_plans_the_whole_workflow(tmp_path):
    from support.paths import TINY_CONFIG
    from support.workflow import run_snakemake

    done = run_snakemake(tmp_path, "-n", "--", "all", "kommuner", configfile=TINY_CONFIG, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    for rule in ("clean", "unit_tables", "kolada", "render_report", "trend"):
        assert rule in done.stdout


@pytest.mark.parametrize(
    "line, words",
    [
        ("unit_report:\n  diagrams: [2, 3]\n", ["unit_report'", "tillåtna nycklar", "unit_reports"]),
        ("unit_reports:\n  diagrams: [2, 99]\n", ["unit_reports.diagrams = 99", "diagramregistret"]),
    ],
)
def test_a_misspelt_key_or_unknown_diagram_stops_the_run_with_a_swedish_message(tmp_path, line, words):
    from support.paths import TINY_CONFIG
    from support.workflow import run_snakemake

    config = tmp_path / "config.yaml"
    config.write_text(
        TINY_CONFIG.read_text(encoding="utf-8").replace(
            "data_raw: .test/data-raw", f"data_raw: {ROOT / '.test' / 'data-raw'}"
        )
        + line,
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    done = run_snakemake(work, "-n", configfile=config, check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0 and "Traceback" not in message
    for word in ["Fel i konfigurationen", *words]:
        assert word in message
