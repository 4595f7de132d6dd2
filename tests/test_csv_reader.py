"""The polars CSV reading gives exactly what Python's csv module gives: the same cells
(an empty field null or "": both an empty cell) and the same line per record, or it
steps aside (None) for the module to read (or refuse, with the located error) what it
cannot vouch for."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kvinnofrid.stages.csv_reader import _UnbalancedQuotes, csv_records, csv_table
from kvinnofrid.stages.grid import cell_name


def empty_is_null(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.String).replace("", None))


def module_frame(text: str, delimiter: str) -> pl.DataFrame:
    """The frame the csv module's records give (as csv_grid builds it)."""
    records = csv_records(text, delimiter)
    width = max((len(fields) for _, fields in records), default=0)
    return pl.DataFrame(
        {
            **{
                cell_name(i): pl.Series([f[i] if i < len(f) else None for _, f in records], dtype=pl.String)
                for i in range(width)
            },
            "row": pl.Series([line for line, _ in records], dtype=pl.Int32),
        }
    )


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=["a", " ", '"', ";", ",", "\r", "\n", "\t", "å", "\x0c", "\u2028", "|"], max_size=40),
    st.sampled_from([";", ",", "\t", "|"]),
)
def test_the_same_records_as_the_csv_module_or_none(text, delimiter):
    table = csv_table(text, delimiter)
    try:
        expected = module_frame(text, delimiter)
    except _UnbalancedQuotes:
        assert table is None
        return
    if table is not None:
        assert_frame_equal(empty_is_null(table), empty_is_null(expected))


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_quoted_delimiters_line_breaks_and_quotes_take_the_fast_path(newline):
    text = (
        newline.join(
            [
                "Klient;Datum för aktualisering;Kommentar",
                'K1;2023-01-05;"ringde; igen"',
                "",
                f'K2;2023-02-01;"två{newline}rader med ""citat"""',
                'K3;"2023-03-01";',
                "K4;2023-04-01;x;extra",
            ]
        )
        + newline
    )
    table = csv_table(text, ";")
    assert table is not None  # none of it needs the csv module
    assert_frame_equal(empty_is_null(table), empty_is_null(module_frame(text, ";")))
    assert table["row"].to_list() == [1, 2, 3, 4, 6, 7]
    assert table["c2"].to_list()[3] == f'två{newline}rader med "citat"'


@pytest.mark.parametrize("text", ['a;b"c\nd;e\n', 'a;"b\nc;d\n', 'a;"b"c\n', "a;\x00b\n", "a;b\rc;d\r"])
def test_what_the_fast_path_cannot_vouch_for_goes_to_the_csv_module(text):
    assert csv_table(text, ";") is None
