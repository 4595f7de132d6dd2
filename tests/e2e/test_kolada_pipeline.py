"""Kolada key figures from the real Snakemake run on the demo data (session fixture
``pipeline_run``): the file keeps to docs/output-contract.md, values are count per 10 000
adults, no small count is visible, and one unit's counts equal a count made directly
from the derived cases. (The config checks of the ``kolada``
section are in tests/unit/test_kolada_settings.py.)"""

from __future__ import annotations

import shutil

import polars as pl
import pytest
import yaml
from support.paths import ROOT

from kvinnofrid.disclosure import kolada

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
# docs/output-contract.md, "Kolada key figures", in its order
CONTRACT = ["kpi", "municipality", "period", "gender", "count", "adults", "value"]
THRESHOLD = CONFIG["suppression_threshold"]
PER_ADULTS = CONFIG["kolada"]["per_adults"]


@pytest.fixture(scope="module")
def nyckeltal(pipeline_run) -> pl.DataFrame:
    path = pipeline_run.results / "kolada" / "nyckeltal.csv"
    return pl.read_csv(path, schema_overrides={"municipality": pl.String, "count": pl.Int64, "value": pl.Float64})


@pytest.mark.e2e
def test_the_file_has_the_contract_columns_then_the_unit(nyckeltal):
    # Sigtuna and Stockholm report through two units each: the unit makes a row
    # unique, so it follows the contract's columns (kolada.write_key_figures).
    assert nyckeltal.columns == [*CONTRACT, "unit"]
    assert not nyckeltal.select("unit", "period", "kpi", "gender").is_duplicated().any()
    ids = [kf["id"] for kf in CONFIG["kolada"]["key_figures"].values()]
    assert sorted(nyckeltal["kpi"].unique()) == sorted(ids)
    assert set(nyckeltal["gender"]) == {"T", "K", "M"}
    assert nyckeltal["municipality"].str.contains(r"^\d{4}$").all()
    # every unit × year × key figure × gender is a row
    assert nyckeltal.height == nyckeltal["unit"].n_unique() * nyckeltal["period"].n_unique() * len(ids) * 3
    assert nyckeltal["adults"].null_count() == 0


@pytest.mark.e2e
def test_value_is_count_per_10000_adults_where_shown(nyckeltal):
    shown = nyckeltal.filter(pl.col("count").is_not_null())
    assert shown.height > 0
    for count, adults, value in shown.select("count", "adults", "value").iter_rows():
        assert value == round(count / adults * PER_ADULTS, 2), (count, adults, value)
    assert (nyckeltal["count"].is_null() == nyckeltal["value"].is_null()).all()


@pytest.mark.e2e
def test_no_small_count_is_visible(nyckeltal):
    small = nyckeltal.filter(pl.col("count").is_between(1, THRESHOLD - 1))
    assert small.height == 0, small
    assert nyckeltal["count"].null_count() > 0  # the demo has small units: something is hidden


@pytest.mark.e2e
def test_one_units_totals_equal_a_count_by_hand(pipeline_run, nyckeltal):
    derived = pl.read_parquet(pipeline_run.interim / "cases_derived.parquet")
    unit, year = "Stockholm", 2023
    of_unit = derived.filter(pl.col("unit") == unit)
    opened = of_unit.filter(pl.col("opened").dt.year() == year)
    with_intervention = opened.filter(pl.col("interventions").list.len() > 0)
    goal = of_unit.filter(
        (pl.col("closed").dt.year() == year)
        & (pl.col("interventions").list.len() > 0)
        & pl.col("goal_followup").is_in([1, 2])
        & (pl.col("closing_reason") == 1)
    )
    by_hand = {"SUKF01": opened.height, "SUKF02": with_intervention.height, "SUKF03": goal.height}
    assert all(n >= THRESHOLD for n in by_hand.values()), by_hand  # none hidden for being small
    totals = nyckeltal.filter((pl.col("unit") == unit) & (pl.col("period") == year) & (pl.col("gender") == "T"))
    published = dict(totals.select("kpi", "count").iter_rows())
    assert sorted(published) == sorted(by_hand)
    # a count of 5 or more may still be hidden to protect another unit's; what is shown is exact
    shown = {kpi: n for kpi, n in published.items() if n is not None}
    assert shown and shown == {kpi: by_hand[kpi] for kpi in shown}
    # the adults: Stockholm's (0180) people aged 18+ in 2023, summed from the demo population file
    population = pl.read_csv(kolada.demo_population_path())
    adults = population.filter(
        pl.col("region").str.starts_with("0180 ") & (pl.col("ålder").str.extract(r"^(\d+)").cast(pl.Int32) >= 18)
    )["2023"].sum()
    assert totals["adults"].unique().to_list() == [adults]
    assert totals["municipality"].unique().to_list() == ["0180"]


def _real_exports(tmp_path):
    """The demo exports, no longer marked as demo data: real exports as far as the run knows."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "data-raw", raw)
    (raw / "demodata.yaml").unlink()
    workdir = tmp_path / "work"
    workdir.mkdir()
    return raw, workdir


@pytest.mark.e2e
def test_real_exports_without_a_population_file_build_everything_but_kolada(tmp_path):
    """Only the key is set: the default target plans the national report, tables and
    quality pages, leaves the Kolada key figures out and says once how to get them."""
    from support.workflow import run_snakemake

    raw, workdir = _real_exports(tmp_path)
    done = run_snakemake(workdir, "--dry-run", data_raw=raw, check=False, pseudonym_key="en-lång-hemlig-nyckel")
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert output.count("Kolada-nyckeltalen (per 10 000 vuxna invånare) byggs inte") == 1
    assert "rule render_report" in output and "rule quality" in output and "rule kolada" not in output


@pytest.mark.e2e
def test_real_exports_asked_for_kolada_without_a_population_file_stop_before_any_job(tmp_path):
    """The demo population is made up: asked for the key figures of real exports, the run
    stops when the DAG is built, naming kolada.population and what to do."""
    from support.workflow import run_snakemake

    raw, workdir = _real_exports(tmp_path)
    done = run_snakemake(workdir, "--dry-run", "kolada", data_raw=raw, check=False, pseudonym_key="nyckel")
    assert done.returncode != 0
    message = " ".join((done.stdout + done.stderr).split())
    for words in ("kolada.population", "demodata.yaml", "BE0101N1"):
        assert words in message
    assert not (workdir / "interim").exists()


@pytest.mark.e2e
def test_real_exports_without_a_pseudonymisation_key_stop_once_before_any_job(tmp_path):
    from support.workflow import run_snakemake

    raw, workdir = _real_exports(tmp_path)
    done = run_snakemake(workdir, "--dry-run", data_raw=raw, check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert output.count("Nyckel för pseudonymisering saknas: miljövariabeln KVINNOFRID_PSEUDONYM_KEY") == 1
    assert not (workdir / "interim").exists()
