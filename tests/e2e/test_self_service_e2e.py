"""Self-service: one municipality with only its own exports and the national bundle
gets its internal comparison report and its quality page, with exactly the numbers the
national run computed for it, and without any other unit's data (real Snakemake runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.paths import ROOT
from support.workflow import run_snakemake

pytestmark = pytest.mark.e2e

UNIT = "Arboga"
FILE = "vald_arboga.csv"
KEYS = ["table", "area", "group", "category"]


@pytest.fixture(scope="module")
def national(pipeline_run):
    """The national demo run with its bundle (default target) and the units' internal tables."""
    run_snakemake(pipeline_run.workdir, "--", "interim/kommuner/tables_intern.parquet")
    return pipeline_run


@pytest.fixture(scope="module")
def own_run(national, tmp_path_factory):
    """A clean folder holding one unit's exports (both rounds) and a copy of the bundle."""
    folder = tmp_path_factory.mktemp("egen")
    exports = folder / "exporter"
    for round_folder in sorted((ROOT / "data-raw").glob("20*")):
        (exports / round_folder.name).mkdir(parents=True)
        shutil.copy(round_folder / FILE, exports / round_folder.name / FILE)
    shutil.copy(ROOT / "data-raw" / "demodata.yaml", exports / "demodata.yaml")
    shutil.copytree(national.results / "nationellt", folder / "nationellt")
    env = {k: v for k, v in os.environ.items() if k != "KVINNOFRID_PSEUDONYM_KEY"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kvinnofrid.cli",
            "egen-rapport",
            "--exporter",
            str(exports),
            "--nationellt",
            str(folder / "nationellt"),
            "--ut",
            str(folder / "körning"),
            "--cores",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return folder / "körning", done


def _rows(path: Path, area: str) -> pl.DataFrame:
    return pl.read_parquet(path).filter(pl.col("area") == area).sort(KEYS, nulls_last=True)


def test_the_report_and_the_quality_page_are_built(own_run):
    work, done = own_run
    slug = "arboga"
    for ext in ("html", "pdf"):
        assert (work / "results" / "kommuner" / "intern" / f"{slug}.{ext}").stat().st_size > 0
    assert (work / "results" / "quality" / f"{slug}.html").is_file()
    assert not list((work / "results" / "kommuner").glob("*.pdf"))  # no published edition
    assert "Klart" in done.stdout


def test_the_units_numbers_equal_the_national_runs(national, own_run):
    work, _ = own_run
    for area in (UNIT, "Riket", "Under 15 000 invånare"):
        ours = _rows(work / "interim" / "kommuner" / "tables_intern.parquet", area)
        assert ours.height > 0
        assert_frame_equal(ours, _rows(national.interim / "kommuner" / "tables_intern.parquet", area))
    by = ["measure", "round"]
    assert_frame_equal(
        pl.read_parquet(work / "interim" / "kommuner" / "trend_intern.parquet").sort(by),
        pl.read_parquet(national.interim / "kommuner" / "trend_intern.parquet").filter(pl.col("area") == UNIT).sort(by),
    )


def test_no_other_units_data_is_used_or_shipped(national, own_run):
    work, _ = own_run
    assert pl.read_csv(work / "interim" / "units.csv")["unit"].unique().to_list() == [UNIT]
    areas = json.loads((work / "interim" / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    assert [a["name"] for a in areas if a["kind"] == "enhet"] == [UNIT]
    others = set(pl.read_csv(national.interim / "units.csv")["unit"].to_list()) - {UNIT}
    bundle_text = "\n".join(p.read_text(encoding="utf-8") for p in (national.results / "nationellt").rglob("*.json"))
    assert not [u for u in others if f'"{u}"' in bundle_text]
    assert set(pl.read_parquet(national.results / "nationellt" / "jamforelse.parquet")["area_kind"]) <= {
        "riket",
        "storleksklass",
    }


def test_an_altered_bundle_stops_with_a_message(own_run, tmp_path):
    work, _ = own_run
    bundle = tmp_path / "nationellt"
    shutil.copytree(work.parent / "nationellt", bundle)
    (bundle / "facts.json").write_text("{}", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kvinnofrid.cli",
            "egen-rapport",
            "--exporter",
            str(work.parent / "exporter"),
            "--nationellt",
            str(bundle),
            "--ut",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "facts.json stämmer inte med manifestet" in done.stderr
    assert "Traceback" not in done.stderr
