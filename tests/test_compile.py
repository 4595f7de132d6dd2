"""Tests of compile: units, latest round per unit, vanished cases, case ids."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_clean import PERIOD, key, meta_for, raw_frame

from kvinnofrid.spec import codebook
from kvinnofrid.stages.clean import clean_file
from kvinnofrid.stages.compile import CompileError, assign_units, compile_cases
from kvinnofrid.stages.quality import quality_summary

R1, R2, R3 = dt.date(2022, 6, 1), dt.date(2022, 10, 1), dt.date(2023, 2, 1)


def cleaned_file(file: str, rnd: dt.date, *rows: dict, municipality: str = "Sigtuna", service_type=1):
    rows = rows or ({},)
    raw = raw_frame(*({"municipality": municipality, **r} for r in rows))
    meta = meta_for(raw, file=file, round=rnd, municipality=municipality, service_type=service_type)
    return meta, clean_file(raw, meta, PERIOD, rnd)


def test_latest_round_is_compiled():
    files = [
        cleaned_file("2022-06-01/sigtuna.csv", R1, {"client_key": "a", "sex": "Kvinna"}),
        cleaned_file("2022-10-01/sigtuna.xlsx", R2, {"client_key": "a", "sex": "Man"}, {"client_key": "b"}),
    ]
    cases, _risk, warnings = compile_cases(files, cutoff=R2)
    assert cases["round"].unique().to_list() == [R2]
    assert cases.height == 2
    assert sorted(cases["sex"].to_list()) == [1, 2]
    assert warnings.height == 0
    assert cases.columns == ["unit", "round", "case_id", *codebook.case_schema().names()]
    assert cases.schema["case_id"] == pl.String and cases.schema["round"] == pl.Date


def test_rounds_after_cutoff_are_ignored():
    files = [
        cleaned_file("a/sigtuna.csv", R1, {"client_key": "a"}),
        cleaned_file("b/sigtuna.csv", R2, {"client_key": "a"}, {"client_key": "b"}),
    ]
    cases, _, _ = compile_cases(files, cutoff=dt.date(2022, 9, 30))
    assert cases["round"].to_list() == [R1]


def test_unit_that_skipped_the_last_round_uses_its_earlier_round():
    files = [
        cleaned_file("r1/sigtuna.csv", R1, {"client_key": "a"}),
        cleaned_file("r2/sigtuna.csv", R2, {"client_key": "a"}),
        cleaned_file("r1/habo.csv", R1, {"client_key": "x"}, {"client_key": "y"}, municipality="Håbo"),
    ]
    cases, _, warnings = compile_cases(files, cutoff=R3)
    by_unit = dict(cases.group_by("unit").agg(pl.col("round").first(), pl.len()).select("unit", "round").iter_rows())
    assert by_unit == {"Sigtuna": R2, "Håbo": R1}
    assert cases.filter(pl.col("unit") == "Håbo").height == 2
    assert warnings.height == 0


def test_vanished_case_is_a_warning_without_key():
    files = [
        cleaned_file(
            "2022-06-01/sigtuna.csv",
            R1,
            {"client_key": "a", "opened": "2022-02-01"},
            {"client_key": "gone", "opened": "2022-03-05"},
        ),
        cleaned_file("2022-10-01/sigtuna.csv", R2, {"client_key": "a", "opened": "2022-02-01"}),
    ]
    cases, _, warnings = compile_cases(files, cutoff=R2)
    assert cases.height == 1
    assert warnings.select("unit", "round", "file", "row", "rule", "value").rows() == [
        ("Sigtuna", R2, "2022-06-01/sigtuna.csv", 3, "case_missing_from_later_export", "2022-03-05")
    ]
    text = str(warnings.rows())
    assert key("gone") not in text and "case_id" not in warnings.columns


def test_vanished_case_seen_in_two_earlier_rounds_is_reported_once_from_the_newest():
    files = [
        cleaned_file("r1/s.csv", R1, {"client_key": "gone"}),
        cleaned_file("r2/s.csv", R2, {"client_key": "x"}, {"client_key": "gone"}),
        cleaned_file("r3/s.csv", R3, {"client_key": "x"}),
    ]
    _, _, warnings = compile_cases(files, cutoff=R3)
    assert warnings.select("file", "row", "round").rows() == [("r2/s.csv", 3, R3)]


def test_two_files_of_one_unit_in_one_round_is_an_error_naming_both():
    files = [
        cleaned_file("2022-10-01/sigtuna_a.csv", R2),
        cleaned_file("2022-10-01/sigtuna_b.xlsx", R2, municipality=" sigtuna "),
    ]
    with pytest.raises(CompileError) as err:
        compile_cases(files, cutoff=R2)
    assert "sigtuna_a.csv" in str(err.value) and "sigtuna_b.xlsx" in str(err.value)


def test_municipality_with_several_service_types_gets_the_label():
    files = [
        cleaned_file("r1/a.csv", R1, service_type=1),
        cleaned_file("r1/b.csv", R1, service_type=2),
        cleaned_file("r2/c.csv", R2, service_type="Myndighet"),
        cleaned_file("r1/habo.csv", R1, municipality="Håbo", service_type=3),
        cleaned_file("r1/gbg.csv", R1, municipality="Göteborg, Örgryte-Härlanda", service_type=1),
    ]
    units = assign_units(files)
    got = {r["file"]: (r["unit"], r["unit_slug"]) for r in units.iter_rows(named=True)}
    assert got == {
        "r1/a.csv": ("Sigtuna (Myndighet)", "sigtuna-myndighet"),
        "r1/b.csv": ("Sigtuna (Utförare)", "sigtuna-utforare"),
        "r2/c.csv": ("Sigtuna (Myndighet)", "sigtuna-myndighet"),
        "r1/habo.csv": ("Håbo", "habo"),
        "r1/gbg.csv": ("Göteborg, Örgryte-Härlanda", "goteborg-orgryte-harlanda"),
    }
    cases, _, _ = compile_cases(files, cutoff=R3)
    assert sorted(cases["unit"].unique().to_list()) == [
        "Göteborg, Örgryte-Härlanda",
        "Håbo",
        "Sigtuna (Myndighet)",
        "Sigtuna (Utförare)",
    ]
    # Sigtuna (Myndighet) is compiled from its latest round, r2
    assert cases.filter(pl.col("unit") == "Sigtuna (Myndighet)")["round"].to_list() == [R2]


def test_case_id_is_a_stable_hash_without_the_key():
    files = [cleaned_file("r1/s.csv", R1, {"client_key": "a"}, {"client_key": "b", "opened": "2022-04-01"})]
    cases1, _, _ = compile_cases(files, cutoff=R1)
    cases2, _, _ = compile_cases(list(reversed(files)), cutoff=R1)
    assert_frame_equal(cases1, cases2)
    ids = cases1["case_id"].to_list()
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids) and len(set(ids)) == 2
    assert key("a") not in ids and key("b") not in ids
    # the same client and date in another unit is another case
    other = [cleaned_file("r1/h.csv", R1, {"client_key": "a"}, municipality="Håbo")]
    cases3, _, _ = compile_cases(files + other, cutoff=R1)
    assert cases3["case_id"].n_unique() == 3


def test_cases_are_sorted_deterministically():
    files = [
        cleaned_file(
            "r1/s.csv", R1, {"client_key": "b", "opened": "2022-05-01"}, {"client_key": "a", "opened": "2022-02-01"}
        ),
        cleaned_file("r1/h.csv", R1, {"client_key": "c"}, municipality="Håbo"),
    ]
    cases, _, _ = compile_cases(files, cutoff=R1)
    assert cases.select("unit", "opened").rows() == [
        ("Håbo", dt.date(2022, 3, 5)),
        ("Sigtuna", dt.date(2022, 2, 1)),
        ("Sigtuna", dt.date(2022, 5, 1)),
    ]


def test_risk_table_follows_the_compiled_round():
    files = [
        cleaned_file("r1/s.csv", R1, {"client_key": "a", "risk_1_rating": "3"}),
        cleaned_file("r2/s.csv", R2, {"client_key": "a", "risk_1_rating": "4", "risk_2_instrument": "SAM"}),
    ]
    cases, risk, _ = compile_cases(files, cutoff=R2)
    assert risk.columns == ["unit", "case_id", *codebook.risk_schema().names()]
    assert risk.select("position", "instrument", "rating").rows() == [(1, None, 4), (2, 4, None)]
    assert set(risk["case_id"]) <= set(cases["case_id"])


def test_period_is_asserted():
    files = [cleaned_file("r1/s.csv", R1)]
    with pytest.raises(AssertionError, match="utanför perioden"):
        compile_cases(files, cutoff=R1, period=(dt.date(2022, 6, 1), dt.date(2022, 12, 31)))
    cases, _, _ = compile_cases(files, cutoff=R1, period=PERIOD)
    assert cases.height == 1


def test_file_without_municipality_is_an_error():
    meta, result = cleaned_file("r1/s.csv", R1)
    meta = {**meta, "municipality": None}
    result.used = result.used.with_columns(pl.lit(None, pl.String).alias("municipality"))
    with pytest.raises(CompileError, match="Kommun/stadsdel"):
        compile_cases([(meta, result)], cutoff=R1)


def test_no_files_gives_empty_frames():
    cases, risk, warnings = compile_cases([], cutoff=R1)
    assert cases.height == risk.height == warnings.height == 0
    assert "case_id" in cases.columns


def test_habo_and_haabo_are_two_units_with_two_slugs():
    files = [
        cleaned_file("r1/habo.csv", R1, {"client_key": "a"}, municipality="Habo"),
        cleaned_file("r1/haabo.csv", R1, {"client_key": "a"}, {"client_key": "b"}, municipality="Håbo"),
        cleaned_file("r2/haabo.csv", R2, {"client_key": "a"}, {"client_key": "b"}, municipality=" HÅBO "),
    ]
    units = assign_units(files)
    got = {r["file"]: (r["unit"], r["unit_slug"]) for r in units.iter_rows(named=True)}
    assert got == {
        "r1/habo.csv": ("Habo", "habo"),
        "r1/haabo.csv": ("Håbo", "haabo"),
        "r2/haabo.csv": ("Håbo", "haabo"),
    }  # display: the spelling of the latest file
    cases, _, _ = compile_cases(files, cutoff=R2)
    assert cases.group_by("unit").len().sort("unit").rows() == [("Habo", 1), ("Håbo", 2)]


def test_a_unit_that_writes_its_name_differently_between_rounds_stays_one_unit():
    files = [
        cleaned_file("r1/s.csv", R1, {"client_key": "a"}, municipality="Sigtuna"),
        cleaned_file("r2/s.csv", R2, {"client_key": "a"}, {"client_key": "b"}, municipality="Sigtuna kommun"),
        cleaned_file("r2/e.csv", R2, {"client_key": "a"}, municipality="Enskede-Årsta-Vantör"),
    ]
    units = assign_units(files, districts={"Enskede-Årsta-Vantör": "Stockholm"})
    assert sorted(set(units["unit"])) == ["Enskede-Årsta-Vantör", "Sigtuna"]
    cases, _, warnings = compile_cases(files, cutoff=R2, districts={"Enskede-Årsta-Vantör": "Stockholm"})
    assert cases.group_by("unit").len().sort("unit").rows() == [("Enskede-Årsta-Vantör", 1), ("Sigtuna", 2)]
    # the case of round 1 is in round 2: nothing vanished, nothing doubled; the old spelling is told
    assert warnings.select("unit", "round", "file", "column", "rule").rows() == [
        ("Sigtuna", R1, "r1/s.csv", "Kommun/stadsdel (2)", "unit_name_changed")
    ]


def test_a_municipality_missing_from_the_register_is_a_warning_and_its_cases_are_kept():
    files = [cleaned_file("r1/x.csv", R1, {"client_key": "a"}, municipality="Ankeborg")]
    cases, _, warnings = compile_cases(files, cutoff=R1)
    assert cases["unit"].to_list() == ["Ankeborg"]
    assert warnings.select("unit", "file", "row", "rule", "value").rows() == [
        ("Ankeborg", "r1/x.csv", None, "municipality_not_in_register", "Ankeborg")
    ]


def test_a_file_whose_rows_name_two_units_is_split_by_the_rows_own_values():
    rows = [
        {"client_key": "a", "municipality": "Håbo"},
        {"client_key": "b", "municipality": "Habo"},
        {"client_key": "c", "municipality": "håbo "},
        {"client_key": "e", "municipality": "Håbo"},
        {"client_key": "d", "municipality": None},
        {"client_key": None, "municipality": "Habo"},
    ]  # quarantined, counted for Habo
    raw = raw_frame(*rows)
    meta = meta_for(raw, file="r1/blandat.csv", round=R1, municipality="Håbo", service_type=1)
    files = [(meta, clean_file(raw, meta, PERIOD, R1))]
    units = assign_units(files)
    assert units.select("part", "unit", "unit_slug").rows() == [(2, "Habo", "habo"), (1, "Håbo", "haabo")]
    cases, _, warnings = compile_cases(files, cutoff=R1)
    # a row without Kommun/stadsdel belongs to the file's most common unit
    assert cases.group_by("unit").len().sort("unit").rows() == [("Habo", 1), ("Håbo", 4)]
    assert warnings.filter(pl.col("rule") == "file_holds_several_units").select("unit", "file").sort("unit").rows() == [
        ("Habo", "r1/blandat.csv"),
        ("Håbo", "r1/blandat.csv"),
    ]
    summary = quality_summary(files, warnings, units=units)
    assert summary.select("unit", "rows_read", "rows_used", "rows_quarantined").sort("unit").rows() == [
        ("Habo", 2, 1, 1),
        ("Håbo", 4, 4, 0),
    ]


def test_one_municipality_with_two_verksamhet_codes_in_one_file_is_two_units():
    rows = [
        {"client_key": "a", "service_type": "Myndighet"},
        {"client_key": "b", "service_type": "2"},
        {"client_key": "c", "service_type": "1"},
    ]
    raw = raw_frame(*rows)
    meta = meta_for(raw, file="r1/sigtuna.csv", round=R1, municipality="Sigtuna", service_type=1)
    files = [(meta, clean_file(raw, meta, PERIOD, R1))]
    cases, _, _ = compile_cases(files, cutoff=R1)
    assert cases.group_by("unit").len().sort("unit").rows() == [("Sigtuna (Myndighet)", 2), ("Sigtuna (Utförare)", 1)]
