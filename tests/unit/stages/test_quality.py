"""Tests of the quality outputs: summary.csv rows and the per-unit HTML page."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.raw_rows import PERIOD, key, meta_for, raw_frame

from kvinnofrid.spec import codebook
from kvinnofrid.spec.rules import OUTCOME_LABELS, RULES
from kvinnofrid.stages.clean import AccountingError, CleanResult, clean_file
from kvinnofrid.stages.compile import assign_units, compile_cases
from kvinnofrid.stages.quality import not_exports_table, quality_summary, render_unit_page, summary_schema, unit_pages

R1, R2 = dt.date(2022, 6, 1), dt.date(2022, 10, 1)


def cleaned_file(file, rnd, *rows, municipality="Sigtuna", service_type=1, **meta_extra):
    raw = raw_frame(*({"municipality": municipality, **r} for r in rows))
    meta = meta_for(raw, file=file, round=rnd, municipality=municipality, service_type=service_type, **meta_extra)
    return meta, clean_file(raw, meta, PERIOD, rnd)


DEFECTIVE_ROWS = (
    {"client_key": "anna", "handler_key": "handl-x", "sex": "Kvinna"},
    {"client_key": "anna", "handler_key": "handl-x"},  # duplicate -> quarantine
    {"client_key": None},  # key missing -> quarantine
    {"client_key": "bo", "opened": "2019-01-01"},  # outside period -> exclude
    {"client_key": "cia", "age": "16"},  # under 18 -> exclude
    {"client_key": "dan", "age": "gammal", "sex": "Okänd", "closed": "2022-02-30"},
    {"client_key": "eva", "survey_change": "1", "goal_followup": "1"},
)


@pytest.fixture
def two_rounds():
    local = {
        "file": "2022-06-01/sigtuna.csv",
        "row": None,
        "column": "Egen <kolumn>",
        "variable": None,
        "rule": "local_variable",
        "value": None,
    }
    first = cleaned_file(
        "2022-06-01/sigtuna.csv",
        R1,
        *DEFECTIVE_ROWS,
        {"client_key": "gone"},
        issues=[local],
        local_variables=[{"name": "Egen <kolumn>", "filled": 4}],
    )
    second = cleaned_file(
        "2022-10-01/sigtuna.csv", R2, *DEFECTIVE_ROWS, {"client_key": "ny", "comments": 3, "has_suggestion": True}
    )
    other = cleaned_file("2022-10-01/habo.csv", R2, {"client_key": "x"}, municipality="Håbo")
    return [first, second, other]


def test_summary_columns_and_counts(two_rounds):
    _, _, warnings = compile_cases(two_rounds, cutoff=R2)
    summary = quality_summary(two_rounds, warnings)
    assert summary.columns == ["round", "unit", "rows_read", "rows_used", "rows_excluded", "rows_quarantined", *RULES]
    assert summary.schema == summary_schema()
    assert summary.select("round", "unit").rows() == [(R1, "Sigtuna"), (R2, "Håbo"), (R2, "Sigtuna")]
    first = summary.row(0, named=True)
    assert (first["rows_read"], first["rows_used"], first["rows_excluded"], first["rows_quarantined"]) == (8, 4, 2, 2)
    assert first["case_key_missing"] == first["duplicate_case_key"] == 1
    assert first["opened_outside_period"] == first["age_under_18"] == 1
    assert first["age_not_a_number"] == first["unknown_value"] == first["invalid_date"] == 1
    assert first["survey_answers_on_open_case"] == first["goal_followup_without_closing_date"] == 1  # eva
    assert first["local_variable"] == 1
    assert first["case_missing_from_later_export"] == 0
    latest = summary.filter((pl.col("unit") == "Sigtuna") & (pl.col("round") == R2)).row(0, named=True)
    assert latest["case_missing_from_later_export"] == 1  # "gone", counted in the compiled round
    for r in summary.iter_rows(named=True):
        assert r["rows_read"] == r["rows_used"] + r["rows_excluded"] + r["rows_quarantined"]


def test_summary_csv_is_deterministic(two_rounds, tmp_path):
    _, _, warnings = compile_cases(two_rounds, cutoff=R2)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    quality_summary(two_rounds, warnings).write_csv(a)
    quality_summary(list(reversed(two_rounds)), warnings).write_csv(b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().splitlines()[0].startswith("round,unit,rows_read,rows_used,rows_excluded,rows_quarantined,")


def test_summary_invariant_is_checked(two_rounds):
    _meta, result = two_rounds[0]
    result.counts = {**result.counts, "rows_used": result.counts["rows_used"] - 1}
    with pytest.raises(AccountingError, match="Sigtuna"):
        quality_summary(two_rounds)


def test_summary_of_nothing_is_empty():
    assert quality_summary([]).schema == summary_schema()


def test_unit_page_content(two_rounds):
    _, _, warnings = compile_cases(two_rounds, cutoff=R2)
    html = render_unit_page("Sigtuna", two_rounds[:2], warnings)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="sv">' in html
    for rule_name in (
        "case_key_missing",
        "duplicate_case_key",
        "opened_outside_period",
        "age_under_18",
        "age_not_a_number",
        "unknown_value",
        "invalid_date",
        "survey_answers_on_open_case",
        "case_missing_from_later_export",
        "local_variable",
    ):
        # the Swedish name (linked to its section where the export in use has the remark)
        assert f">{RULES[rule_name].title}<" in html
        assert f'id="{rule_name}"' in html or f'id="{rule_name}-' in html
        assert RULES[rule_name].description in html
        assert RULES[rule_name].advice in html
    assert "age_above_110" not in html  # only rules that occurred
    assert "<code>" not in html  # no code names a reader has to decode
    # row numbers, columns and non-personal values are shown
    assert re.search(r"2022-06-01/sigtuna.csv</td><td class=\"num\">3</td><td>Datum för aktualisering \(5\)", html)
    # rejected texts are described by kind, never echoed; dates can be shown
    assert "gammal" not in html and "Okänd" not in html and "2019-01-01" in html
    assert "(text med 6 tecken)" in html and "(text med 5 tecken)" in html
    # what was read, accounting, local variables (escaped), comment counts
    assert "semikolon (;)" in html and "utf-8" in html
    assert "Egen &lt;kolumn&gt;" in html and "<kolumn>" not in html
    assert "Ifyllda kommentarsfält: 3" in html and "(217): 1" in html
    assert "Håbo" not in html  # another unit's warnings and files are not shown
    # outcome labels from the rule vocabulary, the adult age from the codebook
    assert OUTCOME_LABELS["quarantine"] in html and OUTCOME_LABELS["exclude"] in html
    assert f"klient under {codebook.load().derived['adult_age']} år" in html


def test_unit_page_never_shows_identifiers(two_rounds):
    cases, _, warnings = compile_cases(two_rounds, cutoff=R2)
    pages = unit_pages(two_rounds, warnings)
    assert set(pages) == {"sigtuna", "habo"}
    secrets = [key(n) for n in ("anna", "bo", "cia", "dan", "eva", "gone", "ny", "x", "handl-x", "klient-1", "handl-1")]
    secrets += cases["case_id"].to_list()
    for html in pages.values():
        for s in secrets:
            assert s not in html
            assert s[:16] not in html


def test_personal_values_are_blanked_even_if_an_issue_carries_them():
    raw = raw_frame({"client_key": "anna"})
    leak = {
        "file": "f.csv",
        "row": 2,
        "column": "Klient (4)",
        "variable": "client",
        "rule": "unknown_value",
        "value": "Anna Andersson",
    }
    leak2 = {
        "file": "f.csv",
        "row": 2,
        "column": "Ursprung – Kommentar",
        "variable": None,
        "rule": "unknown_value",
        "value": "hemlig kommentar",
    }
    leak3 = {"file": "f.csv", "row": 2, "column": "X", "variable": None, "rule": "unknown_value", "value": key("anna")}
    meta = meta_for(
        raw,
        file="f.csv",
        issues=[leak, leak2, leak3],
        columns={"Klient (4)": "client", "Ursprung – Kommentar": "comment"},
    )
    result = clean_file(raw, meta, PERIOD, R2)
    html = render_unit_page("Sigtuna", [(meta, result)])
    assert "Anna Andersson" not in html and "hemlig kommentar" not in html and key("anna") not in html
    title = RULES["unknown_value"].title
    assert html.count(f">{title}</a>") == 1 and html.count(f"Kontroll: {title}") == 1  # summary + section


def test_long_issue_lists_are_cut():
    rows = [{"client_key": f"k{i}", "sex": "fel"} for i in range(12)]
    meta, result = cleaned_file("r/s.csv", R2, *rows)
    html = render_unit_page("Sigtuna", [(meta, result)], max_rows_per_rule=5)
    assert "och 7 till" in html


def test_clean_unit_page_says_no_issues():
    meta, result = cleaned_file("r/s.csv", R2, {"client_key": "a"})
    html = render_unit_page("Sigtuna", [(meta, result)])
    assert "Inga anmärkningar" in html and "Inga lokala variabler" in html


def test_outputs_from_written_files_equal_the_in_memory_ones(two_rounds, tmp_path):
    cases, risk, warnings = compile_cases(two_rounds, cutoff=R2)
    back_full, back_light = [], []
    for i, (meta, result) in enumerate(two_rounds):
        paths = {n: tmp_path / f"{i}.{n}" for n in ("cases", "risk", "rejected", "issues", "report")}
        result.write(**paths, meta=meta)
        back_full.append(CleanResult.read(**paths))
        back_light.append(CleanResult.read(report=paths["report"], issues=paths["issues"]))
    cases2, risk2, warnings2 = compile_cases(back_full, cutoff=R2)
    assert_frame_equal(cases2, cases)
    assert_frame_equal(risk2, risk)
    assert_frame_equal(warnings2, warnings)
    units_csv = tmp_path / "units.csv"
    assign_units(two_rounds).write_csv(units_csv)
    summary = quality_summary(back_light, warnings, units=pl.read_csv(units_csv, try_parse_dates=True))
    assert_frame_equal(summary, quality_summary(two_rounds, warnings))
    assert unit_pages(back_light, warnings)["sigtuna"] == unit_pages(two_rounds, warnings)["sigtuna"]


def test_files_that_are_not_exports_are_listed_by_round_and_path():
    table = not_exports_table(
        [
            {"round": "2023-10-10", "file": "~$a.xlsx", "reason": "låsfil"},
            {"round": "2023-05-15", "file": "Thumbs.db", "reason": "systemfil"},
        ]
    )
    assert table.rows() == [("2023-05-15", "Thumbs.db", "systemfil"), ("2023-10-10", "~$a.xlsx", "låsfil")]
    assert not_exports_table([]).columns == ["round", "file", "reason"]


def test_the_overview_counts_each_rule_in_the_export_in_use_and_in_replaced_ones(two_rounds):
    # the page's overview table: per rule that occurred, its remarks in the newest round's
    # export and in the exports it replaced, counted from the remarks themselves
    _, _, warnings = compile_cases(two_rounds, cutoff=R2)
    files = two_rounds[:2]
    html = render_unit_page("Sigtuna", files, warnings)
    rows = re.findall(
        r"<tr><td>(?:<a href=\"#[^\"]+\">)?([^<]+)(?:</a>)?</td><td>[^<]*</td>"
        r"<td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td></tr>",
        html,
    )
    issues = pl.concat(
        [result.issues.select("rule").with_columns(pl.lit(result.round).alias("round")) for _, result in files]
        + [warnings.filter(pl.col("unit") == "Sigtuna").select("rule", pl.col("round").cast(pl.Date))]
    )
    latest = max(result.round for _, result in files)
    expected = {
        RULES[rule].title: (str(total), str(current))
        for rule, total, current in issues.group_by("rule").agg(pl.len(), (pl.col("round") == latest).sum()).rows()
    }
    assert len(rows) == len(expected) >= 5
    assert {title: (str(int(c) + int(e)), c) for title, c, e in rows} == expected
    assert any(int(e) > 0 for _, _, e in rows) and any(int(c) > 0 for _, c, _ in rows)
