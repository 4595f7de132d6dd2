"""Swedish number formats: exact strings (NBSP = U+00A0 as thousands separator and before %)."""

import datetime as dt
import math

import jinja2
import pytest

from kvinnofrid.reporting.numfmt import (
    MINUS,
    MISSING,
    NBSP,
    fmt_date,
    fmt_dec,
    fmt_int,
    fmt_num,
    fmt_pct,
    register_filters,
)


def test_the_separator_is_no_break_space():
    assert NBSP == "\u00a0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (3070, "3\u00a0070"),
        (1023, "1\u00a0023"),
        (1000000, "1\u00a0000\u00a0000"),
        (2622.5, "2\u00a0623"),  # half-up, not half-even
        (-3070, MINUS + "3\u00a0070"),
    ],
)
def test_fmt_int(value, expected):
    assert fmt_int(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.4, 1, "2,4"),
        (2.44, 1, "2,4"),
        (2.45, 1, "2,5"),  # half-up on the decimal as written
        (3.0, 1, "3,0"),
        (0.125, 2, "0,13"),
        (1234.56, 1, "1\u00a0234,6"),
        (-0.5, 1, MINUS + "0,5"),
    ],
)
def test_fmt_dec(value, digits, expected):
    assert fmt_dec(value, digits) == expected


@pytest.mark.parametrize(
    ("share", "digits", "expected"),
    [
        (0.9376, 0, "94\u00a0%"),
        (0.06, 0, "6\u00a0%"),
        (0.005, 0, "1\u00a0%"),
        (0.0049, 0, "0\u00a0%"),
        (1.0, 0, "100\u00a0%"),
        (0.2345, 1, "23,5\u00a0%"),
        (12.345, 0, "1\u00a0235\u00a0%"),
    ],
)
def test_fmt_pct(share, digits, expected):
    assert fmt_pct(share, digits) == expected


def test_fmt_num_drops_decimals_only_for_whole_numbers():
    assert fmt_num(3) == "3"
    assert fmt_num(3.0) == "3"
    assert fmt_num(2.4) == "2,4"
    assert fmt_num(12000) == "12\u00a0000"


def test_missing_values_are_an_en_dash():
    for fmt in (fmt_int, fmt_dec, fmt_pct, fmt_num, fmt_date):
        assert fmt(None) == MISSING == "\u2013"
    assert fmt_pct(math.nan) == MISSING


def test_fmt_date_is_iso():
    assert fmt_date(dt.date(2023, 10, 10)) == "2023-10-10"
    assert fmt_date(dt.datetime(2023, 1, 2, 13, 45)) == "2023-01-02"
    assert fmt_date("2022-01-01") == "2022-01-01"


def test_not_a_number_is_a_value_error():
    with pytest.raises(ValueError, match="inget tal"):
        fmt_int("tre")


def test_jinja_filters():
    env = register_filters(jinja2.Environment())
    text = env.from_string(
        "{{ n | fmt_int }} ärenden, {{ s | fmt_pct }} kvinnor, {{ m | fmt_dec }} insatser, {{ s | fmt_pct(1) }}"
    ).render(n=3070, s=0.9376, m=2.44)
    assert text == "3\u00a0070 ärenden, 94\u00a0% kvinnor, 2,4 insatser, 93,8\u00a0%"
