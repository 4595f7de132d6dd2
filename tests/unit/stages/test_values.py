"""Parsing every column of a kind at once (stages/values.py): each column by its own
variable's options, the unknown texts located by row, and the same values as parsing
the columns one by one."""

from __future__ import annotations

import polars as pl
import pytest

from kvinnofrid.stages.distinct import per_distinct, per_distinct_columns
from kvinnofrid.stages.values import (
    code_lists,
    lookup,
    option_codes,
    parse_date_expr,
    parse_dates,
    unparsed,
    value_key_expr,
)


def pool(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    located = {"_f": pl.Series([0] * n, dtype=pl.UInt32), "_idx": list(range(n)), "row": [i + 2 for i in range(n)]}
    return pl.DataFrame(located | columns)


def test_each_column_reads_its_own_variable_s_options():
    # "Man" is an option of sex, not of honour_violence; "3" is an option of origin
    # and not of sex: the same text gets a code in one column and none in the other.
    frame = pool(
        sex=["Man", "2. Man", "3", None],
        origin=["3", " 1 ", "Man", "1.0"],
        honour_violence=["Man", None, None, None],
    )
    out = option_codes(frame, {"sex": "sex", "origin": "origin", "honour_violence": "honour_violence"})
    assert out["_sex_code"].to_list() == [2, 2, None, None]
    assert out["_origin_code"].to_list() == [3, 1, None, 1]
    assert out["_honour_violence_code"].to_list() == [None, None, None, None]
    assert out.schema["_sex_code"] == pl.Int8


def test_the_codes_equal_parsing_each_column_alone():
    texts = ["1", "kvinna", "2 - Man", "Okänt", None, "2:man", "Vet ej", "1,0"]
    frame = pool(sex=texts, change_goal=list(reversed(texts)))
    together = option_codes(frame, {"sex": "sex", "change_goal": "change_goal"})
    for column in ("sex", "change_goal"):
        table = lookup(column)  # the variable's own spellings, looked up row by row
        code = value_key_expr(pl.col(column)).replace_strict(table["key"], table["code"], default=None)
        alone = frame.select(code.cast(pl.Int8).alias("code"))["code"]
        assert together[f"_{column}_code"].to_list() == alone.to_list()


def test_a_column_without_any_text_gets_no_codes():
    frame = pool(sex=pl.Series([None, None], dtype=pl.String))
    assert option_codes(frame, {"sex": "sex"})["_sex_code"].to_list() == [None, None]


def test_unparsed_names_each_column_s_rows_and_text_only_where_a_text_gave_nothing():
    frame = option_codes(pool(sex=["Man", "Robot", None], origin=["1", "9", "x"]), {"sex": "sex", "origin": "origin"})
    bad = unparsed(frame, {"sex": "_sex_code", "origin": "_origin_code"})
    assert bad["sex"].select("row", "text").rows() == [(3, "Robot")]
    assert bad["origin"].select("row", "text").rows() == [(3, "9"), (4, "x")]
    clean = option_codes(pool(sex=["Man"]), {"sex": "sex"})
    assert unparsed(clean, {"sex": "_sex_code"}) == {}


def test_code_lists_are_sorted_unique_codes_and_unknown_tokens_are_listed_by_row_and_position():
    frame = pool(
        interventions=[["4", "1", "4"], ["Robot", "2", "Drake"], ["Robot"], None],
        collaboration=[["1"], None, [" "], ["1"]],
    )
    out, bad = code_lists(frame, ["interventions", "collaboration"])
    assert out["_interventions_codes"].to_list() == [[1, 4], [2], None, None]
    assert out["_collaboration_codes"].to_list() == [[1], None, None, [1]]
    assert bad["interventions"].select("row", "text").rows() == [(3, "Robot"), (3, "Drake"), (4, "Robot")]
    assert "collaboration" not in bad


def test_a_plain_text_cell_is_split_like_ingest_splits_it():
    out, bad = code_lists(pool(interventions=["1;4", "2, 3", None]), ["interventions"])
    assert out["_interventions_codes"].to_list() == [[1, 4], [2, 3], None]
    assert bad == {}


def test_dates_of_several_columns_equal_parsing_each_alone():
    frame = pool(closed=["2023-01-02", "44927", "x", None], support_started=["20230102", "2023-01-02 10:00", None, "y"])
    out = parse_dates(frame, ["closed", "support_started"])
    for column in ("closed", "support_started"):
        alone = frame.select(parse_date_expr(pl.col(column)).alias("d"))["d"]
        assert out[f"_{column}_date"].to_list() == alone.to_list()


@pytest.mark.parametrize("values", [["a", "B", None, "a"], [None, None, None, None]])
def test_per_distinct_columns_equals_per_distinct_on_each_column(values):
    frame = pl.DataFrame({"x": values, "y": list(reversed(values))}, schema={"x": pl.String, "y": pl.String})
    together = per_distinct_columns(frame, {"x": "x_out", "y": "y_out"}, lambda e: e.str.to_uppercase(), pl.String)
    for column in ("x", "y"):
        alone = per_distinct(frame, column, lambda e: e.str.to_uppercase(), f"{column}_out", pl.String)
        assert together[f"{column}_out"].to_list() == alone[f"{column}_out"].to_list()
