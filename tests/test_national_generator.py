"""Quick tests of the national-scale demo generator (kvinnofrid.demo.national and
national_writer): every municipality, heavy-tailed sizes, every contract variant and
defect kind, cumulative rounds, determinism, and a truth that matches the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from kvinnofrid.demo import export_writer as ew
from kvinnofrid.demo import national, national_writer
from kvinnofrid.spec.municipalities import load_register

SETTINGS = national.NationalSettings(units=290, cases=3000, rounds=2, seed=11)


@pytest.fixture(scope="module")
def national_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    summary = national_writer.generate(SETTINGS, root / "raw", root / "truth", workers=2)
    return root / "raw", root / "truth", summary


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    small = national.NationalSettings(units=15, cases=400, rounds=3, seed=5)
    national_writer.generate(small, tmp_path / "a", tmp_path / "ta", workers=1)
    national_writer.generate(small, tmp_path / "b", tmp_path / "tb", workers=2)
    national_writer.generate(national.NationalSettings(units=15, cases=400, rounds=3, seed=6),
                             tmp_path / "c", None, workers=1)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "ta") == _digest(tmp_path / "tb")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_every_municipality_of_the_register_has_a_unit_and_a_few_have_two(national_set):
    _, truth, summary = national_set
    units = pl.read_csv(truth / "units.csv")
    register = set(load_register()["kommun"].to_list())
    assert set(units["kommun"].to_list()) == register
    two = units.group_by("kommun").len().filter(pl.col("len") == 2)
    assert 2 <= two.height <= 20
    # the two units of a municipality differ in Verksamhet, so compile keeps them apart
    both = units.filter(pl.col("kommun").is_in(two["kommun"].implode()))
    assert both.group_by("kommun").agg(pl.col("service_type").n_unique())["service_type"].min() == 2
    assert summary["cases"] == SETTINGS.cases


def test_sizes_are_heavy_tailed(national_set):
    _, truth, _ = national_set
    sizes = pl.read_parquet(truth / "cases.parquet").group_by("unit").len()["len"].sort(descending=True)
    top_tenth = sizes.head(len(sizes) // 10).sum() / sizes.sum()
    assert top_tenth > 0.35                      # a few large units hold much of the cases
    assert sizes.max() > 15 * sizes.median()
    assert (sizes <= sizes.median()).sum() >= len(sizes) // 2


def test_every_variant_of_the_contract_and_every_defect_kind_is_present(national_set):
    raw, truth, _ = national_set
    manifest = pl.read_parquet(truth / "manifest.parquet")
    for column, values in {
        "container": ("xlsx", "csv"), "header_style": ew.HEADER_STYLES, "multi_layout": ew.MULTI_LAYOUTS,
        "value_style": ew.VALUE_STYLES, "date_style": ew.DATE_STYLES, "chosen_mark": ew.CHOSEN_MARKS,
        "encoding": ("cp1252", "utf-8", "utf-8-sig"), "delimiter": (";", ",", "\t"),
        "title_rows": tuple(range(6)), "column_order": ("standard", "shuffled"),
    }.items():
        assert set(values) <= set(manifest[column].drop_nulls().to_list()), column
    assert manifest.filter(pl.col("sheet_index") > 0).height and manifest["local_variable"].any()
    defects = pl.read_parquet(truth / "defects.parquet")
    assert set(ew.ROW_DEFECTS + ew.FIELD_DEFECTS) <= set(defects["rule"].to_list())
    files = {p.relative_to(raw).as_posix() for p in raw.rglob("*.*") if p.name != ew.MARKER_FILE}
    assert files == set(manifest["file"].to_list())
    assert (raw / ew.MARKER_FILE).read_text(encoding="utf-8").count("demo: true") == 1


def test_rounds_are_cumulative_and_some_units_skip_one(national_set):
    _, truth, _ = national_set
    manifest = pl.read_parquet(truth / "manifest.parquet")
    per_unit = manifest.group_by("unit").agg(pl.col("round").n_unique(), pl.col("rows_written").sort_by("round"))
    assert per_unit.filter(pl.col("round") == 1).height >= 1        # a unit skipped a round
    both = per_unit.filter(pl.col("round") == 2)
    grew = both.filter(pl.col("rows_written").list.last() >= pl.col("rows_written").list.first())
    assert grew.height >= 0.9 * both.height                          # later rounds hold the earlier cases
    cases = pl.read_parquet(truth / "cases.parquet")
    assert cases.group_by("unit").agg(pl.col("round").n_unique())["round"].max() == 1
    assert cases["round"].n_unique() == 2    # a unit that skipped the final round is compiled from the earlier


def test_the_truth_gives_all_tables_and_field_defects_sit_on_missing_values(national_set):
    _, truth, _ = national_set
    built = national_writer.tables_from_truth(truth)
    assert len(built) == 27 and all(t.height for t in built.values())
    cases = pl.read_parquet(truth / "cases.parquet")
    assert cases["case_id"].n_unique() == cases.height == SETTINGS.cases
    assert cases.filter(pl.col("opened") < SETTINGS.period_start).height == 0
