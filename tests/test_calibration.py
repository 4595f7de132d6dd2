"""Calibration of the demo data against the published report, and hand-checked
measures on tiny frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from kvinnofrid import calibration, codebook
from kvinnofrid.simulate import SimulationSettings, simulate_rounds

KINDS = {"share", "count", "mean", "denominator", "difference"}
RELATIONS = {"eq", "gt", "ge", "lt", "abs_le"}


@pytest.fixture(scope="module")
def report() -> pl.DataFrame:
    final = simulate_rounds(SimulationSettings())[-1]
    return calibration.calibration_report(final.cases, final.risk)


def test_every_published_value_within_tolerance(report):
    failing = report.filter(pl.col("within") == False)  # noqa: E712
    listing = "\n".join(
        f"  diagram {r['diagram']}: {r['measure']}: published {r['published']}, generated {r['generated']}"
        f" (tolerance {r['tolerance']}, {r['relation']})"
        for r in failing.iter_rows(named=True)
    )
    assert failing.height == 0, f"{failing.height} values outside tolerance:\n{listing}"


def test_only_documented_deviations_are_unchecked(report):
    unchecked = report.filter(pl.col("within").is_null())
    assert unchecked.select("diagram", "measure").rows() == [
        ("16", "N [denominator]"), ("17", "N [denominator]")]
    assert unchecked["note"].null_count() == 0


def test_report_columns_and_summary(report):
    assert report.columns[:6] == ["diagram", "measure", "published", "generated", "tolerance", "within"]
    assert report.height == calibration.reference_values().height
    assert report["generated"].is_nan().sum() == 0
    text = calibration.format_report(report)
    assert text.splitlines()[-1].startswith(f"{report['within'].sum()} of {report['within'].count()} within tolerance")


def test_reference_values_file_is_well_formed():
    ref = calibration.reference_values()
    assert ref.height > 200
    assert set(ref["kind"]) <= KINDS
    assert set(ref["relation"]) <= RELATIONS
    assert ref.select("diagram", "category", "kind").is_unique().all()
    diagrams = {d for d in ref["diagram"] if d.isdigit()}
    assert diagrams == {str(i) for i in range(1, 28)}
    assert (ref["tolerance"] > 0).all()


# ------------------------------------------------------------------ tiny frames
def tiny_cases(rows: list[dict]) -> pl.DataFrame:
    """Case frame with every canonical column; unspecified values null."""
    schema = {"unit": pl.String, "client": pl.String, "handler": pl.String,
              **dict(codebook.case_schema()), "survey_suggestions": pl.String}
    full = []
    for i, row in enumerate(rows):
        base = {name: None for name in schema}
        base.update(unit="u", client=f"K{i}", handler="H1", opened=dt.date(2023, 1, 1), municipality="X",
                    service_type=1)
        base.update(row)
        full.append(base)
    return pl.DataFrame(full, schema=schema)


NO_RISK = pl.DataFrame(schema={"unit": pl.String, "client": pl.String, "opened": pl.Date,
                               **dict(codebook.risk_schema())})


def test_sex_shares_use_valid_values_only():
    cases = tiny_cases([{"sex": 1}, {"sex": 1}, {"sex": 1}, {"sex": 2}, {"sex": None}])
    v = calibration.generated_values(cases, NO_RISK)
    assert v[("2", "N", "denominator")] == 4
    assert v[("2", "Kvinna", "share")] == pytest.approx(75.0)
    assert v[("2", "Man", "count")] == 1


def test_duration_is_inclusive_and_binned_by_90_days():
    opened = dt.date(2023, 1, 1)
    cases = tiny_cases([
        {"closed": opened},                          # 1 day
        {"closed": dt.date(2023, 3, 31)},            # 90 days
        {"closed": dt.date(2023, 4, 1)},             # 91 days
        {"closed": None},                            # open: not counted
    ])
    v = calibration.generated_values(cases, NO_RISK)
    assert v[("16", "N", "denominator")] == 3
    assert v[("16", "1–90", "count")] == 2
    assert v[("16", "91–180", "count")] == 1
    assert v[("1", "Avslutade", "count")] == 3
    assert v[("1", "Ej avslutade", "count")] == 1


def test_number_of_collaboration_partners():
    cases = tiny_cases([
        {"collaboration": [11]},        # Ingen samverkan: 0 partners
        {"collaboration": [1, 7]},      # 2 partners
        {"collaboration": [7]},         # 1 partner
        {"collaboration": None},        # not recorded: outside diagram 13
    ])
    v = calibration.generated_values(cases, NO_RISK)
    assert v[("13", "N", "denominator")] == 3
    for k in ("0", "1", "2"):
        assert v[("13", k, "share")] == pytest.approx(100 / 3)
    assert v[("12", "N", "denominator")] == 2
    assert v[("12", "Annan verksamhet inom socialtjänsten", "share")] == pytest.approx(100.0)
    assert v[("12", "Antal samverkansparter per ärende med samverkan", "mean")] == pytest.approx(1.5)


def test_mean_interventions_and_risk_measures():
    d = dt.date(2023, 1, 1)
    cases = tiny_cases([
        {"interventions": [3, 4, 7], "honour_violence": 1},
        {"interventions": [4], "honour_violence": 2},
        {"interventions": None, "honour_violence": 2},   # no intervention: outside diagram 10
    ])
    risk = pl.DataFrame(
        {"unit": ["u"] * 5, "client": ["K0", "K0", "K1", "K1", "K1"], "opened": [d] * 5,
         "position": [1, 2, 1, 2, 3], "date": [d, dt.date(2023, 2, 1), d, dt.date(2023, 3, 1), dt.date(2023, 2, 1)],
         "instrument": [1, 1, 6, 6, 1], "rating": [5, 5, 6, 4, 5]},
        schema={"unit": pl.String, "client": pl.String, "opened": pl.Date, **dict(codebook.risk_schema())},
    )
    v = calibration.generated_values(cases, risk)
    assert v[("10", "Genomsnitt", "mean")] == pytest.approx(2.0)
    assert v[("10", "HRV", "mean")] == pytest.approx(3.0)
    assert v[("10", "Bedömningsinstrument har använts", "mean")] == pytest.approx(2.0)
    assert v[("26", "Ja", "count")] == 2
    assert v[("27", "FREDA farlighetsbedömning", "share")] == pytest.approx(100.0)
    # K0: 5 → 5 unchanged; K1 by date: 6, 5, 4 → changed: 1 of 2 unchanged
    assert calibration._unchanged_rating_share(risk) == pytest.approx(50.0)
