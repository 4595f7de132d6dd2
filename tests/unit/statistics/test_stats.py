"""Comparison statistics: test choice, Holm correction by hand, the groups compared."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats as sps
from support.cases import NO_RISK, make_cases, make_risk, synthetic

from kvinnofrid.stages.derive import derive_cases, risk_change
from kvinnofrid.statistics import stats
from kvinnofrid.statistics.stats import STATS_SCHEMA, build_stats, count_test, holm, two_by_two_test

D = dt.date
CLOSED = D(2022, 6, 1)


def test_small_cells_use_fisher():
    # [[1, 3], [3, 2]]: expected cells 1.8, 2.2, 2.2, 2.7 < 5
    test, p = two_by_two_test(1, 4, 3, 5)
    assert test == "fisher"
    assert p == pytest.approx(sps.fisher_exact([[1, 3], [3, 2]]).pvalue)


def test_large_cells_use_chi_square_without_correction():
    # [[30, 70], [50, 50]], expected [[40, 60], [40, 60]]:
    # χ² = 100/40 + 100/60 + 100/40 + 100/60 = 8.3333, 1 df
    test, p = two_by_two_test(30, 100, 50, 100)
    assert test == "chi2"
    assert p == pytest.approx(sps.chi2.sf(25 / 3, 1))
    assert p == pytest.approx(0.003892, abs=1e-6)


def test_empty_margin_gives_no_test():
    assert two_by_two_test(0, 0, 3, 5) == (None, None)
    assert two_by_two_test(0, 5, 0, 5) == (None, None)


def test_holm_by_hand():
    # sorted: 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_mann_whitney_for_counts():
    a, b = np.array([1.0, 2, 2, 3, 5]), np.array([1.0, 1, 1, 2])
    test, p = count_test(a, b)
    assert test == "mannwhitney"
    assert p == pytest.approx(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    assert count_test(a, np.array([])) == (None, None)


def hand_cases():
    return derive_cases(
        make_cases(
            [
                {"sex": 2, "honour_violence": 1, "interventions": [1, 2]},
                {"sex": 2, "honour_violence": 2, "interventions": [1]},
                {
                    "sex": 1,
                    "honour_violence": 1,
                    "interventions": [1, 2, 3],
                    "closed": CLOSED,
                    "goal_followup": 1,
                    "survey_change": 1,
                },  # top group, respondent
                {"sex": 1, "honour_violence": 2, "closed": CLOSED, "survey_change": 3},  # respondent
                {"sex": 1, "honour_violence": 2, "closed": CLOSED},  # non-respondent
                {"sex": 1, "honour_violence": 2, "interventions": [4]},  # open
            ]
        ),
        make_risk(
            [
                ("c1", 1, D(2022, 3, 2), 1, 5),
                ("c1", 2, D(2022, 4, 2), 1, 5),
                ("c3", 1, D(2022, 3, 2), 6, 7),
                ("c3", 2, D(2022, 4, 2), 6, 2),
            ]
        ),
    )


def test_men_versus_women_rows():
    derived = hand_cases()
    stats = build_stats(derived, risk_change(make_risk([])))
    assert stats.schema == STATS_SCHEMA
    men = stats.filter(pl.col("comparison") == "men")
    hrv = men.filter((pl.col("variable") == "honour_violence") & (pl.col("category") == "Ja")).row(0, named=True)
    # men: 1 of 2 HRV; women: 1 of 4
    assert (hrv["group_a"], hrv["n_a"], hrv["denominator_a"]) == ("Man", 1, 2)
    assert (hrv["group_b"], hrv["n_b"], hrv["denominator_b"]) == ("Kvinna", 1, 4)
    assert hrv["difference"] == pytest.approx(0.5 - 0.25)
    assert hrv["test"] == "fisher"
    means = men.filter(pl.col("variable") == "n_interventions").row(0, named=True)
    # among cases with ≥ 1 intervention: men (2, 1) -> 1.5; women (3, 1) -> 2.0
    assert (means["mean_a"], means["mean_b"]) == (1.5, 2.0)
    assert means["test"] == "mannwhitney"


def test_holm_within_each_comparison_family():
    stats = build_stats(*(lambda c, r: (derive_cases(c, r), risk_change(r)))(*synthetic(3, 250)))
    for name in stats["comparison"].unique().to_list():
        family = stats.filter(pl.col("comparison") == name)
        expected = holm(family["p_value"].to_list())
        got = family["p_holm"].to_list()
        assert [g is None for g in got] == [e is None for e in expected], name
        assert [g for g in got if g is not None] == pytest.approx([e for e in expected if e is not None])
    tested = stats.filter(pl.col("p_holm").is_not_null())
    assert (tested["significant"] == (tested["p_holm"] < 0.05)).all()
    assert set(stats["test"].drop_nulls()) <= {"chi2", "fisher", "mannwhitney"}


def test_top_group_against_the_rest_of_closed_cases():
    stats = build_stats(hand_cases())
    row = stats.filter(
        (pl.col("comparison") == "top_group") & (pl.col("variable") == "sex") & (pl.col("category") == "Kvinna")
    ).row(0, named=True)
    # top group: c3 only; rest of closed: c4, c5 (the open cases are not compared)
    assert (row["n_a"], row["denominator_a"], row["n_b"], row["denominator_b"]) == (1, 1, 2, 2)


def test_survey_dropout_respondents_against_closed_non_respondents():
    stats = build_stats(hand_cases())
    row = stats.filter(
        (pl.col("comparison") == "survey_dropout")
        & (pl.col("variable") == "honour_violence")
        & (pl.col("category") == "Ja")
    ).row(0, named=True)
    # respondents c3 (HRV), c4 (not); non-respondent c5 (not)
    assert (row["n_a"], row["denominator_a"], row["n_b"], row["denominator_b"]) == (1, 2, 0, 1)


def test_no_comparison_is_below_national_level():
    """The published comparisons hold no unprotected count of a size class or a unit:
    the size classes are compared from the protected tables (size_results)."""
    cases = make_cases([{"unit": u, "honour_violence": 1 + i % 2} for i, u in enumerate("aabbcc")])
    comparisons = build_stats(derive_cases(cases, NO_RISK))
    assert "size_class" not in set(comparisons["comparison"].to_list())
    assert not {"a", "b", "c"} & set(comparisons["group_a"].to_list() + comparisons["group_b"].to_list())


def test_repeated_risk_change_overall_and_top_group():
    derived = hand_cases()
    change = risk_change(
        make_risk(
            [
                ("c1", 1, D(2022, 3, 2), 1, 5),
                ("c1", 2, D(2022, 4, 2), 1, 5),
                ("c3", 1, D(2022, 3, 2), 6, 7),
                ("c3", 2, D(2022, 4, 2), 6, 2),
            ]
        )
    )
    stats = build_stats(derived, change)
    overall = stats.filter(pl.col("comparison") == "risk_change")
    assert overall["category"].to_list() == ["minskad", "oförändrad", "ökad"]
    assert overall["n_a"].to_list() == [1, 1, 0] and set(overall["denominator_a"]) == {2}
    freda = stats.filter(
        (pl.col("comparison") == "risk_change_instrument") & (pl.col("group_a") == "FREDA farlighetsbedömning")
    )
    assert freda["n_a"].to_list() == [0, 1, 0]
    top = stats.filter(pl.col("comparison") == "risk_change_top_group")
    # c3 is in the top group and decreased; c1 is not and unchanged
    assert top["n_a"].to_list() == [1, 0, 0] and top["n_b"].to_list() == [0, 1, 0]


def test_stats_are_deterministic():
    cases, risk = synthetic(5, 150)
    derived = derive_cases(cases, risk)
    first = build_stats(derived, risk_change(risk))
    second = build_stats(derive_cases(cases, risk), risk_change(risk))
    assert_frame_equal(first, second)


def test_duration_by_closing_reason_and_youngest():
    opened = D(2022, 1, 1)

    def closed(days, reason, **extra):
        return {"opened": opened, "closed": opened + dt.timedelta(days=days - 1), "closing_reason": reason, **extra}

    derived = derive_cases(
        make_cases(
            [
                closed(10, 1, age=20, violence_severity=3),
                closed(20, 1, age=40, violence_severity=1),
                closed(100, 3, age=22, violence_severity=3),
                {"closing_reason": 4, "age": 60},  # open
            ]
        ),
        NO_RISK,
    )
    stats = build_stats(derived)
    rows = stats.filter(pl.col("comparison") == "duration_closing_reason")
    assert rows["mean_a"].to_list() == [15.0, 15.0]
    assert rows["mean_b"].to_list() == [100.0, None]
    assert rows["test"].to_list() == ["mannwhitney", None]
    young = stats.filter(
        (pl.col("comparison") == "youngest")
        & (pl.col("variable") == "violence_severity")
        & (pl.col("category") == "Mycket grovt")
    ).row(0, named=True)
    assert (young["group_a"], young["n_a"], young["denominator_a"]) == ("18–24", 2, 2)
    assert (young["n_b"], young["denominator_b"]) == (0, 1)


def test_wilson_interval_matches_published_values():
    # Newcombe (1998), Table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611
    low, high = stats.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = stats.wilson_interval(15, 148)
    assert (round(low, 4), round(high, 4)) == (0.0624, 0.1605)
    low, high = stats.wilson_interval(0, 20)
    assert low == 0.0 and round(high, 4) == 0.1611
    assert stats.wilson_interval(0, 0) is None


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_wilson_interval_takes_the_normal_quantile_of_its_level(level):
    # the quantile is cached per level: every level must still get its own
    from kvinnofrid.statistics.tables import wilson_interval as vectorised

    z = float(sps.norm.ppf(0.5 + level / 2))
    low, high = stats.wilson_interval(15, 148, level)
    expected = vectorised([15], [148], z=z)
    assert low == pytest.approx(float(expected[0][0]), abs=1e-12)
    assert high == pytest.approx(float(expected[1][0]), abs=1e-12)


def test_share_difference_interval_matches_newcombe():
    # Newcombe (1998), Table II, method 10: 56/70 − 48/80 = 0.2 → 0.0524–0.3339;
    # 9/10 − 3/10 = 0.6 → 0.1705–0.8090
    diff, low, high = stats.share_difference_interval(56, 70, 48, 80)
    assert round(diff, 4) == 0.2 and (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    diff, low, high = stats.share_difference_interval(9, 10, 3, 10)
    assert round(diff, 4) == 0.6 and (round(low, 4), round(high, 4)) == (0.1705, 0.8090)
    assert stats.share_difference_interval(1, 0, 2, 5) is None
