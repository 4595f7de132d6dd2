"""comparison: published values mapped to table rows, on hand-made tables, and the
script on a folder of CSV files."""

from __future__ import annotations

import math

import polars as pl
import pytest

from kvinnofrid.demo import comparison
from kvinnofrid.demo.comparison import ComparisonError, compare_tables
from kvinnofrid.statistics.tables import TABLE_SCHEMA, write_tables


def table(rows: list[tuple]) -> pl.DataFrame:
    """(group, category, n, denominator[, mean]) rows -> a table with the contract's
    columns; share = n / denominator unless a mean is given."""
    out = []
    for r in rows:
        group, category, n, den = r[:4]
        mean = r[4] if len(r) > 4 else None
        share = None if mean is not None or den == 0 else n / den
        out.append(
            {
                "group": group,
                "category": category,
                "n": n,
                "denominator": den,
                "share": share,
                "ci_low": None,
                "ci_high": None,
                "mean": mean,
                "suppressed": False,
            }
        )
    return pl.DataFrame(out, schema=TABLE_SCHEMA)


TABLES = {
    1: table([(None, "Aktualiserade", 10, 10), (None, "Fått insats", 8, 10), (None, "Avslutade", 6, 10)]),
    2: table([(None, "Kvinna", 9, 10), (None, "Man", 1, 10)]),
    10: table([(None, "Genomsnitt", 8, 8, 2.25)]),
    16: table([(None, "1–90", 6, 10), (None, "91–180", 3, 10), (None, "721–", 1, 10)]).with_columns(
        pl.lit(None, pl.Float64).alias("share")
    ),
    21: table([("HRV", "18–24", 3, 4), ("HRV", "25–34", 1, 4), ("Ej HRV", "18–24", 1, 5), ("Ej HRV", "25–34", 4, 5)]),
}


def reference(entries: list[dict]) -> pl.DataFrame:
    rows = [{"relation": "eq", "compare_as": None, "expected_deviation": None, "tolerance": 1.0, **e} for e in entries]
    return pl.DataFrame(
        rows,
        schema={
            "diagram": pl.String,
            "category": pl.String,
            "kind": pl.String,
            "published": pl.Float64,
            "tolerance": pl.Float64,
            "relation": pl.String,
            "compare_as": pl.String,
            "expected_deviation": pl.String,
        },
    )


REFERENCE = reference(
    [
        {"diagram": "2", "category": "Kvinna", "kind": "share", "published": 90},
        {"diagram": "2", "category": "Man", "kind": "count", "published": 3},
        {"diagram": "2", "category": "N", "kind": "denominator", "published": 10},
        {"diagram": "1", "category": "Fått insats", "kind": "count", "published": 8},
        {"diagram": "1", "category": "Ej fått insats", "kind": "count", "published": 2},
        {"diagram": "1", "category": "Ej avslutade", "kind": "count", "published": 4},
        {"diagram": "10", "category": "Genomsnitt", "kind": "mean", "published": 2.2, "tolerance": 0.1},
        {"diagram": "21", "category": "HRV: 18–24", "kind": "share", "published": 75},
        {"diagram": "21", "category": "Ej HRV: N", "kind": "denominator", "published": 5},
        {"diagram": "21", "category": "N", "kind": "denominator", "published": 9},
        {
            "diagram": "21",
            "category": "HRV minus Ej HRV: 18–24",
            "kind": "difference",
            "published": 0,
            "relation": "gt",
        },
        {"diagram": "16", "category": "1–90", "kind": "count", "published": 50, "compare_as": "share_of_printed"},
        {"diagram": "16", "category": "91–180", "kind": "count", "published": 50, "compare_as": "share_of_printed"},
        {"diagram": "16", "category": "N", "kind": "denominator", "published": 99, "expected_deviation": "väntad"},
        {"diagram": "9", "category": "Andel av alla ärenden med minst en insats", "kind": "share", "published": 80},
        {"diagram": "7", "category": "HRV: Mycket grovt", "kind": "share", "published": 37},  # OUTSIDE_TABLES
        {"diagram": "text", "category": "Något ur texten", "kind": "share", "published": 1},  # not a diagram
    ]
)


@pytest.fixture(scope="module")
def compared() -> pl.DataFrame:
    return compare_tables(TABLES, REFERENCE)


def generated(compared: pl.DataFrame, diagram: str, measure: str) -> float:
    return compared.filter((pl.col("diagram") == diagram) & (pl.col("measure") == measure))["generated"].item()


def test_columns_and_entries(compared):
    assert compared.columns[:7] == ["diagram", "measure", "published", "generated", "tolerance", "within", "note"]
    # the diagram 7 entry outside the tables and the text entry are left to the calibration
    assert compared.height == REFERENCE.height - 2
    assert "HRV: Mycket grovt" not in compared["measure"].to_list()


def test_share_count_mean_and_denominators(compared):
    assert generated(compared, "2", "Kvinna") == pytest.approx(90.0)
    assert generated(compared, "2", "Man [count]") == 1
    assert generated(compared, "2", "N [denominator]") == 10
    assert generated(compared, "10", "Genomsnitt [mean]") == pytest.approx(2.25)
    assert generated(compared, "21", "HRV: 18–24") == pytest.approx(75.0)
    assert generated(compared, "21", "Ej HRV: N [denominator]") == 5
    assert generated(compared, "21", "N [denominator]") == 9  # grouped: the groups' N summed


def test_not_x_rows_of_diagram_1(compared):
    assert generated(compared, "1", "Fått insats [count]") == 8
    assert generated(compared, "1", "Ej fått insats [count]") == 2
    assert generated(compared, "1", "Ej avslutade [count]") == 4


def test_difference_composite_and_within(compared):
    assert generated(compared, "21", "HRV minus Ej HRV: 18–24 [difference]") == pytest.approx(55.0)
    assert generated(compared, "9", "Andel av alla ärenden med minst en insats") == pytest.approx(80.0)
    within = {(d, m): w for d, m, w in compared.select("diagram", "measure", "within").iter_rows()}
    assert within[("2", "Kvinna")] is True
    assert within[("2", "Man [count]")] is False  # 1 vs 3 ± 1
    assert within[("21", "HRV minus Ej HRV: 18–24 [difference]")] is True  # relation gt 0
    assert within[("21", "N [denominator]")] is True


def test_share_of_printed(compared):
    # published 50 and 50 -> 50 % each; generated 6 and 3 of the printed 9 (721– is not printed)
    rows = compared.filter(pl.col("diagram") == "16")
    first = rows.filter(pl.col("measure") == "1–90 [share_of_printed]").row(0, named=True)
    assert first["published"] == pytest.approx(50.0)
    assert first["generated"] == pytest.approx(66.667, abs=1e-3)
    assert first["within"] is False
    deviation = rows.filter(pl.col("measure") == "N [denominator]").row(0, named=True)
    assert deviation["within"] is None and deviation["note"] == "väntad"


@pytest.mark.parametrize(
    "entry, text",
    [
        ({"diagram": "2", "category": "Okänd", "kind": "share", "published": 1}, "Okänd"),
        ({"diagram": "21", "category": "Kvinna: 18–24", "kind": "share", "published": 1}, "Kvinna"),
        ({"diagram": "2", "category": "Ej Kvinna", "kind": "share", "published": 1}, "Ej Kvinna"),
        ({"diagram": "5", "category": "Ja", "kind": "share", "published": 1}, "diagram 5"),
    ],
)
def test_unmappable_entry_raises_naming_it(entry, text):
    with pytest.raises(ComparisonError, match=text):
        compare_tables(TABLES, reference([entry]))


def test_missing_share_is_not_within():
    tables = {2: table([(None, "Kvinna", 0, 0), (None, "Man", 0, 0)])}
    out = compare_tables(tables, reference([{"diagram": "2", "category": "Kvinna", "kind": "share", "published": 0}]))
    assert math.isnan(out["generated"].item()) and out["within"].item() is False


# ---------------------------------------------------------------- the script


def test_main_prints_summary(tmp_path, monkeypatch, capsys):
    ref = REFERENCE.filter(pl.col("diagram").is_in(["1", "2", "21"]))
    monkeypatch.setattr(comparison, "reference_values", lambda: ref)
    write_tables({k: TABLES[k] for k in (1, 2, 21)}, tmp_path)
    (tmp_path / "diagram_02.csv").unlink()  # the parquet file is read instead
    assert comparison.main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:6] == ["diagram", "measure", "published", "generated", "tolerance", "ok"]
    assert lines[-1] == f"{ref.height - 1} av {ref.height} inom tolerans"  # Man [count] is off


def test_main_missing_files(tmp_path, capsys):
    assert comparison.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Tabellfiler saknas" in err and "diagram_01.csv" in err
    assert comparison.main([str(tmp_path / "finns-inte")]) == 2
    assert "Hittar inte mappen" in capsys.readouterr().err
