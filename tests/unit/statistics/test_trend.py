"""Key shares per round: the same numbers as the national tables, the previous
report's values from the caller, interim vs final."""

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.cases import synthetic
from support.raw_rows import cleaned_file

from kvinnofrid.stages.compile import assign_units, compile_at_round, compile_cases, round_period
from kvinnofrid.stages.derive import derive_cases
from kvinnofrid.statistics import trend
from kvinnofrid.statistics.tables import build_table, wilson_interval

INTERIM, FINAL = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
PREVIOUS = {"share_women": 0.91, "share_hrv": 0.15, "share_risk_assessed": 0.75, "share_survey_improved": 0.78}


@pytest.fixture(scope="module")
def rounds():
    cases, risk = synthetic(seed=11, n=400)
    final = derive_cases(cases, risk)
    interim = derive_cases(cases.filter(pl.col("opened") <= INTERIM), risk)
    return {FINAL: final, INTERIM: interim}  # given out of order on purpose


@pytest.fixture(scope="module")
def result(rounds):
    return trend.round_trend(rounds, PREVIOUS, previous_label="Tidigare rapport 2019–2020")


def test_columns_and_rows(result):
    assert result.schema == trend.TREND_SCHEMA
    assert result.height == 4 * 3
    first = result.filter(pl.col("measure") == "share_women")
    assert first["source"].to_list() == [
        "Tidigare rapport 2019–2020",
        "Preliminär sammanställning",
        "Slutlig sammanställning",
    ]
    assert first["round"].to_list() == [None, INTERIM, FINAL]
    assert first["share"][0] == 0.91 and first["n"][0] is None


@pytest.mark.parametrize(
    "measure, diagram, category",
    [
        ("share_women", 2, "Kvinna"),
        ("share_hrv", 5, "Ja"),
        ("share_risk_assessed", 26, "Ja"),
    ],
)
def test_shares_equal_the_national_tables(rounds, result, measure, diagram, category):
    for round_date, derived in rounds.items():
        table = build_table(diagram, derived).filter(pl.col("category") == category)
        row = result.filter((pl.col("measure") == measure) & (pl.col("round") == round_date))
        assert row.select("n", "denominator", "share", "ci_low", "ci_high").row(0) == table.select(
            "n", "denominator", "share", "ci_low", "ci_high"
        ).row(0)


def test_two_category_measure_sums_the_table_rows(rounds, result):
    for round_date, derived in rounds.items():
        table = build_table(18, derived)
        improved = table.filter(pl.col("category").is_in(["Förbättrats mycket", "Förbättrats lite"]))
        n, d = int(improved["n"].sum()), int(table["denominator"][0])
        row = result.filter((pl.col("measure") == "share_survey_improved") & (pl.col("round") == round_date))
        low, high = wilson_interval([n], [d])
        assert row.select("n", "denominator").row(0) == (n, d)
        assert row["share"].item() == pytest.approx(n / d)
        assert row["ci_low"].item() == pytest.approx(low[0]) and row["ci_high"].item() == pytest.approx(high[0])


def test_previous_values_and_labels_come_from_the_caller(rounds):
    out = trend.round_trend(
        {FINAL: rounds[FINAL]},
        {"share_hrv": 0.2},
        previous_label="Förra omgången",
        measures=[trend.DEFAULT_MEASURES[1]],
        sources={"final": "Slutlig"},
    )
    assert out["source"].to_list() == ["Förra omgången", "Slutlig"]
    assert out["share"][0] == 0.2
    with pytest.raises(ValueError, match="okända mått"):
        trend.round_trend({FINAL: rounds[FINAL]}, {"nope": 0.5})
    with pytest.raises(ValueError, match="finns inte"):
        trend.round_trend(
            {FINAL: rounds[FINAL]}, {}, measures=[{"id": "x", "label": "x", "diagram": 2, "categories": ["Okänd"]}]
        )


def test_prebuilt_tables_are_used(rounds):
    tables = {FINAL: {2: build_table(2, rounds[FINAL])}}
    out = trend.round_trend({FINAL: rounds[FINAL]}, {}, measures=[trend.DEFAULT_MEASURES[0]], tables_by_round=tables)
    assert out["share"].item() == tables[FINAL][2].filter(pl.col("category") == "Kvinna")["share"].item()


def test_round_cases_counts_cases_and_units_per_round(rounds):
    out = trend.round_cases(rounds)
    assert out.schema == trend.ROUNDS_SCHEMA
    assert out["round"].to_list() == [INTERIM, FINAL]
    assert out["source"].to_list() == ["Preliminär sammanställning", "Slutlig sammanställning"]
    assert out["cases"].to_list() == [rounds[INTERIM].height, rounds[FINAL].height]
    assert out["units"].to_list() == [rounds[INTERIM]["unit"].n_unique(), rounds[FINAL]["unit"].n_unique()]


def test_trend_settings_defaults_and_checks():
    default = trend.trend_settings(None)
    assert [m["id"] for m in default["measures"]] == [m["id"] for m in trend.DEFAULT_MEASURES]
    assert default["previous"] == {} and default["previous_label"] is None
    assert [m["categories"] for m in default["measures"]] == [
        ["Kvinna"],
        ["Ja"],
        ["Ja"],
        ["Förbättrats mycket", "Förbättrats lite"],
    ]
    with pytest.raises(ValueError, match=r"trend\.previous_label saknas"):
        trend.trend_settings({"previous": {"share_hrv": 0.15}})
    given = trend.trend_settings({"previous_label": "Förra", "previous": {"share_hrv": 0.15}})
    assert given["previous"] == {"share_hrv": 0.15} and given["previous_label"] == "Förra"
    with pytest.raises(ValueError, match=r"trend\.previous: share_men är inget mått"):
        trend.trend_settings({"previous": {"share_men": 0.06}})
    twice = [trend.DEFAULT_MEASURES[0], trend.DEFAULT_MEASURES[0]]
    with pytest.raises(ValueError, match="share_women förekommer mer än en gång"):
        trend.trend_settings({"measures": twice})


# ---------------------------------------------------------------- compiling at a round


def test_compile_at_round_is_the_compilation_as_it_stood_then():
    """Sigtuna sends in both rounds (a case added in the second), Håbo only in the
    second: at the first round only Sigtuna's first export counts."""
    r1, r2 = dt.date(2022, 6, 1), dt.date(2022, 10, 1)
    files = [
        cleaned_file("r1/sigtuna.csv", r1, {"client_key": "a", "risk_1_rating": "3"}),
        cleaned_file(
            "r2/sigtuna.csv", r2, {"client_key": "a", "risk_1_rating": "4"}, {"client_key": "b", "opened": "2022-07-01"}
        ),
        cleaned_file("r2/habo.csv", r2, {"client_key": "x"}, municipality="Håbo"),
    ]
    period = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    first, risk, left_out = compile_at_round(files, r1, period)
    assert first.select("unit", "round").rows() == [("Sigtuna", r1)] and left_out == 0
    assert risk["rating"].to_list() == [3]
    # at the last round it is the national compilation itself
    last, last_risk, _ = compile_at_round(files, r2, period)
    national, national_risk, _ = compile_cases(files, r2, period=period)
    assert_frame_equal(last, national)
    assert_frame_equal(last_risk, national_risk)


def test_a_unit_keeps_its_final_name_in_an_earlier_round():
    """Huddinge reports through one unit in the first round and through two in the
    second: the first round's cases belong to the unit the final compilation names
    "Huddinge (Både myndighet och utförare)", so that unit's report keeps its first
    round (a plain "Huddinge" there is an area that no longer exists)."""
    r1, r2 = dt.date(2022, 6, 1), dt.date(2022, 10, 1)
    kw = {"municipality": "Huddinge"}
    files = [
        cleaned_file("r1/huddinge.csv", r1, {"client_key": "a", "risk_1_rating": "3"}, service_type=3, **kw),
        cleaned_file("r2/huddinge.csv", r2, {"client_key": "a"}, {"client_key": "b"}, service_type=3, **kw),
        cleaned_file("r2/huddinge-u.csv", r2, {"client_key": "x"}, service_type=2, **kw),
    ]
    period = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    names = assign_units(files)
    first, risk, _ = compile_at_round(files[:1], r1, period, names=names)
    assert first["unit"].to_list() == ["Huddinge (Både myndighet och utförare)"]
    assert risk["unit"].to_list() == first["unit"].to_list()
    assert compile_at_round(files[:1], r1, period)[0]["unit"].to_list() == ["Huddinge"]  # the files alone


def test_compile_at_round_leaves_out_cases_opened_after_the_round():
    r1 = dt.date(2022, 6, 1)
    files = [
        cleaned_file(
            "r1/sigtuna.csv",
            r1,
            {"client_key": "a", "risk_1_rating": "2"},
            {"client_key": "late", "opened": "2022-08-01", "risk_1_rating": "3"},
        )
    ]
    period = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert round_period(period, r1) == (dt.date(2022, 1, 1), r1)
    assert round_period(period, dt.date(2023, 3, 1)) == period
    cases, risk, left_out = compile_at_round(files, r1, period)
    assert cases["opened"].to_list() == [dt.date(2022, 3, 5)] and left_out == 1
    assert risk["case_id"].to_list() == cases["case_id"].to_list() and risk["rating"].to_list() == [2]
