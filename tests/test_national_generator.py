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
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.spec.municipalities import load_register

# The population of all 290 municipalities is checked without writing files (fast);
# the files of a 40-unit set, whose first units carry the coverage profiles.
SETTINGS = national.NationalSettings(units=290, cases=3000, rounds=2, seed=11)
FILES = national.NationalSettings(units=16, cases=1500, rounds=2, seed=11)


@pytest.fixture(scope="module")
def population():
    units, snapshots = national.national_rounds(SETTINGS)
    cases, risk = national_writer.truth_frames(units, snapshots)
    return units, snapshots, cases, risk


@pytest.fixture(scope="module")
def national_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    summary = national_writer.generate(FILES, root / "raw", root / "truth", workers=2)
    return root / "raw", root / "truth", summary


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    # (worker processes do not change the bytes either: the files are written
    # independently from their own inputs; checked on a 50 000-case set)
    small = national.NationalSettings(units=8, cases=300, rounds=3, seed=5)
    national_writer.generate(small, tmp_path / "a", tmp_path / "ta", workers=1)
    national_writer.generate(small, tmp_path / "b", tmp_path / "tb", workers=1)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "ta") == _digest(tmp_path / "tb")
    assert len(_digest(tmp_path / "a")) > 8
    other = national.national_rounds(national.NationalSettings(units=8, cases=300, rounds=3, seed=6))[1][-1]
    assert not other.cases.drop("case_no").equals(national.national_rounds(small)[1][-1].cases.drop("case_no"))


def test_every_municipality_of_the_register_has_a_unit_and_a_few_have_two(population):
    units, _, cases, _ = population
    register = set(load_register()["kommun"].to_list())
    assert set(units["kommun"].to_list()) == register
    two = units.group_by("kommun").len().filter(pl.col("len") == 2)
    assert 2 <= two.height <= 20
    # the two units of a municipality differ in Verksamhet, so compile keeps them apart
    both = units.filter(pl.col("kommun").is_in(two["kommun"].implode()))
    assert both.group_by("kommun").agg(pl.col("service_type").n_unique())["service_type"].min() == 2
    assert cases.height == SETTINGS.cases
    assert set(cases["unit"].to_list()) == set(units["unit"].to_list())


def test_sizes_are_heavy_tailed(population):
    sizes = population[2].group_by("unit").len()["len"].sort(descending=True)
    top_tenth = sizes.head(len(sizes) // 10).sum() / sizes.sum()
    assert top_tenth > 0.35  # a few large units hold much of the cases
    assert sizes.max() > 15 * sizes.median()
    assert (sizes <= sizes.median()).sum() >= len(sizes) // 2


def test_every_variant_of_the_contract_and_every_defect_kind_is_present(national_set):
    raw, truth, _ = national_set
    manifest = pl.read_parquet(truth / "manifest.parquet")
    for column, values in {
        "container": ("xlsx", "csv"),
        "header_style": ew.HEADER_STYLES,
        "multi_layout": ew.MULTI_LAYOUTS,
        "value_style": ew.VALUE_STYLES,
        "date_style": ew.DATE_STYLES,
        "chosen_mark": ew.CHOSEN_MARKS,
        "encoding": ("cp1252", "utf-8", "utf-8-sig"),
        "delimiter": (";", ",", "\t"),
        "title_rows": tuple(range(6)),
        "column_order": ("standard", "shuffled"),
    }.items():
        assert set(values) <= set(manifest[column].drop_nulls().to_list()), column
    assert manifest.filter(pl.col("sheet_index") > 0).height and manifest["local_variable"].any()
    defects = pl.read_parquet(truth / "defects.parquet")
    assert set(ew.ROW_DEFECTS + ew.FIELD_DEFECTS) <= set(defects["rule"].to_list())
    files = {p.relative_to(raw).as_posix() for p in raw.rglob("*.*") if p.name != ew.MARKER_FILE}
    assert files == set(manifest["file"].to_list())
    assert (raw / ew.MARKER_FILE).read_text(encoding="utf-8").count("demo: true") == 1


def test_rounds_are_cumulative_and_some_units_skip_one(population):
    units, (first, final), cases, _ = population
    assert first.units.height < units.height and final.units.height < units.height  # units skip rounds
    key = ["unit", "client", "opened"]
    both = first.cases.filter(pl.col("unit").is_in(final.units["unit"].implode()))
    kept = both.join(final.cases, on=key, how="semi")
    deleted = both.join(final.cases, on=key, how="anti")
    assert 0 < deleted.height < 0.01 * both.height  # a few cases vanish before the next export
    assert deleted["client"].str.starts_with("D").all()  # and they are exactly the planted ones
    updated = kept.join(final.cases, on=key, suffix="_final").filter(
        pl.col("closed").is_null() & pl.col("closed_final").is_not_null()
    )
    assert updated.height > 0  # an open case is closed in the later round
    assert cases.group_by("unit").agg(pl.col("round").n_unique())["round"].max() == 1
    assert cases["round"].n_unique() == 2  # a unit that skipped the final round is compiled from the earlier


def test_the_truth_gives_all_tables_and_its_cases_are_valid(national_set):
    _, truth, summary = national_set
    built = national_writer.tables_from_truth(truth)
    assert sorted(built) == load_registry().numbers and all(t.height for t in built.values())
    cases = pl.read_parquet(truth / "cases.parquet")
    assert cases["case_id"].n_unique() == cases.height == FILES.cases == summary["cases"]
    assert cases.filter(pl.col("opened") < FILES.period_start).height == 0
    assert cases.filter(pl.col("closed") < pl.col("opened")).height == 0
    assert cases.filter(pl.col("closed") > pl.col("round")).height == 0


def test_field_defects_are_logged_with_the_value_written(national_set):
    _raw, truth, _ = national_set
    defects = pl.read_parquet(truth / "defects.parquet").filter(pl.col("variable").is_not_null())
    assert defects.height > 0 and defects["value"].null_count() == 0
    singles = defects.filter(pl.col("rule") == "unknown_value")
    assert singles["variable"].n_unique() >= 3
