"""Rejected values: shown only when they cannot be personal (stages/redaction.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvinnofrid.stages.redaction import looks_like_personal_number, personal_number_expr, shown_value


@pytest.mark.parametrize(
    "text",
    [
        "19850412-1234",
        "850412-1234",
        "198504121234",
        "8504121234",
        "850412+1234",
        "850472-1234",  # samordningsnummer: day + 60
        "20011231 1234",
        "pnr 850412-1234 enl. klient",
        "Ålder: 19850412-1234",
    ],
)
def test_personal_numbers_are_recognised(text):
    assert looks_like_personal_number(text)
    assert shown_value(text) == "(ser ut som ett personnummer)"


@pytest.mark.parametrize(
    "text",
    [
        "2022-03-05",
        "2022-03-05 00:00:00",
        "20220305",
        "34",
        "150",
        "34 år",
        "1234",
        "851312-1234",  # month 13
        "850400-1234",  # day 00
        "850432-1234",  # day 32, not a coordination day either
        "12345678901234",  # 14 digits: no number boundary
    ],
)
def test_other_values_are_not_personal_numbers(text):
    assert not looks_like_personal_number(text)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("34", "34"),
        (" 150 ", "150"),
        ("2,5", "2,5"),
        ("-1", "-1"),
        ("2022-13-45", "2022-13-45"),
        ("2022-03-05 00:00:00", "2022-03-05 00:00:00"),
        ("20221345", "20221345"),
        ("5/3/2022", "5/3/2022"),
        ("7.", "7."),
        ("12b", "12b"),
        ("X", "X"),
        ("#N/A", "#N/A"),
        ("#DIV/0!", "#DIV/0!"),
        ("Anna", "(text med 4 tecken)"),
        ("Eva", "(text med 3 tecken)"),
        ("Li", "(text med 2 tecken)"),
        ("Anna Svensson", "(text med 13 tecken)"),
        ("1234", "(tal med 4 siffror)"),
        ("123456789", "(tal med 9 siffror)"),
        ("19850412-1234", "(ser ut som ett personnummer)"),
        ("ring henne på 070-1234567", "(text med 25 tecken)"),
        ("", None),
        (None, None),
    ],
)
def test_shown_value(value, shown):
    assert shown_value(value) == shown


def test_expression_works_column_wise():
    frame = pl.DataFrame({"v": ["850412-1234", "34", None, "Kalle"]})
    flags = frame.select(personal_number_expr(pl.col("v"))).to_series().to_list()
    assert flags == [True, False, False, False]


NAME = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzåäöABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖ -"), min_size=2, max_size=40
).filter(lambda s: sum(c.isalpha() for c in s) >= 2)


@settings(max_examples=300, deadline=None)
@given(NAME)
def test_a_name_is_never_shown(name):
    shown = shown_value(name)
    assert shown is None or shown.startswith("(")


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=20),
    st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
    st.integers(0, 9999),
    st.sampled_from(["-", "+", "", " "]),
    st.booleans(),
    st.text(max_size=20),
)
def test_a_personal_number_inside_any_text_is_never_shown(before, born, last4, sep, century, after):
    date = born.strftime("%Y%m%d" if century else "%y%m%d")
    number = f"{date}{sep}{last4:04d}"
    # the surrounding text must not glue digits onto the number
    text = (before.rstrip("0123456789") + " " + number + " " + after.lstrip("0123456789")).strip()
    assert looks_like_personal_number(text)
    assert shown_value(text) == "(ser ut som ett personnummer)"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_whatever_is_shown_cannot_be_personal(text):
    shown = shown_value(text)
    if shown is None or shown.startswith("("):
        return
    assert not looks_like_personal_number(shown)
    letters = sum(c.isalpha() for c in shown)
    assert letters <= 1 or shown.startswith("#")
    assert sum(c.isdigit() for c in shown) <= 3 or (shown[:1].isdigit() and len(shown) <= 19)
