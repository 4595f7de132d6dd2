"""Key shares per round: the same numbers as the national tables, the previous
report's values from the caller, interim vs final."""

import datetime as dt

import polars as pl
import pytest

from kvinnofrid import trend
from kvinnofrid.derive import derive_cases
from kvinnofrid.tables import build_table, wilson_interval
from test_tables import synthetic

INTERIM, FINAL = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
PREVIOUS = {"share_women": 0.91, "share_hrv": 0.15, "share_risk_assessed": 0.75,
            "share_survey_improved": 0.78}


@pytest.fixture(scope="module")
def rounds():
    cases, risk = synthetic(seed=11, n=400)
    final = derive_cases(cases, risk)
    interim = derive_cases(cases.filter(pl.col("opened") <= INTERIM), risk)
    return {FINAL: final, INTERIM: interim}      # given out of order on purpose


@pytest.fixture(scope="module")
def result(rounds):
    return trend.round_trend(rounds, PREVIOUS)


def test_columns_and_rows(result):
    assert result.schema == trend.TREND_SCHEMA
    assert result.height == 4 * 3
    first = result.filter(pl.col("measure") == "share_women")
    assert first["source"].to_list() == ["Tidigare rapport 2019–2020", "Preliminär sammanställning",
                                         "Slutlig sammanställning"]
    assert first["round"].to_list() == [None, INTERIM, FINAL]
    assert first["share"][0] == 0.91 and first["n"][0] is None


@pytest.mark.parametrize("measure, diagram, category", [
    ("share_women", 2, "Kvinna"), ("share_hrv", 5, "Ja"), ("share_risk_assessed", 26, "Ja"),
])
def test_shares_equal_the_national_tables(rounds, result, measure, diagram, category):
    for round_date, derived in rounds.items():
        table = build_table(diagram, derived).filter(pl.col("category") == category)
        row = result.filter((pl.col("measure") == measure) & (pl.col("round") == round_date))
        assert row.select("n", "denominator", "share", "ci_low", "ci_high").row(0) == \
            table.select("n", "denominator", "share", "ci_low", "ci_high").row(0)


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
    out = trend.round_trend({FINAL: rounds[FINAL]}, {"share_hrv": 0.2}, previous_label="Förra omgången",
                            measures=[trend.DEFAULT_MEASURES[1]], sources={"final": "Slutlig"})
    assert out["source"].to_list() == ["Förra omgången", "Slutlig"]
    assert out["share"][0] == 0.2
    with pytest.raises(ValueError, match="okända mått"):
        trend.round_trend({FINAL: rounds[FINAL]}, {"nope": 0.5})
    with pytest.raises(ValueError, match="finns inte"):
        trend.round_trend({FINAL: rounds[FINAL]}, {}, measures=[
            {"id": "x", "label": "x", "diagram": 2, "categories": ["Okänd"]}])


def test_prebuilt_tables_are_used(rounds):
    tables = {FINAL: {2: build_table(2, rounds[FINAL])}}
    out = trend.round_trend({FINAL: rounds[FINAL]}, {}, measures=[trend.DEFAULT_MEASURES[0]],
                            tables_by_round=tables)
    assert out["share"].item() == tables[FINAL][2].filter(pl.col("category") == "Kvinna")["share"].item()
