"""Where a unit differs: the claims of the unit reports (reporting.area_claims)."""

from __future__ import annotations

import polars as pl

from kvinnofrid.reporting.area_claims import Difference, differences, differences_text
from kvinnofrid.reporting.numfmt import fmt_points


def _table(rows):
    return pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "category": pl.String,
            "n": pl.Int64,
            "denominator": pl.Int64,
            "suppressed": pl.Boolean,
        },
        orient="row",
    )


def test_a_real_difference_is_named_with_its_interval_and_a_small_one_is_not():
    t = _table(
        [
            ("U", "Ja", 60, 100, False),
            ("U", "Nej", 40, 100, False),
            ("K", "Ja", 160, 500, False),  # the others: 100 of 400 = 25 % against 60 %
            ("K", "Nej", 340, 500, False),
        ]
    )
    found = differences(t, "5", "Har våldet utövats i en hederskontext?", "U", [("K", "övriga i storleksklassen")])
    ja = next(d for d in found if d.category == "Ja")
    assert abs(ja.other_share - 0.25) < 1e-12 and ja.differs and ja.word == "högre"
    assert ja.low > 0.2 and ja.high < 0.5
    text = differences_text(found, "U")
    assert "60 % mot 25 % för övriga i storleksklassen, 35 procentenheter högre" in text.replace("\u00a0", " ")


def test_nothing_differs_is_said_and_hidden_rows_are_never_compared():
    t = _table(
        [
            ("U", "Ja", 26, 100, False),
            ("U", "Nej", None, 100, True),
            ("K", "Ja", 126, 500, False),  # others 100 of 400: 25 % against 26 %
            ("K", "Nej", 374, 500, False),
        ]
    )
    found = differences(t, "5", "Titel?", "U", [("K", "övriga i storleksklassen")])
    assert [d.category for d in found] == ["Ja"]  # the hidden row is not compared
    assert "Den enda andel som kan jämföras skiljer sig för U inte" in differences_text(found, "U")


def test_an_interval_bound_near_zero_is_never_printed_as_zero():
    """A difference counts when its interval leaves out 0; a lower bound of 0.4 points
    rounded to whole points would print "0 till 11" beside that claim."""
    near = Difference(
        "5", "Vem har initierat kontakt?", "Socialtjänsten", "U", "övriga riket", 0.29, 0.24, 0.05, 0.004, 0.11
    )
    assert near.differs
    sentence = near.sentence()
    assert "5 procentenheter högre" in sentence
    assert "skillnaden 0,4 till 11 procentenheter" in sentence
    below = Difference("5", "T?", "Ja", "U", "övriga riket", 0.20, 0.2004, -0.0004, -0.00049, -0.000031)
    assert "0,04 procentenheter lägre" in below.sentence()
    assert "skillnaden \u22120,05 till \u22120,003 procentenheter" in below.sentence()
    whole = Difference("5", "T?", "Ja", "U", "övriga riket", 0.6, 0.25, 0.35, 0.26, 0.44)
    assert (
        "35 procentenheter högre (95 % konfidensintervall för skillnaden 26 till 44 procentenheter)" in whole.sentence()
    )


def test_points_are_whole_unless_a_difference_that_is_not_zero_would_show_as_zero():
    assert [fmt_points(x) for x in (0.35, -0.104, 0.025, 0.0, 0.004, -0.0004, -0.00003)] == [
        "35",
        "\u221210",
        "3",  # half-up, as the shares beside it (fmt_pct)
        "0",
        "0,4",
        "\u22120,04",
        "\u22120,003",
    ]
