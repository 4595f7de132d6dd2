"""Calibration of the demo data against the published report (through the national
tables, the stats comparisons and the facts), the demo tables written as CSV and read
back by the comparison script, and the calibration's own measures on tiny frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from kvinnofrid.demo import calibration, comparison
from kvinnofrid.demo.simulate import SimulationSettings, simulate_rounds
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.stages.derive import derive_cases
from kvinnofrid.statistics.tables import write_tables

KINDS = {"share", "count", "mean", "denominator", "difference"}
RELATIONS = {"eq", "gt", "ge", "lt", "abs_le"}


@pytest.fixture(scope="module")
def final():
    return simulate_rounds(SimulationSettings())[-1]


@pytest.fixture(scope="module")
def outputs(final) -> dict:
    return calibration.pipeline_outputs(final.cases, final.risk)


@pytest.fixture(scope="module")
def report(final) -> pl.DataFrame:
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
    assert unchecked.select("diagram", "measure").rows() == [("16", "N [denominator]"), ("17", "N [denominator]")]
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
    assert diagrams == {str(n) for n in load_registry().numbers}  # every diagram of the report
    assert (ref["tolerance"] > 0).all()


def test_diagram_values_are_the_tables_values(outputs, report):
    """The calibration's diagram rows are compare_tables on the pipeline's tables."""
    compared = comparison.compare_tables(outputs["tables"])
    table_rows = report.join(compared.select("diagram", "measure"), on=["diagram", "measure"], how="semi")
    assert table_rows.height == compared.height == comparison.table_reference().height
    assert table_rows.select(compared.columns[:6]).equals(compared.select(compared.columns[:6]))


def test_comparison_script_on_demo_tables(outputs, tmp_path, capsys):
    """Issue "tables": the demo tables as CSV, every table value within tolerance."""
    write_tables(outputs["tables"], tmp_path)
    assert comparison.main([str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    n = comparison.table_reference().filter(pl.col("expected_deviation").is_null()).height
    assert last.startswith(f"{n} av {n} inom tolerans")


# ------------------------------------------------------------------ tiny frames
def tiny_cases(rows: list[dict]) -> pl.DataFrame:
    """Case frame with every canonical column; unspecified values null."""
    schema = {
        "unit": pl.String,
        "client": pl.String,
        "handler": pl.String,
        **dict(codebook.case_schema()),
        "survey_suggestions": pl.String,
    }
    full = []
    for i, row in enumerate(rows):
        base = dict.fromkeys(schema)
        base.update(
            unit="u", client=f"K{i}", handler="H1", opened=dt.date(2023, 1, 1), municipality="X", service_type=1
        )
        base.update(row)
        full.append(base)
    return calibration.with_case_id(pl.DataFrame(full, schema=schema))


def tiny_risk(rows: list[tuple[str, int]]) -> pl.DataFrame:
    """(client, instrument) assessments on the tiny cases."""
    d = dt.date(2023, 1, 1)
    frame = pl.DataFrame(
        {
            "unit": ["u"] * len(rows),
            "client": [c for c, _ in rows],
            "opened": [d] * len(rows),
            "position": list(range(1, len(rows) + 1)),
            "date": [d] * len(rows),
            "instrument": [k for _, k in rows],
            "rating": [None] * len(rows),
        },
        schema={"unit": pl.String, "client": pl.String, "opened": pl.Date, **dict(codebook.risk_schema())},
    )
    return calibration.with_case_id(frame)


def test_case_id_from_unit_client_opened():
    cases = tiny_cases([{}, {}])
    assert cases["case_id"].to_list() == ["u|K0|2023-01-01", "u|K1|2023-01-01"]
    assert calibration.with_case_id(cases).equals(cases)  # an existing case_id is kept


def test_own_values_initiative_codes_and_instrument_union():
    cb = codebook.load()
    victim_support = cb["initiative"].codes[cb["initiative"].labels.index("Brottsofferjour")]
    cases = tiny_cases([{"initiative": [victim_support, 1]}, {"initiative": [1]}, {"initiative": None}])
    instruments = cb["risk_assessments"]
    sara, freda = (instruments.codes[instruments.labels.index(x)] for x in ("SARA", "FREDA farlighetsbedömning"))
    risk = tiny_risk([("K0", sara), ("K0", freda), ("K1", freda), ("K1", freda)])
    own = calibration._own_values(derive_cases(cases, risk))
    assert own[("6", "Brottsofferjour", "count")] == 1
    assert own[("6", "Rättsväsende", "count")] == 0
    # K0 has SARA, K1 only FREDA: 1 of the 2 cases with an instrument
    assert own[("27", "SARA, Patriark eller annan bedömningsmetod", "share")] == pytest.approx(50.0)
