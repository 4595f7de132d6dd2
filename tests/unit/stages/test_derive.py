"""Derived variables on tiny hand-made frames; every expected value worked out by hand."""

import dataclasses
import datetime as dt

import pytest
from polars.testing import assert_frame_equal
from support.cases import NO_RISK, make_cases, make_risk

from kvinnofrid.spec import codebook
from kvinnofrid.stages.derive import derive_cases, initiative_groups, risk_change

D = dt.date


def derived(rows, risk=NO_RISK):
    return derive_cases(make_cases(rows), risk)


def test_age_group_bounds_and_missing():
    ages = [18, 24, 25, 44, 45, 64, 65, 74, 75, 99, None]
    out = derived([{"age": a} for a in ages])["age_group"].to_list()
    assert out == ["18–24", "18–24", "25–34", "35–44", "45–54", "55–64", "65–74", "65–74", "75–", "75–", None]


def test_closed_duration_inclusive_and_invalid():
    opened = D(2022, 3, 1)
    rows = [
        {"closed": opened},  # same day -> 1
        {"closed": D(2022, 3, 2)},  # next day -> 2
        {"closed": D(2022, 2, 28)},  # before opening -> no duration, still closed
        {"closed": None},  # open
        {"opened": None, "closed": D(2022, 5, 1)},  # opening missing
    ]
    out = derived(rows)
    assert out["is_closed"].to_list() == [True, True, True, False, True]
    assert out["duration_days"].to_list() == [1, 2, None, None, None]


@pytest.mark.parametrize(
    "days, label",
    [
        (1, "1–90"),
        (90, "1–90"),
        (91, "91–180"),
        (180, "91–180"),
        (181, "181–270"),
        (720, "631–720"),
        (721, "721–"),
        (5000, "721–"),
    ],
)
def test_duration_bin_edges(days, label):
    opened = D(2022, 1, 1)
    out = derived([{"opened": opened, "closed": opened + dt.timedelta(days=days - 1)}])
    assert out["duration_days"].item() == days
    assert out["duration_bin"].item() == label


def test_duration_bin_labels_come_from_the_codebook():
    assert codebook.load().duration_bin_labels()[0] == "1–90"
    assert codebook.load().duration_bin_labels()[-1] == "721–"


def test_interventions_count_has_and_housing():
    rows = [
        {"interventions": None},  # none -> 0
        {"interventions": [4]},  # 1, no housing
        {"interventions": [10, 4, 15]},  # 3, housing (10), honour option counted
        {"interventions": [13]},  # housing (13)
        {"interventions": []},  # empty list -> 0
    ]
    out = derived(rows)
    assert out["n_interventions"].to_list() == [0, 1, 3, 1, 0]
    assert out["has_intervention"].to_list() == [False, True, True, True, False]
    assert out["housing_intervention"].to_list() == [False, False, True, True, False]


def test_n_partners():
    rows = [
        {"collaboration": [11]},  # only Ingen samverkan -> 0
        {"collaboration": None},  # empty -> null
        {"collaboration": [1, 5, 7]},  # 3
        {"collaboration": [9]},  # 1
        {"collaboration": [1, 11]},  # partner plus "none" -> 1
    ]
    assert derived(rows)["n_partners"].to_list() == [0, None, 3, 1, 1]


def test_initiative_groups_once_each_in_group_order():
    rows = [
        {"initiative": [3, 5]},  # both Socialtjänsten -> once
        {"initiative": [12, 1]},  # Brottsofferjour is Annat; order = group order
        {"initiative": None},
        {"initiative": [2, 8, 10, 11, 13]},
    ]
    out = derived(rows)["initiative_groups"].to_list()
    assert out == [
        ["Socialtjänsten"],
        ["Klienten själv", "Annat"],
        None,
        ["Polis", "Hälso- och sjukvård", "Anhörig/vän", "Kvinnojour", "Via partnerkontaktverksamhet"],
    ]
    every_group = derived([{"initiative": list(range(1, 15))}])["initiative_groups"].to_list()
    assert every_group == [[g["label"] for g in codebook.load().derived["initiative_groups"]]]


def test_a_codebook_with_more_initiative_groups_than_the_mask_holds_is_refused():
    cb = codebook.load()
    groups = [{"label": f"Grupp {i}", "codes": [i]} for i in range(17)]
    with pytest.raises(ValueError, match="at most 16 groups, not 17"):
        initiative_groups(dataclasses.replace(cb, derived=cb.derived | {"initiative_groups": groups}))


def test_risk_assessed_and_instruments():
    risk = make_risk(
        [
            ("c1", 1, D(2022, 3, 2), 1, 5),
            ("c1", 2, D(2022, 4, 2), 1, 3),
            ("c2", 1, None, 6, None),  # talk without a method, no rating: still assessed
            ("c3", 1, None, None, 4),  # instrument missing: assessed, no instrument
        ]
    )
    out = derived([{}, {}, {}, {}], risk)
    assert out["risk_assessed"].to_list() == [True, True, True, False]
    assert out["risk_instruments"].to_list() == [[1], [6], None, None]


def test_top_group_goal_reached_survey_answered():
    closed = D(2022, 6, 1)
    rows = [
        {"closed": closed, "goal_followup": 1, "survey_change": 1},  # top group
        {"closed": None, "goal_followup": 1, "survey_change": 1},  # open: not top group
        {"closed": closed, "goal_followup": 2, "survey_change": 1},  # partly: goal reached
        {"closed": closed, "goal_followup": 3, "survey_influence": 6},  # Vet inte is an answer
        {"closed": closed},  # nothing
        {"closed": None, "survey_positive": 1},  # open: not counted
    ]
    out = derived(rows)
    assert out["top_group"].to_list() == [True, False, False, False, False, False]
    assert out["goal_reached"].to_list() == [True, True, True, False, False, False]
    assert out["survey_answered"].to_list() == [True, False, True, True, False, False]


def test_derive_keeps_rows_and_order():
    cases = make_cases([{"age": 30}, {"age": 40}, {"age": 50}])
    out = derive_cases(cases, NO_RISK)
    assert out.height == 3
    assert_frame_equal(out.select(cases.columns), cases)


def test_risk_change_orders_by_date_then_position():
    risk = make_risk(
        [
            # c1: positions out of date order; first by date = position 2 (rating 8),
            # last by date = position 1 (rating 3) -> change -5, minskad
            ("c1", 1, D(2022, 5, 1), 1, 3),
            ("c1", 2, D(2022, 3, 1), 1, 8),
            # c2: same date -> position decides: first pos 1 (4), last pos 3 (4) -> oförändrad;
            # pos 2 has no rating and is ignored; instruments differ
            ("c2", 3, D(2022, 3, 1), 6, 4),
            ("c2", 1, D(2022, 3, 1), 1, 4),
            ("c2", 2, D(2022, 3, 1), 1, None),
            # c3: one rated assessment only -> left out
            ("c3", 1, D(2022, 3, 1), 1, 2),
            ("c3", 2, D(2022, 4, 1), 1, None),
            # c4: undated after dated: first 2 (dated), last 9 (undated) -> ökad
            ("c4", 1, None, 6, 9),
            ("c4", 2, D(2022, 3, 1), 6, 2),
        ]
    )
    out = risk_change(risk)
    assert out["case_id"].to_list() == ["c1", "c2", "c4"]
    assert out["change"].to_list() == [-5, 0, 7]
    assert out["category"].to_list() == ["minskad", "oförändrad", "ökad"]
    assert out["same_instrument"].to_list() == [True, False, True]
    assert out["instrument"].to_list() == [1, None, 6]
    assert out["n_rated"].to_list() == [2, 2, 2]
